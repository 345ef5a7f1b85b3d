//! The QuickJS sandbox process (`jsjob-sandbox`): QuickJS-ng through `rquickjs`, one job per process.
//!
//! It starts the engine and the prelude, then waits on stdin for its one job (so a pooled process has paid
//! its start-up), runs it under a memory limit and an interrupt handler, and writes the answer frame on
//! stdout. The interrupt handler stops the job at the wall-time limit, and its call count is the job's
//! fuel: QuickJS calls it once per 10 000 function calls and loop iterations, so the count is the same on
//! every run of the same job with the same engine build.

use std::{
    cell::{Cell, RefCell},
    ffi::CStr,
    io::{Read, Write},
    os::fd::AsFd,
    process::ExitCode,
    rc::Rc,
    time::{Duration, Instant},
};

use rquickjs::{Context, Ctx, Function, Object, Runtime, TypedArray, Value, qjs};

use crate::{
    sandbox::PRELUDE,
    wire::{self, Status},
};

/// Largest error message sent back.
const MAX_MESSAGE: usize = 8192;
/// QuickJS's own stack limit (deep recursion ends in a catchable "stack overflow"), well inside the 8 MiB
/// main-thread stack.
const STACK: usize = 4 << 20;

/// The QuickJS-ng version this binary embeds, as the engine reports it (`JS_GetVersion`).
pub fn quickjs_version() -> String {
    // SAFETY: JS_GetVersion returns a pointer to a static NUL-terminated string.
    unsafe { CStr::from_ptr(qjs::JS_GetVersion()) }.to_string_lossy().into_owned()
}

/// The job's state shared between the host functions and the run loop.
#[derive(Default)]
struct State {
    answer: RefCell<Option<(Status, Vec<u8>)>>,
    output_limit: Cell<usize>,
    fuel: Cell<u64>,
    deadline: Cell<Option<Instant>>,
    timed_out: Cell<bool>,
}

/// The sandbox binary's `main`: `--version` prints the engine id; `--memory-mib N --time-ms T` runs one job
/// from stdin. Errors of the sandbox itself go to stderr with exit status 2 (the agent reports a crash).
pub fn sandbox_main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--version") {
        println!("quickjs-ng/{}", quickjs_version());
        return ExitCode::SUCCESS;
    }
    let arg = |name: &str| -> Option<u64> {
        let at = args.iter().position(|a| a == name)?;
        args.get(at + 1)?.parse().ok()
    };
    let (Some(memory_mib), Some(time_ms)) = (arg("--memory-mib"), arg("--time-ms")) else {
        let _ = writeln!(
            std::io::stderr(),
            "usage: jsjob-sandbox --version | [--zygote --job-cpu-seconds C] --memory-mib N --time-ms T (one job on stdin; --zygote: a fork per request, see the crate's zygote module)"
        );
        return ExitCode::from(2);
    };
    let time = Duration::from_millis(time_ms);
    if args.iter().any(|a| a == "--zygote") {
        let Some(job_cpu) = arg("--job-cpu-seconds") else {
            let _ = writeln!(std::io::stderr(), "jsjob-sandbox: --zygote needs --job-cpu-seconds N");
            return ExitCode::from(2);
        };
        return zygote(memory_mib, time, job_cpu);
    }
    match warm() {
        // Left for the exit to reclaim, as in the zygote's children.
        Ok(warm) => answer(run_one(&std::mem::ManuallyDrop::new(warm), memory_mib, time)),
        Err(error) => answer(Err(error)),
    }
}

/// Writes a job's answer frame (or the sandbox's own error) and gives the exit status.
fn answer(outcome: Result<Option<Vec<u8>>, String>) -> ExitCode {
    match outcome {
        // The agent closed the pipe without a job: it is shutting down, and this process with it.
        Ok(None) => ExitCode::SUCCESS,
        Ok(Some(frame)) => {
            let mut stdout = std::io::stdout().lock();
            if stdout.write_all(&frame).and_then(|()| stdout.flush()).is_err() {
                return ExitCode::from(2);
            }
            ExitCode::SUCCESS
        }
        Err(error) => {
            // Best effort: a closed stderr must not turn the error into a panic.
            let _ = writeln!(std::io::stderr(), "jsjob-sandbox: {error}");
            ExitCode::from(2)
        }
    }
}

/// The zygote (`--zygote`): warms one engine, then forks one process per request from the agent, each of
/// which runs exactly one job on the warm engine under `job_cpu` seconds of RLIMIT_CPU. Its stdin is a
/// `SOCK_SEQPACKET` socket to the agent; see [`crate::zygote`] for the protocol and the safety argument. It
/// never runs job code itself.
fn zygote(memory_mib: u64, time: Duration, job_cpu: u64) -> ExitCode {
    // Never dropped, here or in a child: the process ends with it (freeing a QuickJS runtime with the
    // prelude's objects still referenced fails an assertion in the engine).
    let warm = match warm() {
        Ok(warm) => std::mem::ManuallyDrop::new(warm),
        Err(error) => return answer(Err(error)),
    };
    crate::zygote::serve(std::io::stdin().as_fd(), job_cpu, &mut || {
        // In the child: it shares the zygote's pages until it writes to them. A collection now (it writes to
        // the header of every live object) takes most of those copy-on-write faults before the job comes
        // rather than while it runs. (Populating every writable mapping instead, MADV_POPULATE_WRITE, also
        // zero-fills pages nothing uses: 2.5 ms of CPU per process against 1.6 ms, measured.)
        warm.runtime.run_gc();
        answer(run_one(&warm, memory_mib, time))
    })
}

/// A QuickJS runtime and context with the prelude loaded, waiting for a job.
struct Warm {
    runtime: Runtime,
    context: Context,
    job: rquickjs::Persistent<Object<'static>>,
    state: Rc<State>,
}

/// Starts the engine and loads the prelude: all a process does before its job comes.
fn warm() -> Result<Warm, String> {
    let runtime = Runtime::new().map_err(|e| format!("starting QuickJS: {e}"))?;
    runtime.set_max_stack_size(STACK);
    let state = Rc::new(State::default());
    {
        let state = Rc::clone(&state);
        runtime.set_interrupt_handler(Some(Box::new(move || {
            if state.answer.borrow().is_some() {
                return true; // settled: stop whatever the job still runs
            }
            let Some(deadline) = state.deadline.get() else {
                return false;
            };
            state.fuel.set(state.fuel.get() + 1);
            if Instant::now() >= deadline {
                state.timed_out.set(true);
                return true;
            }
            false
        })));
    }
    let context = Context::full(&runtime).map_err(|e| format!("starting QuickJS: {e}"))?;
    // Warm: the prelude is in place before the job arrives.
    let job: rquickjs::Persistent<Object<'static>> = context
        .with(|ctx| -> rquickjs::Result<_> {
            let host = host_object(&ctx, &state)?;
            let prelude: Function = ctx.eval(PRELUDE)?;
            let job: Object = prelude.call((host,))?;
            Ok(rquickjs::Persistent::save(&ctx, job))
        })
        .map_err(|e| format!("loading the prelude: {e}"))?;
    Ok(Warm { runtime, context, job, state })
}

/// Runs the job on stdin to its answer frame; `None` when stdin closed before any request came.
fn run_one(warm: &Warm, memory_mib: u64, time: Duration) -> Result<Option<Vec<u8>>, String> {
    let Warm { runtime, context, job, state } = warm;
    // Room for a small request in one read (an empty Vec would start with a few small probing reads).
    let mut request = Vec::with_capacity(64 << 10);
    std::io::stdin().read_to_end(&mut request).map_err(|e| format!("reading the job: {e}"))?;
    if request.is_empty() {
        return Ok(None);
    }
    let (header, input) = wire::decode_request(&request).ok_or("the job request is malformed")?;
    state.output_limit.set(header.output_limit);
    let mut seed = [0u8; 32];
    for (i, byte) in seed.iter_mut().enumerate() {
        *byte = header.seed.get(2 * i..2 * i + 2).and_then(|hex| u8::from_str_radix(hex, 16).ok()).unwrap_or(0);
    }
    // Only now: the limits are the job's, not the prelude's.
    runtime.set_memory_limit(usize::try_from(memory_mib << 20).unwrap_or(usize::MAX));
    state.deadline.set(Some(Instant::now() + time));

    context
        .with(|ctx| -> rquickjs::Result<()> {
            let job = job.clone().restore(&ctx)?;
            let run: Function = job.get("run")?;
            let input: Value = match std::str::from_utf8(input) {
                Ok(text) => rquickjs::String::from_str(ctx.clone(), text)?.into_value(),
                Err(_) => TypedArray::<u8>::new(ctx.clone(), input.to_vec())?.into_value(),
            };
            let seed = TypedArray::<u8>::new(ctx.clone(), seed.to_vec())?;
            let called: rquickjs::Result<()> = run.call((header.code.as_str(), input, header.options.as_deref(), seed));
            if called.is_err() {
                settle_from_exception(&ctx, state);
            }
            Ok(())
        })
        .map_err(|e| format!("starting the job: {e}"))?;

    // The event loop: the job's microtasks, then its next timer, until it settles or has nothing left.
    loop {
        if state.answer.borrow().is_some() || state.timed_out.get() {
            break;
        }
        match runtime.execute_pending_job() {
            Ok(true) => continue,
            Ok(false) => {}
            Err(exception) => {
                exception.0.with(|ctx| settle_from_exception(&ctx, state));
                continue;
            }
        }
        let stepped = context.with(|ctx| -> rquickjs::Result<bool> {
            let job = job.clone().restore(&ctx)?;
            let step: Function = job.get("step")?;
            let ran: rquickjs::Result<bool> = step.call(());
            match ran {
                Ok(ran) => {
                    if !ran && state.answer.borrow().is_none() && !state.timed_out.get() {
                        let fail: Function = job.get("fail")?;
                        let _: rquickjs::Result<()> =
                            fail.call(("the job never settled: no callback, no result and no timer left",));
                    }
                    Ok(ran)
                }
                Err(_) => {
                    settle_from_exception(&ctx, state);
                    Ok(false)
                }
            }
        });
        if !matches!(stepped, Ok(true)) && state.answer.borrow().is_none() && !state.timed_out.get() {
            set_answer(state, Status::JobError, b"the job's event loop failed".to_vec());
        }
    }
    let fuel = state.fuel.get();
    let answer = state.answer.borrow_mut().take();
    let frame = match answer {
        Some((status, payload)) => wire::encode_answer(status, fuel, &payload),
        None => wire::encode_answer(Status::Timeout, fuel, b""),
    };
    // The process ends once this frame is written: the engine is not freed (a sweep over every object the job
    // made would only delay the answer) but left for the exit to reclaim.
    Ok(Some(frame))
}

/// After a call into JavaScript failed: a stop by the interrupt handler, or an error the prelude could not
/// report (it runs out of memory itself).
fn settle_from_exception(ctx: &Ctx<'_>, state: &State) {
    let exception = ctx.catch();
    if state.answer.borrow().is_some() || state.timed_out.get() {
        return;
    }
    let message = exception
        .as_object()
        .and_then(|object| object.get::<_, String>("message").ok())
        .or_else(|| exception.as_string().and_then(|s| s.to_string().ok()))
        .unwrap_or_else(|| "an exception with no message".to_owned());
    if message == "out of memory" {
        set_answer(state, Status::OutOfMemory, Vec::new());
    } else {
        set_answer(state, Status::JobError, message.into_bytes());
    }
}

fn set_answer(state: &State, status: Status, payload: Vec<u8>) {
    let mut answer = state.answer.borrow_mut();
    if answer.is_none() {
        *answer = Some((status, payload));
    }
}

/// The UTF-8 bytes of a string, as a `Uint8Array`.
fn utf8<'js>(ctx: Ctx<'js>, text: String) -> rquickjs::Result<TypedArray<'js, u8>> {
    TypedArray::new(ctx, text.into_bytes())
}

/// The canonical form of JSON text (see [`crate::canonicalize`]) as a `Uint8Array`, or `undefined` when the
/// text is beyond it (a lone surrogate, nesting deeper than 128).
fn canonical<'js>(ctx: Ctx<'js>, text: String) -> rquickjs::Result<Value<'js>> {
    match crate::canonicalize(text.as_bytes()) {
        Ok(bytes) => Ok(TypedArray::new(ctx, bytes)?.into_value()),
        Err(_) => Ok(Value::new_undefined(ctx)),
    }
}

/// The prelude's host hooks: `finish`, `utf8`, `canonical`, `print`.
fn host_object<'js>(ctx: &Ctx<'js>, state: &Rc<State>) -> rquickjs::Result<Object<'js>> {
    let host = Object::new(ctx.clone())?;
    let finish_state = Rc::clone(state);
    host.set(
        "finish",
        Function::new(ctx.clone(), move |kind: String, payload: Value<'_>| {
            let (status, bytes) = match kind.as_str() {
                "ok" => {
                    let bytes = TypedArray::<u8>::from_value(payload)
                        .ok()
                        .and_then(|array| array.as_raw())
                        // SAFETY: the bytes are copied at once, before any JavaScript runs again.
                        .map(|raw| unsafe { raw.as_ref() }.to_vec())
                        .unwrap_or_default();
                    if bytes.len() > finish_state.output_limit.get() {
                        (Status::OutputTooLarge, Vec::new())
                    } else {
                        (Status::Ok, bytes)
                    }
                }
                "oom" => (Status::OutOfMemory, Vec::new()),
                _ => {
                    let mut message = payload.as_string().and_then(|s| s.to_string().ok()).unwrap_or_default();
                    if message.len() > MAX_MESSAGE {
                        let mut cut = MAX_MESSAGE;
                        while !message.is_char_boundary(cut) {
                            cut -= 1;
                        }
                        message.truncate(cut);
                    }
                    (Status::JobError, message.into_bytes())
                }
            };
            set_answer(&finish_state, status, bytes);
        }),
    )?;
    host.set("utf8", Function::new(ctx.clone(), utf8))?;
    host.set("canonical", Function::new(ctx.clone(), canonical))?;
    host.set(
        "print",
        Function::new(ctx.clone(), |line: String| {
            let _ = writeln!(std::io::stderr(), "{line}");
        }),
    )?;
    Ok(host)
}
