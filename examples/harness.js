// The examples' trusted harness: runs one job (or one check, which is a job too) the way the agent's
// wrapper (agent/src/exec/wrapper.js) does — the code is evaluated with `new Function`, never as a
// module; it defines `jsJobRun(input, options, callback)` and answers through the callback, a returned
// value or a returned promise. The output is a string (UTF-8), a Uint8Array (bytes) or any other value
// as canonical JSON (object keys sorted, no spaces).
//
// The same file runs on both engines of the tests (examples/run.mjs):
// - Deno (V8): as the main module of a zero-permission `deno run`; the job arrives on stdin as JSON
//   {code, input, options, parse} and the output bytes go to stdout (exit 1 and the reason on stderr);
// - QuickJS-ng (WebAssembly build, in Node): evaluated as a script; the host calls
//   `__jsjobHostRun(jobJson)`, drives the pending jobs and reads `__jsjobHostResult`.
//
// `timing: true` (Deno) adds "jsjob-compute-ms <ms>" on stderr: the time from evaluating the job's code
// to its answer, start-up excluded.
//
// `parse: true` hands the job its input and options parsed when they are JSON (the wrapper's coming
// behaviour); `parse: false` hands them over as text (today's wrapper). Every example accepts both.

"use strict";

function jsjobCanonical(value) {
  if (Array.isArray(value)) return value.map(jsjobCanonical);
  if (value !== null && typeof value === "object") {
    const sorted = {};
    for (const key of Object.keys(value).sort()) sorted[key] = jsjobCanonical(value[key]);
    return sorted;
  }
  return value;
}

function jsjobParseIfJson(text) {
  if (typeof text !== "string") return text;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

// Runs the job; resolves to {text} or {bytes}, rejects with the job's error.
async function jsjobRun(job) {
  const entry = new Function(`${job.code}\n;return typeof jsJobRun === "function" ? jsJobRun : undefined;`)();
  if (typeof entry !== "function") {
    throw new Error("the job's code defines no function jsJobRun(input, options, callback)");
  }
  const input = job.parse ? jsjobParseIfJson(job.input) : job.input;
  const options = job.parse ? jsjobParseIfJson(job.options) : job.options;
  const output = await new Promise((resolve, reject) => {
    const callback = (error, result) => (error ? reject(error) : resolve(result));
    const returned = entry(input, options === undefined ? null : options, callback);
    if (returned !== undefined) Promise.resolve(returned).then(resolve, reject);
  });
  if (typeof output === "string") return { text: output };
  if (output instanceof Uint8Array) return { bytes: output };
  if (output instanceof ArrayBuffer) return { bytes: new Uint8Array(output) };
  if (output === undefined) throw new Error("the job produced no output (undefined)");
  const json = JSON.stringify(jsjobCanonical(output));
  if (json === undefined) throw new Error(`the job's output (${typeof output}) has no JSON form`);
  return { text: json };
}

function jsjobMessage(error) {
  return error && typeof error.message === "string" ? error.message : String(error);
}

if (typeof Deno === "object") {
  // Taken before the job runs, so that the job cannot redirect the output by replacing them.
  const stdoutWrite = Deno.stdout.writeSync.bind(Deno.stdout);
  const stderrWrite = Deno.stderr.writeSync.bind(Deno.stderr);
  const exit = Deno.exit;
  const now = performance.now.bind(performance);
  const encoder = new TextEncoder();
  const writeAll = (write, bytes) => {
    let written = 0;
    while (written < bytes.length) written += write(bytes.subarray(written));
  };
  (async () => {
    try {
      const job = JSON.parse(await new Response(Deno.stdin.readable).text());
      const started = now();
      const result = await jsjobRun(job);
      const computeMs = now() - started;
      writeAll(stdoutWrite, result.bytes ?? encoder.encode(result.text));
      if (job.timing) writeAll(stderrWrite, encoder.encode(`jsjob-compute-ms ${computeMs.toFixed(3)}`));
      exit(0);
    } catch (error) {
      writeAll(stderrWrite, encoder.encode(jsjobMessage(error)));
      exit(1);
    }
  })();
} else {
  // QuickJS has no TextEncoder: bytes go to the host as a Latin-1 string (one char per byte).
  globalThis.__jsjobHostRun = (jobJson) => {
    globalThis.__jsjobHostResult = null;
    jsjobRun(JSON.parse(jobJson)).then(
      (result) => {
        if (result.bytes === undefined) {
          globalThis.__jsjobHostResult = { ok: true, text: result.text };
          return;
        }
        let latin1 = "";
        for (let i = 0; i < result.bytes.length; i += 8192) {
          latin1 += String.fromCharCode.apply(null, result.bytes.subarray(i, i + 8192));
        }
        globalThis.__jsjobHostResult = { ok: true, latin1 };
      },
      (error) => {
        globalThis.__jsjobHostResult = { ok: false, error: jsjobMessage(error) };
      },
    );
  };
}
