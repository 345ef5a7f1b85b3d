//! The QuickJS zygote: a warm `jsjob-sandbox --zygote` process that forks one process per job.
//!
//! Starting a sandbox process by `exec` costs about 3–4 ms of CPU (the kernel's exec and page faults, the
//! dynamic linker, QuickJS's runtime and context, the prelude); a fork of a process that has already done all
//! of that costs a fraction of it. Each job still runs in its own fresh process that exits after it.
//!
//! Protocol, over a `SOCK_SEQPACKET` socket that is the zygote's stdin. The agent sends one byte with three
//! file descriptors attached (`SCM_RIGHTS`): the job process's stdin, stdout and stderr, ends of pipes the
//! agent made. The zygote forks; the child puts the three on 0, 1 and 2, closes every other descriptor, takes
//! its own process group and its CPU limit, and runs the one job as an `exec`'d sandbox process would. The
//! zygote's messages are 9 bytes, a tag, a pid (i32 LE) and a value (i32 LE): `P` (forked: the child's pid,
//! a pidfd for it attached) or `E` (could not fork: the errno) answer a request; `X` (ended: a child's pid
//! and its wait status) comes as soon as a child has ended and was reaped (the zygote watches SIGCHLD
//! through a signalfd), so a job process killed by a signal is reported with that signal, as an `exec`'d one
//! is. The agent reads the socket in order under one lock, so a pid's `X` always comes before a later `P`
//! that reuses it. When the socket closes, the zygote kills and reaps its remaining children and exits.
//!
//! Safety argument:
//! - fork safety: the zygote is single-threaded (no async runtime, no helper threads; QuickJS runs on the
//!   main thread), so a forked child holds no lock of a thread that is gone;
//! - the zygote runs no job code: it loads the engine and the trusted prelude, then only forks. Every child
//!   starts from the same pristine state, as an `exec`'d process does after its start-up, so jobs stay
//!   deterministic and nothing of one job reaches another; a child keeps no descriptor of the zygote's;
//! - limits: the zygote runs under RLIMIT_DATA, RLIMIT_FSIZE 0 and RLIMIT_CORE 0, which its children inherit;
//!   each child sets its own RLIMIT_CPU (`--job-cpu-seconds`; CPU time starts from zero in a new process)
//!   before it reads anything, and its memory limit and deadline when its job comes, as before;
//! - killing: the agent signals a job process through its pidfd (never a bare pid, which could be reused once
//!   the zygote reaps it); the zygote reaps each child when it ends, and all of them before it exits;
//! - restart: a zygote that died (or broke the protocol) is reaped and a new one started on the next request.

use std::{
    collections::HashMap,
    io::{self, Write},
    os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd},
    process::{Child, Command, ExitCode, Stdio},
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

/// How long the agent waits for the zygote's answer to a fork request before it gives up on that zygote.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(10);

// ---- both sides --------------------------------------------------------------------------------------

/// Sends `data` with `fds` attached.
fn send(socket: BorrowedFd<'_>, data: &[u8], fds: &[BorrowedFd<'_>]) -> io::Result<()> {
    let raw: Vec<RawFd> = fds.iter().map(AsRawFd::as_raw_fd).collect();
    let payload = u32::try_from(std::mem::size_of_val(raw.as_slice())).map_err(io::Error::other)?;
    // u64 words: the control buffer must be aligned for `cmsghdr`.
    // SAFETY: CMSG_SPACE only computes a size.
    let space = unsafe { libc::CMSG_SPACE(payload) } as usize;
    let mut control = vec![0u64; space.div_ceil(8)];
    let mut iov = libc::iovec { iov_base: data.as_ptr().cast_mut().cast(), iov_len: data.len() };
    // SAFETY: an all-zero msghdr is a valid empty message.
    let mut message: libc::msghdr = unsafe { std::mem::zeroed() };
    message.msg_iov = &raw mut iov;
    message.msg_iovlen = 1;
    if !raw.is_empty() {
        message.msg_control = control.as_mut_ptr().cast();
        message.msg_controllen = space;
        // SAFETY: the control buffer holds CMSG_SPACE(payload) bytes, so the first header and its `payload`
        // bytes of data are inside it.
        unsafe {
            let header = libc::CMSG_FIRSTHDR(&raw const message);
            (*header).cmsg_level = libc::SOL_SOCKET;
            (*header).cmsg_type = libc::SCM_RIGHTS;
            (*header).cmsg_len = libc::CMSG_LEN(payload) as usize;
            std::ptr::copy_nonoverlapping(raw.as_ptr(), libc::CMSG_DATA(header).cast::<RawFd>(), raw.len());
        }
    }
    loop {
        // SAFETY: the message points at live buffers; MSG_NOSIGNAL: a closed peer is an error, not SIGPIPE.
        if unsafe { libc::sendmsg(socket.as_raw_fd(), &raw const message, libc::MSG_NOSIGNAL) } >= 0 {
            return Ok(());
        }
        let error = io::Error::last_os_error();
        if error.kind() != io::ErrorKind::Interrupted {
            return Err(error);
        }
    }
}

/// Receives one message into `data` and up to `max_fds` attached descriptors; 0 bytes: the peer closed.
/// `flags`: `MSG_DONTWAIT` for a receive that does not wait.
fn receive(
    socket: BorrowedFd<'_>,
    data: &mut [u8],
    max_fds: usize,
    flags: libc::c_int,
) -> io::Result<(usize, Vec<OwnedFd>)> {
    let payload = u32::try_from(max_fds * size_of::<RawFd>()).map_err(io::Error::other)?;
    // SAFETY: CMSG_SPACE only computes a size.
    let space = unsafe { libc::CMSG_SPACE(payload) } as usize;
    let mut control = vec![0u64; space.div_ceil(8)];
    let mut iov = libc::iovec { iov_base: data.as_mut_ptr().cast(), iov_len: data.len() };
    // SAFETY: an all-zero msghdr is a valid empty message.
    let mut message: libc::msghdr = unsafe { std::mem::zeroed() };
    message.msg_iov = &raw mut iov;
    message.msg_iovlen = 1;
    message.msg_control = control.as_mut_ptr().cast();
    message.msg_controllen = space;
    let n = loop {
        // SAFETY: the message points at live buffers of the sizes it gives.
        let n = unsafe { libc::recvmsg(socket.as_raw_fd(), &raw mut message, libc::MSG_CMSG_CLOEXEC | flags) };
        if n >= 0 {
            break n as usize;
        }
        let error = io::Error::last_os_error();
        if error.kind() != io::ErrorKind::Interrupted {
            return Err(error);
        }
    };
    let mut fds = Vec::new();
    // SAFETY: the kernel filled `message` and its control buffer; each header and its data lie inside it, and
    // each SCM_RIGHTS descriptor is new to this process, owned by nobody else.
    unsafe {
        let mut header = libc::CMSG_FIRSTHDR(&raw const message);
        while !header.is_null() {
            if (*header).cmsg_level == libc::SOL_SOCKET && (*header).cmsg_type == libc::SCM_RIGHTS {
                let count = ((*header).cmsg_len - libc::CMSG_LEN(0) as usize) / size_of::<RawFd>();
                let first = libc::CMSG_DATA(header).cast::<RawFd>();
                for i in 0..count {
                    fds.push(OwnedFd::from_raw_fd(first.add(i).read_unaligned()));
                }
            }
            header = libc::CMSG_NXTHDR(&raw const message, header);
        }
    }
    if message.msg_flags & libc::MSG_CTRUNC != 0 {
        return Err(io::Error::other("more descriptors came than expected"));
    }
    Ok((n, fds))
}

/// The zygote's messages: a tag byte, a pid (i32 LE) and a value (i32 LE).
const MESSAGE_LEN: usize = 9;
/// Forked: the pid of the new job process, a pidfd for it attached; value 0.
const FORKED: u8 = b'P';
/// Could not fork: value the errno.
const FAILED: u8 = b'E';
/// A job process has ended and was reaped: its pid, value its wait status.
const ENDED: u8 = b'X';

fn message(tag: u8, pid: libc::pid_t, value: i32) -> [u8; MESSAGE_LEN] {
    let mut bytes = [tag, 0, 0, 0, 0, 0, 0, 0, 0];
    bytes[1..5].copy_from_slice(&pid.to_le_bytes());
    bytes[5..].copy_from_slice(&value.to_le_bytes());
    bytes
}

// ---- the zygote's side ---------------------------------------------------------------------------------

/// The zygote's loop: forks one job process per request (the child runs `job` and exits with its code) and
/// reports each child's wait status as soon as it has ended; returns when the agent closes the socket, once
/// every child is killed and reaped. `job_cpu` is each job process's RLIMIT_CPU, in seconds.
pub(crate) fn serve(socket: BorrowedFd<'_>, job_cpu: u64, job: &mut dyn FnMut() -> ExitCode) -> ExitCode {
    let ended = match ChildSignals::new() {
        Ok(ended) => ended,
        Err(error) => {
            let _ = writeln!(io::stderr(), "jsjob-sandbox: watching the job processes: {error}");
            return ExitCode::from(2);
        }
    };
    let mut children: Vec<libc::pid_t> = Vec::new();
    loop {
        let mut polled = [
            libc::pollfd { fd: socket.as_raw_fd(), events: libc::POLLIN, revents: 0 },
            libc::pollfd { fd: ended.fd.as_raw_fd(), events: libc::POLLIN, revents: 0 },
        ];
        // SAFETY: poll(2) on two valid pollfds, waiting without a timeout.
        if unsafe { libc::poll(polled.as_mut_ptr(), 2, -1) } < 0 {
            if io::Error::last_os_error().kind() == io::ErrorKind::Interrupted {
                continue;
            }
            break;
        }
        // Ended children first: a pid is reused only once reaped, so the agent always reads a pid's end
        // before a later fork's answer that reuses it.
        if polled[1].revents != 0 && report_ended(socket, &ended, &mut children).is_err() {
            break;
        }
        if polled[0].revents == 0 {
            continue;
        }
        let fds = match receive_request(socket) {
            Ok(Some(fds)) => fds,
            // The agent closed the socket (it stops) or broke the protocol.
            Ok(None) | Err(_) => break,
        };
        // SAFETY: this process is single-threaded (no runtime, no helper threads: QuickJS runs on this
        // thread only), so the child is a complete copy with no lock held by a thread that is gone.
        let pid = unsafe { libc::fork() };
        if pid == 0 {
            let became = become_job_process(fds, &ended, job_cpu);
            // Its descriptor is closed already, with the zygote's others.
            std::mem::forget(ended);
            return match became {
                Ok(()) => job(),
                Err(error) => {
                    let _ = writeln!(io::stderr(), "jsjob-sandbox: {error}");
                    ExitCode::from(2)
                }
            };
        }
        drop(fds);
        if pid > 0 {
            children.push(pid);
        }
        let forked = if pid > 0 { Ok(pid) } else { Err(io::Error::last_os_error()) };
        if send_reply(socket, forked).is_err() {
            break;
        }
    }
    // Stop every child, then exit.
    for &pid in &children {
        // SAFETY: kill(2) of our own unreaped child: its pid cannot have been reused.
        unsafe { libc::kill(pid, libc::SIGKILL) };
    }
    for pid in children {
        let mut status = 0;
        // SAFETY: waitpid(2) on our own child, with a valid status pointer.
        unsafe { libc::waitpid(pid, &raw mut status, 0) };
    }
    ExitCode::SUCCESS
}

/// SIGCHLD as a descriptor: blocked for the process and read through a signalfd, so that the zygote wakes
/// when a child ends (as well as at a request) and reaps it at once.
struct ChildSignals {
    fd: OwnedFd,
    /// The signal mask before SIGCHLD was blocked, restored in each child.
    old_mask: libc::sigset_t,
}

impl ChildSignals {
    fn new() -> io::Result<Self> {
        // SAFETY: sigset_t is plain data; sigemptyset/sigaddset fill it, sigprocmask(2) and signalfd(2) read
        // it, and signalfd returns a new descriptor or -1.
        unsafe {
            let mut mask: libc::sigset_t = std::mem::zeroed();
            let mut old_mask: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&raw mut mask);
            libc::sigaddset(&raw mut mask, libc::SIGCHLD);
            if libc::sigprocmask(libc::SIG_BLOCK, &raw const mask, &raw mut old_mask) != 0 {
                return Err(io::Error::last_os_error());
            }
            let fd = libc::signalfd(-1, &raw const mask, libc::SFD_CLOEXEC | libc::SFD_NONBLOCK);
            if fd < 0 {
                return Err(io::Error::last_os_error());
            }
            Ok(Self { fd: OwnedFd::from_raw_fd(fd), old_mask })
        }
    }
}

/// Reaps every child that has ended and sends the agent its pid and wait status (`Err`: the agent is gone).
fn report_ended(socket: BorrowedFd<'_>, ended: &ChildSignals, children: &mut Vec<libc::pid_t>) -> io::Result<()> {
    // Drain the signalfd: it only says that some child ended; waitpid says which.
    let mut info = [0u8; size_of::<libc::signalfd_siginfo>()];
    // SAFETY: read(2) into a buffer of the size given, from a non-blocking descriptor.
    while unsafe { libc::read(ended.fd.as_raw_fd(), info.as_mut_ptr().cast(), info.len()) } > 0 {}
    loop {
        let mut status = 0;
        // SAFETY: waitpid(2) on any child of ours, with a valid status pointer, without waiting.
        let pid = unsafe { libc::waitpid(-1, &raw mut status, libc::WNOHANG) };
        if pid <= 0 {
            return Ok(());
        }
        children.retain(|&child| child != pid);
        send(socket, &message(ENDED, pid, status), &[])?;
    }
}

/// Waits for the next request: the job process's stdin, stdout and stderr; `None` when the agent closed.
fn receive_request(socket: BorrowedFd<'_>) -> io::Result<Option<[OwnedFd; 3]>> {
    let mut byte = [0u8; 1];
    let (n, fds) = receive(socket, &mut byte, 3, 0)?;
    if n == 0 {
        return Ok(None);
    }
    <[OwnedFd; 3]>::try_from(fds).map(Some).map_err(|_| io::Error::other("a request without its three pipes"))
}

/// In a freshly forked child: the job's pipes become stdin, stdout and stderr, every other descriptor of
/// the zygote's closes (its socket, its signalfd), SIGCHLD is unblocked again, and the process takes its own
/// process group and its CPU limit (CPU time starts from zero in a new process).
fn become_job_process(fds: [OwnedFd; 3], ended: &ChildSignals, cpu: u64) -> Result<(), String> {
    for (target, fd) in fds.iter().enumerate() {
        // SAFETY: dup2(2) onto 0, 1 and 2 of descriptors this process owns; no memory is involved.
        if unsafe { libc::dup2(fd.as_raw_fd(), target as RawFd) } < 0 {
            return Err(format!("taking the job's pipes: {}", io::Error::last_os_error()));
        }
    }
    // Closed below with everything else above 2, not twice.
    std::mem::forget(fds);
    // SAFETY: close_range(2) of every descriptor above 2: nothing in this process uses them any more (the
    // Rust handles of the ones closed here are forgotten or never used in the child again).
    if unsafe { libc::syscall(libc::SYS_close_range, 3u32, u32::MAX, 0u32) } != 0 {
        return Err(format!("closing the zygote's descriptors: {}", io::Error::last_os_error()));
    }
    // SAFETY: sigprocmask(2) with the mask saved before SIGCHLD was blocked.
    unsafe { libc::sigprocmask(libc::SIG_SETMASK, &raw const ended.old_mask, std::ptr::null_mut()) };
    // SAFETY: setpgid(2) on this process; no memory is involved.
    unsafe { libc::setpgid(0, 0) };
    let limit = libc::rlimit { rlim_cur: cpu, rlim_max: cpu.saturating_add(1) };
    // SAFETY: setrlimit(2) with a valid rlimit.
    if unsafe { libc::setrlimit(libc::RLIMIT_CPU, &raw const limit) } != 0 {
        return Err(format!("setting the CPU limit: {}", io::Error::last_os_error()));
    }
    Ok(())
}

/// Answers a request: the child's pid with a pidfd for it, or the error that kept it from being forked.
fn send_reply(socket: BorrowedFd<'_>, forked: io::Result<libc::pid_t>) -> io::Result<()> {
    // The child is reaped only after this answer is sent (SIGCHLD is handled in the loop), so its pid still
    // names it here.
    let opened = forked.and_then(|pid| {
        // SAFETY: pidfd_open(2) returns a new descriptor or -1; no memory is involved.
        let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: a new descriptor that nothing else owns.
        Ok((pid, unsafe { OwnedFd::from_raw_fd(fd as RawFd) }))
    });
    match opened {
        Ok((pid, pidfd)) => send(socket, &message(FORKED, pid, 0), &[pidfd.as_fd()]),
        Err(error) => send(socket, &message(FAILED, 0, error.raw_os_error().unwrap_or(libc::EIO)), &[]),
    }
}

// ---- the agent's side ----------------------------------------------------------------------------------

/// How long a job process's wait status may take to come from the zygote once the process has ended.
const STATUS_TIMEOUT: Duration = Duration::from_secs(1);

/// The wait statuses the zygote reported, by pid, kept only while a [`Forked`] handle for that process is
/// there (each fork's `serial` tells it from an earlier process with the same pid).
#[derive(Debug, Default)]
struct Statuses(Mutex<HashMap<libc::pid_t, (u64, Option<i32>)>>);

impl Statuses {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<libc::pid_t, (u64, Option<i32>)>> {
        self.0.lock().unwrap_or_else(|poison| poison.into_inner())
    }

    /// The status of the process forked as `serial`, once reported.
    fn get(&self, pid: libc::pid_t, serial: u64) -> Option<i32> {
        self.lock().get(&pid).filter(|(known, _)| *known == serial).and_then(|(_, status)| *status)
    }
}

/// A job process forked by the zygote: not the agent's child, so it is watched and killed through its pidfd,
/// and its wait status comes from the zygote.
#[derive(Debug)]
pub(crate) struct Forked {
    pub(crate) pid: u32,
    pidfd: OwnedFd,
    /// Which fork this is (its pid may be reused once it is reaped), and which zygote made it.
    serial: u64,
    generation: u64,
    statuses: Arc<Statuses>,
    pub(crate) stdin: Option<OwnedFd>,
    pub(crate) stdout: Option<OwnedFd>,
    pub(crate) stderr: Option<OwnedFd>,
}

impl Forked {
    /// Sends SIGKILL (the process has no threads or children of its own to stop).
    pub(crate) fn kill(&self) {
        // SAFETY: pidfd_send_signal(2) on a pidfd we own, with no siginfo; no memory is involved.
        unsafe { libc::syscall(libc::SYS_pidfd_send_signal, self.pidfd.as_raw_fd(), libc::SIGKILL, 0usize, 0u32) };
    }

    /// Whether the process has ended (its pidfd is readable).
    pub(crate) fn has_ended(&self) -> bool {
        let mut poll = libc::pollfd { fd: self.pidfd.as_raw_fd(), events: libc::POLLIN, revents: 0 };
        // SAFETY: poll(2) on one valid pollfd, without waiting.
        unsafe { libc::poll(&raw mut poll, 1, 0) > 0 }
    }

    /// Waits until the process has ended (its wait status is then [`Zygote::status`]'s to get).
    pub(crate) async fn ended(&self) -> io::Result<()> {
        // SAFETY: the borrowed pidfd stays open, the same descriptor, for the whole life of `watched`, which
        // ends in this function.
        let watched = unsafe {
            tokio::io::unix::AsyncFd::register_with_interest(self.pidfd.as_fd(), tokio::io::Interest::READABLE)
        }
        .map_err(io::Error::from)?;
        watched.readable().await?.retain_ready();
        Ok(())
    }
}

impl Drop for Forked {
    fn drop(&mut self) {
        let pid = self.pid as libc::pid_t;
        let mut statuses = self.statuses.lock();
        if statuses.get(&pid).is_some_and(|(serial, _)| *serial == self.serial) {
            statuses.remove(&pid);
        }
    }
}

/// A running zygote and the agent's end of its socket.
#[derive(Debug)]
struct Running {
    process: Child,
    socket: OwnedFd,
    /// Tells this zygote from the ones before it.
    generation: u64,
}

/// An answer to a fork request.
enum Reply {
    Forked(libc::pid_t, OwnedFd),
    Failed(io::Error),
}

/// The agent's handle on a zygote: started on the first request, restarted when it has died.
pub(crate) struct Zygote {
    /// Builds the zygote's command line (program, arguments, environment).
    command: Box<dyn Fn() -> Command + Send + Sync>,
    /// Sets the zygote's own rlimits, by pid.
    limit: Box<dyn Fn(u32) -> io::Result<()> + Send + Sync>,
    /// The running zygote, if any; `Err(())` once closed. Also the lock under which its socket is read.
    running: Mutex<Result<Option<Running>, ()>>,
    statuses: Arc<Statuses>,
    /// The last fork's serial and the last zygote's generation.
    serial: AtomicU64,
    generation: AtomicU64,
}

impl std::fmt::Debug for Zygote {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Zygote").field("running", &self.running).finish_non_exhaustive()
    }
}

impl Zygote {
    pub(crate) fn new(
        command: impl Fn() -> Command + Send + Sync + 'static,
        limit: impl Fn(u32) -> io::Result<()> + Send + Sync + 'static,
    ) -> Self {
        Self {
            command: Box::new(command),
            limit: Box::new(limit),
            running: Mutex::new(Ok(None)),
            statuses: Arc::default(),
            serial: AtomicU64::new(0),
            generation: AtomicU64::new(0),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Result<Option<Running>, ()>> {
        self.running.lock().unwrap_or_else(|poison| poison.into_inner())
    }

    /// A new job process, forked from the zygote (started or restarted first if need be). It sets its own
    /// CPU limit and inherits the zygote's others.
    pub(crate) fn fork(&self) -> io::Result<Forked> {
        let mut running = self.lock();
        for attempt in 0..2 {
            let zygote = match &mut *running {
                Err(()) => return Err(io::Error::other("the engine is closed")),
                Ok(Some(zygote)) => zygote,
                Ok(slot @ None) => slot.insert(self.start()?),
            };
            match self.request(zygote) {
                Ok(forked) => return forked,
                // The zygote has died or broken the protocol: reap it, and start a new one once.
                Err(error) => {
                    if let Ok(Some(dead)) = std::mem::replace(&mut *running, Ok(None)) {
                        dead.stop();
                    }
                    if attempt == 1 {
                        return Err(error);
                    }
                }
            }
        }
        Err(io::Error::other("the zygote could not be restarted"))
    }

    /// The wait status of an ended job process, as its zygote reports it (it reaps the process as soon as it
    /// ends); `None` when it does not come in time or the zygote that forked the process is gone.
    pub(crate) async fn status(&self, forked: &Forked) -> Option<i32> {
        let deadline = tokio::time::Instant::now() + STATUS_TIMEOUT;
        loop {
            {
                let mut running = self.lock();
                let Ok(Some(zygote)) = &mut *running else { return None };
                if zygote.generation != forked.generation {
                    return None;
                }
                // Whatever came so far; a broken socket shows at the next request.
                let _ = self.read_messages(zygote, false);
            }
            if let Some(status) = self.statuses.get(forked.pid as libc::pid_t, forked.serial) {
                return Some(status);
            }
            if tokio::time::Instant::now() >= deadline {
                return None;
            }
            // Rare (a process that ended without a complete answer): a short wait for the zygote to reap it.
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }

    /// Stops the zygote (which kills and reaps its children) and starts none again.
    pub(crate) fn close(&self) {
        if let Ok(Some(zygote)) = std::mem::replace(&mut *self.lock(), Err(())) {
            zygote.stop();
        }
    }

    fn start(&self) -> io::Result<Running> {
        let mut fds = [0; 2];
        // SAFETY: socketpair(2) writes two descriptors into the array.
        if unsafe { libc::socketpair(libc::AF_UNIX, libc::SOCK_SEQPACKET | libc::SOCK_CLOEXEC, 0, fds.as_mut_ptr()) }
            != 0
        {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: two new descriptors that nothing else owns.
        let (ours, theirs) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
        let timeout = libc::timeval { tv_sec: ANSWER_TIMEOUT.as_secs() as libc::time_t, tv_usec: 0 };
        // SAFETY: setsockopt(2) with a timeval of the size given.
        unsafe {
            libc::setsockopt(
                ours.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_RCVTIMEO,
                (&raw const timeout).cast(),
                size_of::<libc::timeval>() as libc::socklen_t,
            )
        };
        let process =
            (self.command)().stdin(Stdio::from(theirs)).stdout(Stdio::null()).stderr(Stdio::null()).spawn()?;
        let generation = self.generation.fetch_add(1, Ordering::Relaxed) + 1;
        let running = Running { process, socket: ours, generation };
        if let Err(error) = (self.limit)(running.process.id()) {
            running.stop();
            return Err(error);
        }
        Ok(running)
    }

    /// One fork request: `Err` when the zygote is gone or broke the protocol, `Ok(Err)` when it could not fork.
    fn request(&self, zygote: &Running) -> io::Result<io::Result<Forked>> {
        let (stdin_read, stdin_write) = pipe()?;
        let (stdout_read, stdout_write) = pipe()?;
        let (stderr_read, stderr_write) = pipe()?;
        crate::sandbox::grow_pipe(stdin_write.as_fd());
        crate::sandbox::grow_pipe(stdout_read.as_fd());
        send(zygote.socket.as_fd(), b"F", &[stdin_read.as_fd(), stdout_write.as_fd(), stderr_write.as_fd()])?;
        // The child's ends are the child's: the agent must not hold them (it would never see EOF).
        drop((stdin_read, stdout_write, stderr_write));
        let (pid, pidfd) = match self.read_messages(zygote, true)? {
            Some(Reply::Forked(pid, pidfd)) => (pid, pidfd),
            Some(Reply::Failed(error)) => return Ok(Err(error)),
            None => return Err(io::Error::other("the zygote did not answer")),
        };
        let serial = self.serial.fetch_add(1, Ordering::Relaxed) + 1;
        // Any status under this pid was an earlier process's: reported before this answer, and read with it.
        self.statuses.lock().insert(pid, (serial, None));
        Ok(Ok(Forked {
            pid: pid as u32,
            pidfd,
            serial,
            generation: zygote.generation,
            statuses: Arc::clone(&self.statuses),
            stdin: Some(stdin_write),
            stdout: Some(stdout_read),
            stderr: Some(stderr_read),
        }))
    }

    /// Reads the zygote's messages, in order, under the `running` lock: the wait statuses of ended job
    /// processes go to `statuses` (for the processes still watched), and the first answer to a fork request
    /// is returned. `wait`: until that answer comes (or the socket's timeout); else only what is there.
    fn read_messages(&self, zygote: &Running, wait: bool) -> io::Result<Option<Reply>> {
        loop {
            let mut bytes = [0u8; MESSAGE_LEN];
            let (n, mut fds) =
                match receive(zygote.socket.as_fd(), &mut bytes, 1, if wait { 0 } else { libc::MSG_DONTWAIT }) {
                    Ok(received) => received,
                    Err(error) if !wait && error.kind() == io::ErrorKind::WouldBlock => return Ok(None),
                    Err(error) => return Err(error),
                };
            if n != MESSAGE_LEN {
                return Err(io::Error::other("the zygote closed its socket or answered outside the protocol"));
            }
            let pid = i32::from_le_bytes([bytes[1], bytes[2], bytes[3], bytes[4]]);
            let value = i32::from_le_bytes([bytes[5], bytes[6], bytes[7], bytes[8]]);
            match (bytes[0], fds.pop()) {
                (ENDED, None) => {
                    if let Some((_, status)) = self.statuses.lock().get_mut(&pid) {
                        *status = Some(value);
                    }
                }
                (FORKED, Some(pidfd)) if pid > 0 => return Ok(Some(Reply::Forked(pid, pidfd))),
                (FAILED, None) => return Ok(Some(Reply::Failed(io::Error::from_raw_os_error(value)))),
                _ => return Err(io::Error::other("the zygote answered outside the protocol")),
            }
        }
    }
}

impl Running {
    /// Closes the socket (the zygote then kills and reaps its children and exits) and reaps the zygote; kills
    /// it if it has not exited in time.
    fn stop(self) {
        let Self { mut process, socket, .. } = self;
        drop(socket);
        for _ in 0..2_000 {
            if !matches!(process.try_wait(), Ok(None)) {
                return;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        let _ = process.kill();
        let _ = process.wait();
    }
}

/// A pipe, both ends close-on-exec: (read end, write end).
fn pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0; 2];
    // SAFETY: pipe2(2) writes two descriptors into the array.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: two new descriptors that nothing else owns.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}
