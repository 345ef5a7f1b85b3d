//! `jsjob-sandbox`: the QuickJS sandbox process. The agent starts it under rlimits with a cleared
//! environment, writes one job on its stdin and reads the outcome from its stdout (see `jsjob_exec`).

fn main() -> std::process::ExitCode {
    jsjob_exec::sandbox_main()
}
