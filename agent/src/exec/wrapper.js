// The trusted wrapper that Deno runs as its main module (from a `data:` URL, so there is no file to swap).
// It holds no job code: it reads the job from stdin as JSON {code, input, options} and evaluates the code
// with `new Function`. The job is never a module, because Deno reads the files in a main module's static
// import graph even without read permission.
//
// Job API (the JsJob form): the code defines `jsJobRun(input, options, callback)`; it either calls
// `callback(error, output)` or returns the output (or a promise of it). `input` and `options` are strings
// (`options` is null when the job has none). The output is written to stdout as bytes: a string as UTF-8,
// a Uint8Array or ArrayBuffer as is, anything else as canonical JSON (object keys sorted).
//
// Exit status: 0 with the output on stdout; 1 with the reason on stderr.

"use strict";

// Taken before the job runs, so that the job cannot redirect the output by replacing them.
const stdoutWrite = Deno.stdout.writeSync.bind(Deno.stdout);
const exit = Deno.exit;
const encoder = new TextEncoder();
const stringify = JSON.stringify;
const fail = console.error.bind(console);

// Whatever the job prints goes to stderr: stdout carries the output only.
for (const name of ["log", "info", "debug", "dir", "dirxml", "table", "trace", "group", "groupCollapsed"]) {
  console[name] = console.error;
}

function canonical(value) {
  if (Array.isArray(value)) return value.map(canonical);
  if (value !== null && typeof value === "object") {
    const sorted = {};
    for (const key of Object.keys(value).sort()) sorted[key] = canonical(value[key]);
    return sorted;
  }
  return value;
}

function toBytes(output) {
  if (typeof output === "string") return encoder.encode(output);
  if (output instanceof Uint8Array) return output;
  if (output instanceof ArrayBuffer) return new Uint8Array(output);
  if (output === undefined) throw new Error("the job produced no output (undefined)");
  const json = stringify(canonical(output));
  if (json === undefined) throw new Error(`the job's output (${typeof output}) has no JSON form`);
  return encoder.encode(json);
}

try {
  const job = JSON.parse(await new Response(Deno.stdin.readable).text());
  const entry = new Function(
    `${job.code}\n;return typeof jsJobRun === "function" ? jsJobRun : undefined;`,
  )();
  if (typeof entry !== "function") {
    throw new Error("the job's code defines no function jsJobRun(input, options, callback)");
  }
  const output = await new Promise((resolve, reject) => {
    const callback = (error, result) => (error ? reject(error) : resolve(result));
    const returned = entry(job.input, job.options, callback);
    if (returned !== undefined) Promise.resolve(returned).then(resolve, reject);
  });
  const bytes = toBytes(output);
  let written = 0;
  while (written < bytes.length) written += stdoutWrite(bytes.subarray(written));
  exit(0);
} catch (error) {
  fail(`job failed: ${error && error.stack ? error.stack : error}`);
  exit(1);
}
