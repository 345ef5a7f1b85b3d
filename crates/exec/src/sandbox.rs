//! The agent's side of a sandbox: starting engine processes under limits, a warm pool of them, handing
//! one job to one process, and reading its outcome.
//!
//! Every process runs in a cleared environment (`TZ=UTC`, `LANG=C`), in its own process group (killed
//! whole at the deadline), under rlimits set before it gets its job: CPU seconds, data segment, file size 0
//! (it can write no file), no core dumps. `RLIMIT_AS` cannot be used: V8 reserves tens of GiB of address space up front.

use std::{
    collections::VecDeque,
    ffi::OsString,
    os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd},
    path::{Path, PathBuf},
    process::{ExitStatus, Stdio},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use tokio::{
    io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt},
    net::unix::pipe,
    process::{Child, Command},
};

use crate::{
    Engine, Error, JobInput, Limits, Output, Result,
    wire::{self, FRAME_HEAD, Header, Status},
    zygote::{Forked, Zygote},
};

/// The Deno host, after the prelude; together they are the V8 sandbox's main module.
const DENO_HOST: &str = include_str!("deno_host.js");
/// The trusted prelude both engines run before the job.
pub(crate) const PRELUDE: &str = include_str!("prelude.js");
/// How much of a process's stderr is kept for an error message.
const KEEP_STDERR: usize = 8 * 1024;
/// A `DENO_DIR` that cannot be created (a path under a character device): Deno caches and persists
/// nothing (its `localStorage` would outlive the job otherwise).
const NO_DENO_DIR: &str = "/dev/null/deno";
/// What V8 needs in its data segment besides the JavaScript heap: about 560 MiB to start, measured.
const V8_DATA_BASE_MIB: u64 = 640;
/// What the QuickJS sandbox needs besides the job's heap and its input and output buffers.
const QUICKJS_DATA_BASE_MIB: u64 = 64;
/// glibc's malloc settings for the QuickJS zygote and its job processes. `hugetlb=1`: transparent huge
/// pages for the heap (a job that builds big data, as the 1 MB JSON transform's 13 MiB, takes a third of the
/// page faults). The threshold and the trim: blocks up to 32 MiB (the request, the input as a JavaScript
/// string, the output) come from that heap rather than from a fresh mapping each (4 KiB pages, one fault
/// each), and freed memory is kept rather than given back and faulted in again; a job process lives for
/// one job, so there is nothing to give back for. Half the page faults of the 1 MB JSON job again (see the
/// crate's README).
const QUICKJS_MALLOC: &str =
    "glibc.malloc.hugetlb=1:glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=4294967295";
/// Processes kept started and waiting, per engine, unless changed with [`Sandbox::with_pool`].
const DEFAULT_POOL: usize = 2;
/// The size the pipes to and from a sandbox process are grown to: the most an unprivileged process may
/// ask by default (fs.pipe-max-size).
const PIPE_SIZE: libc::c_int = 1 << 20;
/// The environment variable that names the QuickJS sandbox binary.
const SANDBOX_ENV: &str = "JSJOB_SANDBOX";
/// The QuickJS sandbox binary's file name.
const SANDBOX_NAME: &str = "jsjob-sandbox";

/// An engine: a kind of sandbox process, its limits, and a warm pool of such processes.
#[derive(Debug)]
pub struct Sandbox {
    id: String,
    limits: Limits,
    /// Extra wall time past `limits.time` before the agent kills the process: QuickJS stops the job itself
    /// at the limit and reports it with its fuel; V8 has no such stop.
    grace: Duration,
    pool: Arc<Pool>,
}

/// How to start one sandbox process.
#[derive(Debug)]
struct Launcher {
    program: PathBuf,
    args: Vec<OsString>,
    env: Vec<(&'static str, &'static str)>,
    /// RLIMIT_DATA, bytes.
    data: u64,
    /// RLIMIT_CPU, seconds.
    cpu: u64,
}

/// Started processes waiting for their job.
#[derive(Debug)]
struct Pool {
    launcher: Launcher,
    /// Where QuickJS's processes come from: forks of a warm zygote (see [`crate::zygote`]) rather than
    /// `exec`s of the launcher's command. V8 has none (Deno is multi-threaded: it cannot be forked).
    zygote: Option<Zygote>,
    /// The waiting processes, or `None` once the pool is closed (its `Sandbox` dropped): then nothing is
    /// started any more, and a process a refill was starting is stopped at once.
    idle: Mutex<Option<VecDeque<Process>>>,
    /// Processes whose job is over, killed, not yet reaped.
    dying: Mutex<Vec<Child>>,
    size: Mutex<usize>,
}

impl Sandbox {
    /// V8 through the Deno binary at `deno`; the id is `v8/deno-<version>` from `deno --version`.
    pub async fn v8(deno: &Path, limits: Limits) -> Result<Self> {
        let text = version_line(deno, &[]).await?;
        // "deno 2.9.6 (stable, release, x86_64-unknown-linux-gnu)"
        let version = text
            .strip_prefix("deno ")
            .and_then(|rest| rest.split_whitespace().next())
            .ok_or_else(|| Error::Version(deno.display().to_string()))?;
        let main = format!("const prelude = {PRELUDE};\n{DENO_HOST}");
        let args = [
            "run",
            "--no-prompt",
            "--no-remote",
            "--no-npm",
            "--no-config",
            "--no-lock",
            "--quiet",
            // Whatever randomness the prelude does not replace is at least the same on every run.
            "--seed=0",
        ]
        .into_iter()
        .map(OsString::from)
        .chain([
            format!("--v8-flags=--max-old-space-size={},--stack-size=984", limits.memory_mib).into(),
            format!("data:text/javascript;base64,{}", base64(main.as_bytes())).into(),
        ])
        .collect();
        let launcher = Launcher {
            program: deno.to_owned(),
            args,
            env: vec![("DENO_DIR", NO_DENO_DIR), ("DENO_NO_UPDATE_CHECK", "1"), ("NO_COLOR", "1")],
            data: (u64::from(limits.memory_mib) + V8_DATA_BASE_MIB) << 20,
            cpu: cpu_seconds(limits.time),
        };
        Ok(Self::start(format!("v8/deno-{version}"), limits, Duration::ZERO, launcher, None))
    }

    /// QuickJS-ng in the `jsjob-sandbox` binary at `binary` (see [`find_sandbox_binary`]); the id is
    /// `quickjs-ng/<version>` as the binary reports it from the engine.
    pub async fn quickjs(binary: &Path, limits: Limits) -> Result<Self> {
        let id = version_line(binary, &["--version"]).await?;
        if !id.starts_with("quickjs-ng/") {
            return Err(Error::Version(binary.display().to_string()));
        }
        let buffers = (limits.input as u64) * 3 + (limits.output as u64) * 2;
        let launcher = Launcher {
            program: binary.to_owned(),
            args: vec![
                "--memory-mib".into(),
                limits.memory_mib.to_string().into(),
                "--time-ms".into(),
                limits.time.as_millis().to_string().into(),
            ],
            env: Vec::new(),
            data: ((u64::from(limits.memory_mib) + QUICKJS_DATA_BASE_MIB) << 20) + buffers,
            cpu: cpu_seconds(limits.time),
        };
        let zygote = {
            let (program, args, data, cpu) =
                (launcher.program.clone(), launcher.args.clone(), launcher.data, launcher.cpu);
            Zygote::new(
                move || {
                    use std::os::unix::process::CommandExt;
                    let mut command = std::process::Command::new(&program);
                    command
                        .arg("--zygote")
                        .args(&args)
                        // Each job process sets its own CPU limit: the zygote's CPU time adds up over its life.
                        .arg("--job-cpu-seconds")
                        .arg(cpu.to_string())
                        .env_clear()
                        .env("TZ", "UTC")
                        .env("LANG", "C")
                        .env("GLIBC_TUNABLES", QUICKJS_MALLOC)
                        .process_group(0);
                    command
                },
                // The job processes inherit the data, file-size and core limits.
                move |pid| set_limits(pid, libc::RLIM_INFINITY, data),
            )
        };
        Ok(Self::start(id, limits, Duration::from_millis(250), launcher, Some(zygote)))
    }

    fn start(id: String, limits: Limits, grace: Duration, launcher: Launcher, zygote: Option<Zygote>) -> Self {
        let pool = Arc::new(Pool {
            launcher,
            zygote,
            idle: Mutex::new(Some(VecDeque::new())),
            dying: Mutex::new(Vec::new()),
            size: Mutex::new(DEFAULT_POOL),
        });
        pool.fill();
        Self { id, limits, grace, pool }
    }

    /// Keeps `size` processes started and waiting (0: start each job's process on demand).
    pub fn with_pool(self, size: usize) -> Self {
        *self.pool.size.lock().unwrap_or_else(|poison| poison.into_inner()) = size;
        let dropped: Vec<Process> =
            self.pool.idle().as_mut().map(|idle| idle.drain(size.min(idle.len())..).collect()).unwrap_or_default();
        dropped.into_iter().for_each(stop);
        self.pool.fill();
        self
    }

    /// The limits every job of this engine runs under.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Checks the job against the limits and encodes its request's head (the input follows it).
    fn request_head(&self, job: &JobInput<'_>) -> Result<Vec<u8>> {
        let limits = &self.limits;
        let options_len = job.options.map_or(0, <[u8]>::len);
        if job.code.len() > limits.code {
            return Err(Error::TooLarge { what: "code", size: job.code.len(), limit: limits.code });
        }
        if job.input.len() + options_len > limits.input {
            return Err(Error::TooLarge { what: "input", size: job.input.len() + options_len, limit: limits.input });
        }
        let code = std::str::from_utf8(job.code)
            .map_err(|e| Error::BadJob(format!("the code is not UTF-8 text (at byte {})", e.valid_up_to())))?;
        // A job outcome, not a refusal: the code is what it is on every worker.
        if let Some(at) = wire::find_import(code) {
            return Err(Error::JobError(format!(
                "the code names `import` (at byte {at}): jobs cannot load modules; bundle everything into the \
                 job's code (and avoid the word even in strings and comments)"
            )));
        }
        let options = job
            .options
            .map(|options| {
                String::from_utf8(options.to_vec()).map_err(|e| {
                    Error::BadJob(format!("the options are not UTF-8 text (at byte {})", e.utf8_error().valid_up_to()))
                })
            })
            .transpose()?;
        let seed = job.seed.0.iter().map(|b| format!("{b:02x}")).collect();
        let header = Header { code: code.to_owned(), options, seed, output_limit: limits.output };
        Ok(wire::encode_request_head(&header))
    }

    fn crash(&self, detail: String) -> Error {
        Error::EngineCrash { engine: self.id.clone(), detail }
    }
}

impl Engine for Sandbox {
    fn id(&self) -> &str {
        &self.id
    }

    async fn run(&self, job: JobInput<'_>) -> Result<Output> {
        let head = self.request_head(&job)?;
        let taken = self
            .pool
            .take()
            .map_err(|source| Error::Spawn { program: self.pool.launcher.program.display().to_string(), source })?;
        // Once this job is over, whatever its end, its process is killed and left to the pool to reap, and the
        // pool refilled: a new process then competes neither with this job for the CPU nor with its answer
        // for this thread.
        let mut process = JobProcess { pool: &self.pool, child: Some(taken) };
        let started = Instant::now();
        let io = |source| Error::Io { engine: self.id.clone(), source };
        let Some(child) = process.child.as_mut() else {
            return Err(io(std::io::Error::other("no sandbox process")));
        };
        let (mut stdin, stdout, stderr) = child.pipes().map_err(io)?;
        // stderr is drained all along (a job that prints much must not block on a full pipe) but only read
        // when there is no answer.
        let diagnostics = tokio::spawn(read_capped(stderr, KEEP_STDERR));
        let run = async {
            let write = async move {
                // A process that fails at once may close stdin early; its answer or exit status tells why.
                if stdin.write_all(&head).await.is_ok() {
                    let _ = stdin.write_all(job.input).await;
                }
            };
            let cap = FRAME_HEAD + self.limits.output.max(KEEP_STDERR);
            let ((), answer) = tokio::join!(write, read_answer(stdout, cap));
            let answer = answer?;
            // A complete answer is all there is to wait for: the process is killed when the job is over,
            // without waiting for the engine to tear down. Otherwise its exit status and stderr tell why.
            if wire::decode_answer(&answer).is_some() {
                return Ok((answer, None));
            }
            if answer.len() > cap {
                // More than any answer can be, and the rest unread: the process would block on the pipe.
                child.start_kill();
            }
            let status = child.ended(self.pool.zygote.as_ref()).await?;
            Ok::<_, std::io::Error>((answer, Some(status)))
        };
        let finished = tokio::time::timeout(self.limits.time + self.grace, run).await;
        let Ok(finished) = finished else {
            diagnostics.abort();
            child.kill_now().await;
            return Err(Error::Timeout(self.limits.time));
        };
        let elapsed = started.elapsed();
        let (stdout, status) = finished.map_err(io)?;
        let stderr = match status {
            Some(_) => diagnostics.await.ok().and_then(Result::ok).map(|(bytes, _)| bytes).unwrap_or_default(),
            None => {
                diagnostics.abort();
                Vec::new()
            }
        };
        let stderr = String::from_utf8_lossy(&stderr);
        match wire::decode_answer(&stdout) {
            Some((Status::Ok, fuel, bytes)) => {
                let fuel = (self.grace > Duration::ZERO).then_some(fuel);
                tracing::debug!(engine = %self.id, bytes = bytes.len(), ?elapsed, ?fuel, "job ran");
                Ok(Output { bytes: bytes.to_vec(), elapsed, fuel })
            }
            Some((Status::JobError, _, message)) => Err(Error::JobError(String::from_utf8_lossy(message).into_owned())),
            Some((Status::OutOfMemory, _, _)) => Err(Error::OutOfMemory(self.limits.memory_mib)),
            Some((Status::OutputTooLarge, _, _)) => Err(Error::OutputTooLarge(self.limits.output)),
            Some((Status::Timeout, _, _)) => Err(Error::Timeout(self.limits.time)),
            None => {
                use std::os::unix::process::ExitStatusExt;
                if status.flatten().is_some_and(|status| status.signal() == Some(libc::SIGXCPU)) {
                    return Err(Error::Timeout(self.limits.time));
                }
                // V8 ends the process when its heap limit is reached ("Fatal JavaScript out of memory:
                // Reached heap limit"); Rust aborts when malloc fails under RLIMIT_DATA.
                let lower = stderr.to_ascii_lowercase();
                if lower.contains("out of memory") || lower.contains("memory allocation of") {
                    return Err(Error::OutOfMemory(self.limits.memory_mib));
                }
                let status = match status {
                    Some(Some(status)) => status.to_string(),
                    // A forked process whose zygote did not report its end (the zygote died meanwhile).
                    Some(None) => "ended, exit status unknown".to_owned(),
                    None => "no exit status".to_owned(),
                };
                let tail: String =
                    stderr.trim().chars().rev().take(2000).collect::<Vec<_>>().into_iter().rev().collect();
                Err(self
                    .crash(format!("{status}, {} bytes on stdout outside the protocol; stderr: {tail}", stdout.len())))
            }
        }
    }
}

impl Launcher {
    fn spawn(&self) -> std::io::Result<Child> {
        let mut command = Command::new(&self.program);
        command
            .args(&self.args)
            .env_clear()
            .env("TZ", "UTC")
            .env("LANG", "C")
            .envs(self.env.iter().copied())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .process_group(0);
        let child = command.spawn()?;
        let pipes = [child.stdin.as_ref().map(AsFd::as_fd), child.stdout.as_ref().map(AsFd::as_fd)];
        pipes.into_iter().flatten().for_each(grow_pipe);
        // The limits are set from here, on the running process, rather than between fork and exec: that
        // keeps the fast spawn path (no fork of the agent's address space), and the process cannot run any
        // job code before it reads its job, which it only gets afterwards.
        set_limits(child.id().unwrap_or(0), self.cpu, self.data)?;
        Ok(child)
    }
}

/// Grows a pipe to [`PIPE_SIZE`]: big inputs and outputs then cross in a few large writes rather than many
/// 64 KiB turns between the two processes. Best effort: a pipe that cannot grow (fs.pipe-max-size) keeps
/// its default size.
pub(crate) fn grow_pipe(fd: BorrowedFd<'_>) {
    // SAFETY: fcntl(2) F_SETPIPE_SZ on a pipe this process holds open; no memory is involved.
    unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_SETPIPE_SZ, PIPE_SIZE) };
}

/// Sets a sandbox process's rlimits: `cpu` seconds of CPU (soft; the hard limit one more), `data` bytes of
/// data segment, no file writes, no core dumps.
fn set_limits(pid: u32, cpu: u64, data: u64) -> std::io::Result<()> {
    let pid = i32::try_from(pid).map_err(std::io::Error::other)?;
    for (resource, soft, hard) in [
        (libc::RLIMIT_CPU, cpu, cpu.saturating_add(1)),
        (libc::RLIMIT_DATA, data, data),
        (libc::RLIMIT_FSIZE, 0, 0),
        (libc::RLIMIT_CORE, 0, 0),
    ] {
        let limit = libc::rlimit { rlim_cur: soft, rlim_max: hard };
        // SAFETY: prlimit(2) on a process of ours with a valid rlimit and no old-limit pointer.
        if unsafe { libc::prlimit(pid, resource, &limit, std::ptr::null_mut()) } != 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok(())
}

impl Drop for Sandbox {
    /// Closes the pool: its waiting processes are stopped, those of past jobs reaped, and a refill under way
    /// starts nothing more.
    fn drop(&mut self) {
        let idle = self.pool.idle().take();
        idle.into_iter().flatten().for_each(stop);
        let dying = std::mem::take(&mut *self.pool.dying.lock().unwrap_or_else(|poison| poison.into_inner()));
        dying.into_iter().map(Process::Spawned).for_each(stop);
        // The zygote kills and reaps the job processes it forked, then exits.
        if let Some(zygote) = &self.pool.zygote {
            zygote.close();
        }
    }
}

impl Pool {
    fn size(&self) -> usize {
        *self.size.lock().unwrap_or_else(|poison| poison.into_inner())
    }

    fn idle(&self) -> std::sync::MutexGuard<'_, Option<VecDeque<Process>>> {
        self.idle.lock().unwrap_or_else(|poison| poison.into_inner())
    }

    /// A started process: a waiting one when there is one still alive, else a new one.
    fn take(&self) -> std::io::Result<Process> {
        loop {
            let next = self.idle().as_mut().and_then(VecDeque::pop_front);
            let Some(mut process) = next else {
                return self.new_process();
            };
            // A waiting process that has died (killed from outside, or the machine ran short) is dropped.
            if process.is_running() {
                return Ok(process);
            }
            stop(process);
        }
    }

    /// A new process: forked from the zygote when there is one, else started from the launcher's command.
    fn new_process(&self) -> std::io::Result<Process> {
        match &self.zygote {
            Some(zygote) => zygote.fork().map(Process::Forked),
            None => self.launcher.spawn().map(Process::Spawned),
        }
    }

    /// Starts processes until the pool is full or closed; a failure to start is left for the next `take` to
    /// report.
    fn fill(&self) {
        let size = self.size();
        loop {
            if self.idle().as_ref().is_none_or(|idle| idle.len() >= size) {
                return;
            }
            let started = self.new_process();
            let mut idle = self.idle();
            match (idle.as_mut(), started) {
                (Some(idle), Ok(child)) => idle.push_back(child),
                (None, Ok(child)) => {
                    drop(idle);
                    stop(child);
                    return;
                }
                // Closed meanwhile: the failure is the shutdown's (the runtime going away), not news.
                (None, Err(_)) => return,
                (Some(_), Err(error)) => {
                    tracing::warn!(program = %self.launcher.program.display(), %error, "cannot start a sandbox process");
                    return;
                }
            }
        }
    }

    /// Keeps a killed process until it can be reaped (at the end of a later job, or when the pool closes),
    /// and reaps those that have ended.
    fn reap_later(&self, process: Process) {
        let mut dying = self.dying.lock().unwrap_or_else(|poison| poison.into_inner());
        dying.retain_mut(|child| matches!(child.try_wait(), Ok(None)));
        match process {
            Process::Spawned(child) => dying.push(child),
            // The zygote reaps its own children.
            Process::Forked(_) => {}
        }
    }

    /// Refills the pool off the job's path: on a blocking-task thread when a runtime is there, else at once.
    fn refill_in_background(self: &Arc<Self>) {
        if self.size() == 0 || self.idle().is_none() {
            return;
        }
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                let pool = Arc::clone(self);
                runtime.spawn_blocking(move || pool.fill());
            }
            Err(_) => self.fill(),
        }
    }
}

/// A sandbox process: the agent's own child (`exec`'d), or a job process forked by the zygote.
#[derive(Debug)]
enum Process {
    Spawned(Child),
    Forked(Forked),
}

/// The write end of a job's stdin, and the read ends of its stdout and stderr.
type Pipes = (Box<dyn AsyncWrite + Unpin + Send>, Box<dyn AsyncRead + Unpin + Send>, Box<dyn AsyncRead + Unpin + Send>);

impl Process {
    /// Whether the process is still there (waiting for its job, or running it).
    fn is_running(&mut self) -> bool {
        match self {
            Self::Spawned(child) => matches!(child.try_wait(), Ok(None)),
            Self::Forked(forked) => !forked.has_ended(),
        }
    }

    /// Sends SIGKILL, without waiting.
    fn start_kill(&mut self) {
        match self {
            Self::Spawned(child) => {
                let _ = child.start_kill();
            }
            Self::Forked(forked) => forked.kill(),
        }
    }

    /// Takes the process's pipes (once).
    fn pipes(&mut self) -> std::io::Result<Pipes> {
        let missing = || std::io::Error::other("the sandbox process has no pipes");
        Ok(match self {
            Self::Spawned(child) => {
                let (Some(stdin), Some(stdout), Some(stderr)) =
                    (child.stdin.take(), child.stdout.take(), child.stderr.take())
                else {
                    return Err(missing());
                };
                (Box::new(stdin), Box::new(stdout), Box::new(stderr))
            }
            Self::Forked(forked) => {
                let (Some(stdin), Some(stdout), Some(stderr)) =
                    (forked.stdin.take(), forked.stdout.take(), forked.stderr.take())
                else {
                    return Err(missing());
                };
                let receiver = |fd: OwnedFd| pipe::Receiver::from_owned_fd(fd);
                (
                    Box::new(pipe::Sender::from_owned_fd(stdin)?),
                    Box::new(receiver(stdout)?),
                    Box::new(receiver(stderr)?),
                )
            }
        })
    }

    /// Waits until the process has ended; its exit status (a forked process's as its zygote reports it, when
    /// it does).
    async fn ended(&mut self, zygote: Option<&Zygote>) -> std::io::Result<Option<ExitStatus>> {
        use std::os::unix::process::ExitStatusExt;
        match self {
            Self::Spawned(child) => child.wait().await.map(Some),
            Self::Forked(forked) => {
                forked.ended().await?;
                let Some(zygote) = zygote else { return Ok(None) };
                Ok(zygote.status(forked).await.map(ExitStatus::from_raw))
            }
        }
    }

    /// At the deadline: kills the process (for an `exec`'d one, its whole group: the engine's threads and
    /// anything it started) and waits until it has ended.
    async fn kill_now(&mut self) {
        match self {
            Self::Spawned(child) => {
                kill_group(child.id());
                let _ = child.kill().await;
            }
            Self::Forked(forked) => {
                forked.kill();
                let _ = forked.ended().await;
            }
        }
    }
}

/// The process of a running job.
struct JobProcess<'a> {
    pool: &'a Arc<Pool>,
    child: Option<Process>,
}

impl Drop for JobProcess<'_> {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.start_kill();
            self.pool.reap_later(child);
        }
        self.pool.refill_in_background();
    }
}

/// Stops a process and reaps it (SIGKILL ends it in a moment, or in seconds on a machine under load): the
/// pool leaves neither a running process nor a zombie behind. A forked process is killed and left to the
/// zygote to reap.
fn stop(process: Process) {
    let mut child = match process {
        Process::Spawned(child) => child,
        Process::Forked(forked) => return forked.kill(),
    };
    let _ = child.start_kill();
    for _ in 0..10_000 {
        if !matches!(child.try_wait(), Ok(None)) {
            return;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// Where the QuickJS sandbox binary is: `$JSJOB_SANDBOX`, else next to the running executable, else one
/// directory up from it (test binaries live in `target/<profile>/deps/`, the sandbox in `target/<profile>/`).
pub fn find_sandbox_binary() -> Result<PathBuf> {
    let mut tried = Vec::new();
    if let Some(path) = std::env::var_os(SANDBOX_ENV) {
        let path = PathBuf::from(path);
        if path.is_file() {
            return Ok(path);
        }
        tried.push(path);
    }
    if let Ok(exe) = std::env::current_exe() {
        for dir in exe.ancestors().skip(1).take(2) {
            let path = dir.join(SANDBOX_NAME);
            if path.is_file() {
                return Ok(path);
            }
            tried.push(path);
        }
    }
    Err(Error::NoSandboxBinary { tried: tried.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ") })
}

/// The first line a binary prints on stdout when run with `args` (`deno --version` takes none extra).
async fn version_line(binary: &Path, args: &[&str]) -> Result<String> {
    let args: &[&str] = if args.is_empty() { &["--version"] } else { args };
    let output = Command::new(binary)
        .args(args)
        .env_clear()
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .output()
        .await
        .map_err(|source| Error::Spawn { program: binary.display().to_string(), source })?;
    let text = String::from_utf8_lossy(&output.stdout);
    text.lines().next().map(str::to_owned).ok_or_else(|| Error::Version(binary.display().to_string()))
}

/// RLIMIT_CPU for a wall-time limit: V8 runs its garbage collector on other threads, so a process may
/// burn CPU faster than the clock; the wall-time kill is the real limit, this one a backstop.
fn cpu_seconds(time: Duration) -> u64 {
    time.as_secs().saturating_mul(2) + 2
}

/// Kills a process group: the sandbox process and anything it started.
fn kill_group(pid: Option<u32>) {
    if let Some(pid) = pid.and_then(|pid| i32::try_from(pid).ok()) {
        // SAFETY: kill(2) with a negative pid signals that group; no memory is involved.
        unsafe {
            libc::kill(-pid, libc::SIGKILL);
        }
    }
}

/// Reads a sandbox's answer from its stdout: up to one complete frame, or to the end of the pipe, or until
/// more than `cap` bytes came (then what came is not an answer).
async fn read_answer(mut pipe: impl AsyncRead + Unpin, cap: usize) -> std::io::Result<Vec<u8>> {
    let mut kept = Vec::new();
    let mut buffer = vec![0u8; 64 * 1024];
    loop {
        if wire::answer_len(&kept).is_some_and(|len| kept.len() >= len) || kept.len() > cap {
            return Ok(kept);
        }
        let n = pipe.read(&mut buffer).await?;
        if n == 0 {
            return Ok(kept);
        }
        kept.extend_from_slice(&buffer[..n]);
    }
}

/// Reads `pipe` to its end, keeping at most `cap` bytes; says whether there was more.
async fn read_capped(mut pipe: impl AsyncRead + Unpin, cap: usize) -> std::io::Result<(Vec<u8>, bool)> {
    let mut kept = Vec::new();
    let mut over = false;
    let mut buffer = vec![0u8; 64 * 1024];
    loop {
        let n = pipe.read(&mut buffer).await?;
        if n == 0 {
            return Ok((kept, over));
        }
        let room = cap.saturating_sub(kept.len());
        kept.extend_from_slice(&buffer[..n.min(room)]);
        // Keep draining past the cap so that the child never blocks on a full pipe.
        over |= n > room;
    }
}

/// Standard base64 with padding, for the V8 sandbox's `data:` URL.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut text = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let word = (u32::from(chunk[0]) << 16)
            | (u32::from(*chunk.get(1).unwrap_or(&0)) << 8)
            | u32::from(*chunk.get(2).unwrap_or(&0));
        for i in 0..4 {
            if i <= chunk.len() {
                text.push(char::from(ALPHABET[((word >> (18 - 6 * i)) & 63) as usize]));
            } else {
                text.push('=');
            }
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc4648_vectors() {
        for (plain, encoded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(plain.as_bytes()), encoded);
        }
    }
}
