//! The `jsjob` command. Thin: parses the command line, sets up logging and the runtime, and calls the
//! library; every error reaches the user as one line.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use eyre::WrapErr;

/// jsjob: a market for JavaScript jobs on Ethereum.
#[derive(Debug, Parser)]
#[command(name = "jsjob", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Start a fresh anvil, deploy the contracts, and drive one job through its whole lifecycle and a
    /// second one through a dispute, printing every step.
    Demo {
        /// Keep anvil running at the end (until Ctrl-C) to look around with `cast`.
        #[arg(long)]
        keep_running: bool,
    },
    /// The whole market on this machine: anvil, the contracts, the content store, W workers and a verifier
    /// as child processes, the example jobs on both engines in a live table, then a summary (results and
    /// their checks, payments, bonds slashed, gas per job). Ctrl-C stops everything.
    Devnet(jsjob::market::DevnetArgs),
    /// The content store (IPFS, Kubo-identical CIDs): add, cat, serve.
    Ipfs {
        #[command(subcommand)]
        command: jsjob_store::cli::IpfsCommand,
    },
    /// Run a job locally in the sandbox, as a worker would: print its output on stdout, and its CID, the
    /// engine and the time on stderr.
    Run {
        /// The job's code (defines `jsJobRun(input, options, callback)`).
        job: std::path::PathBuf,
        /// The input file (parsed when it is JSON); none: empty input.
        input: Option<std::path::PathBuf>,
        /// The engine: `v8` (the pinned Deno) or `quickjs` (QuickJS-ng in `jsjob-sandbox`).
        #[arg(long, default_value = "v8", value_parser = ["v8", "quickjs"])]
        engine: String,
        /// The job's options, as JSON text.
        #[arg(long)]
        options: Option<String>,
    },
    /// Watch the agency and work jobs for pay: claim, run, submit, finalize, withdraw.
    Worker(jsjob::roles::cli::WorkerArgs),
    /// Re-run submitted jobs and challenge wrong results; with --juror also judge the jury's disputes and run
    /// its audits (--leave: leave the jury).
    Verify(jsjob::roles::cli::VerifyArgs),
    /// Post a job (CODE and INPUT are files or CIDs); prints its id.
    Post(jsjob::roles::cli::PostArgs),
    /// Show the agency's jobs (or one) and the account's credit; with --local, this agent's own records.
    Status(jsjob::roles::cli::StatusArgs),
    /// Print (or save) a job's result, verified against its CID.
    Result(jsjob::roles::cli::ResultArgs),
    /// Withdraw the account's credit.
    Withdraw(jsjob::roles::cli::WithdrawArgs),
}

impl Command {
    /// Whether logs are JSON lines.
    fn json_logs(&self) -> bool {
        match self {
            Self::Demo { .. } | Self::Devnet(_) | Self::Ipfs { .. } | Self::Run { .. } => false,
            Self::Worker(args) => args.common.json_logs(),
            Self::Verify(args) => args.common.json_logs(),
            Self::Post(args) => args.common.json_logs(),
            Self::Status(args) => args.common.json_logs(),
            Self::Result(args) => args.common.json_logs(),
            Self::Withdraw(args) => args.common.json_logs(),
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // The devnet draws a table on stdout: its own steps are not logged unless RUST_LOG asks.
    init_logging(cli.command.json_logs(), matches!(cli.command, Command::Devnet(_)));
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            // One line: the error and its causes, outermost first, each said once.
            let error: &(dyn std::error::Error + 'static) = error.as_ref();
            eprintln!("error: {}", jsjob::report::one_line(error));
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> eyre::Result<()> {
    let runtime =
        tokio::runtime::Builder::new_current_thread().enable_all().build().wrap_err("starting the runtime")?;
    let mut say = |line: &str| println!("{line}");
    runtime.block_on(async {
        match cli.command {
            Command::Demo { keep_running } => {
                let options = jsjob::demo::Options { start_dir: None };
                let mut say = |line: &str| println!("{line}");
                // Dropping the demo on a signal kills anvil and any job process (kill_on_drop).
                let (_report, anvil) = tokio::select! {
                    finished = jsjob::demo::run(&options, &mut say) => finished.wrap_err("demo failed")?,
                    signal = interrupted() => eyre::bail!("interrupted by {signal}"),
                };
                if keep_running {
                    println!("anvil    still running at {}; press Ctrl-C to stop it", anvil.endpoint());
                    interrupted().await;
                }
                anvil.stop().await;
                Ok(())
            }
            Command::Devnet(args) => {
                let mut out = std::io::stdout();
                jsjob::market::run(args, interrupted(), &mut out).await.wrap_err("devnet")?;
                Ok(())
            }
            Command::Ipfs { command } => {
                let shutdown = async {
                    interrupted().await;
                };
                jsjob_store::cli::run(command, &mut std::io::stdout(), shutdown).await.wrap_err("ipfs")
            }
            Command::Run { job, input, engine, options } => {
                use std::io::Write;
                let kind =
                    if engine == "quickjs" { jsjob::exec::EngineKind::QuickJs } else { jsjob::exec::EngineKind::V8 };
                let run = jsjob::exec::run_local(kind, &job, input.as_deref(), options.as_deref())
                    .await
                    .wrap_err_with(|| format!("running {}", job.display()))?;
                let mut stdout = std::io::stdout().lock();
                stdout.write_all(&run.output.bytes).and_then(|()| stdout.flush()).wrap_err("writing the output")?;
                let fuel = run.output.fuel.map(|fuel| format!(", fuel {fuel}")).unwrap_or_default();
                eprintln!(
                    "\n{} bytes, cid {}, engine {}, {} ms{fuel}",
                    run.output.bytes.len(),
                    run.cid,
                    run.engine,
                    run.output.elapsed.as_millis()
                );
                Ok(())
            }
            Command::Worker(args) => Ok(jsjob::roles::cli::worker(args, stopped()).await?),
            Command::Verify(args) => Ok(jsjob::roles::cli::verify(args, stopped(), &mut say).await?),
            Command::Post(args) => Ok(jsjob::roles::cli::post(args, &mut say).await?),
            Command::Status(args) => Ok(jsjob::roles::cli::status(args, &mut say).await?),
            Command::Result(args) => Ok(jsjob::roles::cli::result(args, &mut say).await?),
            Command::Withdraw(args) => Ok(jsjob::roles::cli::withdraw(args, &mut say).await?),
        }
    })
}

/// Resolves on Ctrl-C or SIGTERM, after logging which.
async fn stopped() {
    let signal = interrupted().await;
    tracing::info!(signal, "stopping");
}

/// Resolves on Ctrl-C (SIGINT) or SIGTERM, naming it.
async fn interrupted() -> &'static str {
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => tokio::select! {
            _ = tokio::signal::ctrl_c() => "Ctrl-C",
            _ = term.recv() => "SIGTERM",
        },
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
            "Ctrl-C"
        }
    }
}

/// Logs go to stderr, human-readable or (with `json`) one JSON object a line, filtered by `RUST_LOG`
/// (`warn`, and `info` for the agent's own steps, when unset), e.g. `RUST_LOG=jsjob=debug`.
fn init_logging(json: bool, quiet: bool) {
    let filter = std::env::var("RUST_LOG")
        .ok()
        .and_then(|spec| spec.parse::<tracing_subscriber::filter::Targets>().ok())
        .unwrap_or_else(|| {
            let targets = tracing_subscriber::filter::Targets::new().with_default(tracing::Level::WARN);
            if quiet { targets } else { targets.with_target("jsjob::roles", tracing::Level::INFO) }
        });
    use tracing_subscriber::{layer::SubscriberExt, util::SubscriberInitExt};
    let layer = tracing_subscriber::fmt::layer().with_writer(std::io::stderr);
    if json {
        tracing_subscriber::registry().with(layer.json()).with(filter).init();
    } else {
        tracing_subscriber::registry()
            .with(layer.with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr())))
            .with(filter)
            .init();
    }
}
