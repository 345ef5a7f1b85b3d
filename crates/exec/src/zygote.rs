//! The QuickJS zygote: a warm `jsjob-sandbox --zygote` process that forks one process per job.
//!
//! Starting a sandbox process by `exec` costs about 3–4 ms of CPU (the kernel's exec and page faults, the
//! dynamic linker, QuickJS's runtime and context, the prelude); a fork of a process that has already done all
//! of that costs a fraction of it. Each job still runs in its own fresh process that exits after it.
//!
//! Protocol, over a `SOCK_SEQPACKET` socket that is the zygote's stdin: the agent sends one byte with three
//! file descriptors attached (`SCM_RIGHTS`): the job process's stdin, stdout and stderr, ends of pipes the
//! agent made. The zygote forks; the child puts the three on 0, 1 and 2, takes its own process group and runs
//! the one job as an `exec`'d sandbox process would. The zygote answers with the child's pid (i32 LE) and a
//! pidfd for it attached, or a negative errno when it could not fork. When the socket closes, the zygote
//! kills and reaps its remaining children and exits.
//!
//! Safety argument:
//! - fork safety: the zygote is single-threaded (no async runtime, no helper threads; QuickJS runs on the
//!   main thread), so a forked child holds no lock of a thread that is gone;
//! - the zygote runs no job code: it loads the engine and the trusted prelude, then only forks. Every child
//!   starts from the same pristine state, as an `exec`'d process does after its start-up, so jobs stay
//!   deterministic and nothing of one job reaches another;
//! - limits: the zygote runs under RLIMIT_DATA, RLIMIT_FSIZE 0 and RLIMIT_CORE 0, which its children inherit;
//!   the agent sets each child's RLIMIT_CPU and RLIMIT_DATA on it before it sends the job (CPU time starts
//!   from zero in a new process). The child sets its memory limit and deadline when its job comes, as before;
//! - killing: the agent signals a job process through its pidfd (never a bare pid, which could be reused once
//!   the zygote reaps it); the zygote reaps its children (at each request, and all of them before it exits);
//! - restart: a zygote that died (or broke the protocol) is reaped and a new one started on the next request.

use std::{
    io,
    os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd},
    process::{Child, Command, Stdio},
    sync::Mutex,
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
fn receive(socket: BorrowedFd<'_>, data: &mut [u8], max_fds: usize) -> io::Result<(usize, Vec<OwnedFd>)> {
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
        let n = unsafe { libc::recvmsg(socket.as_raw_fd(), &raw mut message, libc::MSG_CMSG_CLOEXEC) };
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

// ---- the zygote's side ---------------------------------------------------------------------------------

/// Waits for the next request: the job process's stdin, stdout and stderr; `None` when the agent closed.
pub(crate) fn receive_request(socket: BorrowedFd<'_>) -> io::Result<Option<[OwnedFd; 3]>> {
    let mut byte = [0u8; 1];
    let (n, fds) = receive(socket, &mut byte, 3)?;
    if n == 0 {
        return Ok(None);
    }
    <[OwnedFd; 3]>::try_from(fds).map(Some).map_err(|_| io::Error::other("a request without its three pipes"))
}

/// In a freshly forked child: the job's pipes become stdin, stdout and stderr (the zygote's socket on stdin
/// goes with it), and the process takes its own process group.
pub(crate) fn become_job_process(fds: [OwnedFd; 3]) -> Result<(), String> {
    for (target, fd) in fds.iter().enumerate() {
        // SAFETY: dup2(2) onto 0, 1 and 2 of descriptors this process owns; no memory is involved.
        if unsafe { libc::dup2(fd.as_raw_fd(), target as RawFd) } < 0 {
            return Err(format!("taking the job's pipes: {}", io::Error::last_os_error()));
        }
    }
    // The originals close here, unless one already was 0, 1 or 2 (then it is its own copy: keep it open).
    for fd in fds {
        if fd.as_raw_fd() <= 2 {
            std::mem::forget(fd);
        }
    }
    // SAFETY: setpgid(2) on this process; no memory is involved.
    unsafe { libc::setpgid(0, 0) };
    Ok(())
}

/// Answers a request: the child's pid with a pidfd for it, or the error that kept it from being forked.
pub(crate) fn send_reply(socket: BorrowedFd<'_>, forked: io::Result<libc::pid_t>) -> io::Result<()> {
    // The child is not reaped before the next request, so its pid still names it here.
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
        Ok((pid, pidfd)) => send(socket, &pid.to_le_bytes(), &[pidfd.as_fd()]),
        Err(error) => send(socket, &(-error.raw_os_error().unwrap_or(libc::EIO)).to_le_bytes(), &[]),
    }
}

/// Reaps the children that have ended; with `all`, kills every child first and waits for each.
pub(crate) fn reap(children: &mut Vec<libc::pid_t>, all: bool) {
    children.retain(|&pid| {
        if all {
            // SAFETY: kill(2) of our own unreaped child: its pid cannot have been reused.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
        let mut status = 0;
        // SAFETY: waitpid(2) on our own child, with a valid status pointer.
        let reaped = unsafe { libc::waitpid(pid, &raw mut status, if all { 0 } else { libc::WNOHANG }) };
        reaped == 0
    });
}

// ---- the agent's side ----------------------------------------------------------------------------------

/// A job process forked by the zygote: not the agent's child, so it is watched and killed through its pidfd.
#[derive(Debug)]
pub(crate) struct Forked {
    pub(crate) pid: u32,
    pidfd: OwnedFd,
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

    /// Waits until the process has ended. Its exit status is its parent's (the zygote's) to collect.
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

/// A running zygote and the agent's end of its socket.
#[derive(Debug)]
struct Running {
    process: Child,
    socket: OwnedFd,
}

/// The agent's handle on a zygote: started on the first request, restarted when it has died.
pub(crate) struct Zygote {
    /// Builds the zygote's command line (program, arguments, environment).
    command: Box<dyn Fn() -> Command + Send + Sync>,
    /// Sets a process's rlimits by pid; `true` for a job process, `false` for the zygote itself.
    limit: Box<dyn Fn(u32, bool) -> io::Result<()> + Send + Sync>,
    /// The running zygote, if any; `Err(())` once closed.
    running: Mutex<Result<Option<Running>, ()>>,
}

impl std::fmt::Debug for Zygote {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Zygote").field("running", &self.running).finish_non_exhaustive()
    }
}

impl Zygote {
    pub(crate) fn new(
        command: impl Fn() -> Command + Send + Sync + 'static,
        limit: impl Fn(u32, bool) -> io::Result<()> + Send + Sync + 'static,
    ) -> Self {
        Self { command: Box::new(command), limit: Box::new(limit), running: Mutex::new(Ok(None)) }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Result<Option<Running>, ()>> {
        self.running.lock().unwrap_or_else(|poison| poison.into_inner())
    }

    /// A new job process, forked from the zygote (started or restarted first if need be), under its limits.
    pub(crate) fn fork(&self) -> io::Result<Forked> {
        let mut running = self.lock();
        for attempt in 0..2 {
            let zygote = match &mut *running {
                Err(()) => return Err(io::Error::other("the engine is closed")),
                Ok(Some(zygote)) => zygote,
                Ok(slot @ None) => slot.insert(self.start()?),
            };
            match zygote.request() {
                Ok(Ok(forked)) => {
                    // The zygote reaps no child before the next request, which waits for this lock: the pid
                    // still names this process.
                    if let Err(error) = (self.limit)(forked.pid, true) {
                        forked.kill();
                        return Err(error);
                    }
                    return Ok(forked);
                }
                // The zygote is there but could not fork (the machine is short of processes or memory).
                Ok(Err(error)) => return Err(error),
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
        let running = Running { process, socket: ours };
        if let Err(error) = (self.limit)(running.process.id(), false) {
            running.stop();
            return Err(error);
        }
        Ok(running)
    }
}

impl Running {
    /// One fork request: `Err` when the zygote is gone or broke the protocol, `Ok(Err)` when it could not fork.
    fn request(&self) -> io::Result<io::Result<Forked>> {
        let (stdin_read, stdin_write) = pipe()?;
        let (stdout_read, stdout_write) = pipe()?;
        let (stderr_read, stderr_write) = pipe()?;
        crate::sandbox::grow_pipe(stdin_write.as_fd());
        crate::sandbox::grow_pipe(stdout_read.as_fd());
        send(self.socket.as_fd(), b"F", &[stdin_read.as_fd(), stdout_write.as_fd(), stderr_write.as_fd()])?;
        // The child's ends are the child's: the agent must not hold them (it would never see EOF).
        drop((stdin_read, stdout_write, stderr_write));
        let mut answer = [0u8; 4];
        let (n, mut fds) = receive(self.socket.as_fd(), &mut answer, 1)?;
        if n != 4 {
            return Err(io::Error::other("the zygote closed its socket or answered outside the protocol"));
        }
        let pid = i32::from_le_bytes(answer);
        match (u32::try_from(pid), fds.pop()) {
            (Ok(pid), Some(pidfd)) if pid > 0 => Ok(Ok(Forked {
                pid,
                pidfd,
                stdin: Some(stdin_write),
                stdout: Some(stdout_read),
                stderr: Some(stderr_read),
            })),
            _ if pid < 0 => Ok(Err(io::Error::from_raw_os_error(-pid))),
            _ => Err(io::Error::other("the zygote answered without a pidfd")),
        }
    }

    /// Closes the socket (the zygote then kills and reaps its children and exits) and reaps the zygote; kills
    /// it if it has not exited in time.
    fn stop(self) {
        let Self { mut process, socket } = self;
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
