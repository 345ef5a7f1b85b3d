// The Deno host: the main module of every V8 sandbox process, run from a `data:` URL (no file to swap),
// after `const prelude = <prelude.js>;`. It holds no job code. It takes what it needs from `Deno` first,
// lets the prelude clean the global scope (which deletes `Deno`), and only then waits on stdin for its one
// job, so a process from the warm pool has paid its start-up before the job arrives. The job's code is
// never a module: Deno reads the files in a main module's static import graph even without read
// permission.
//
// stdin: u32 LE header length, header JSON {code, options, seed (hex), outputLimit}, then the input file.
// stdout: one frame, "JSJOB\x01", status (0 ok, 1 job error, 2 out of memory, 3 output too large), u64 LE
// fuel (0: V8 has no fuel meter), u64 LE payload length, payload (output or message). Then exit 0.

"use strict";

const stdin = Deno.stdin;
const stdout = Deno.stdout;
const stderr = Deno.stderr;
const exit = Deno.exit;
const encoder = new TextEncoder();
const utf8 = (text) => encoder.encode(text);
const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const channel = new MessageChannel();
const MAX_MESSAGE = 8192;
let outputLimit = 0;

// A promise the job drops without handling is its own business; Deno would otherwise end the process.
globalThis.addEventListener("unhandledrejection", (event) => event.preventDefault());

function writeAll(file, bytes) {
  let written = 0;
  while (written < bytes.length) written += file.writeSync(bytes.subarray(written));
}

function finish(kind, payload) {
  let status = 0;
  let body = payload;
  if (kind === "ok") {
    if (body.length > outputLimit) {
      status = 3;
      body = new Uint8Array(0);
    }
  } else if (kind === "oom") {
    status = 2;
    body = new Uint8Array(0);
  } else {
    status = 1;
    body = utf8(String(payload).slice(0, MAX_MESSAGE));
  }
  const head = new Uint8Array(23);
  head.set(utf8("JSJOB\x01"), 0);
  head[6] = status;
  new DataView(head.buffer).setBigUint64(15, BigInt(body.length), true);
  writeAll(stdout, head);
  writeAll(stdout, body);
  exit(0);
}

function print(line) {
  try {
    writeAll(stderr, utf8(`${line}\n`));
  } catch {
    // stderr closed: diagnostics are best effort.
  }
}

const job = prelude({ finish, utf8, print });

function pump() {
  if (job.settled()) return;
  if (job.step()) channel.port2.postMessage(null);
  else if (!job.settled()) job.fail("the job never settled: no callback, no result and no timer left");
}
// A message is a macrotask: it runs once the job's microtasks are done, which is when a timer may fire.
channel.port1.onmessage = pump;

const request = new Uint8Array(await new Response(stdin.readable).arrayBuffer());
const view = new DataView(request.buffer);
const headLength = view.getUint32(0, true);
const head = JSON.parse(strictUtf8.decode(request.subarray(4, 4 + headLength)));
const inputBytes = request.subarray(4 + headLength);
outputLimit = head.outputLimit;
let input;
try {
  input = strictUtf8.decode(inputBytes);
} catch {
  input = inputBytes;
}
const seedBytes = new Uint8Array(head.seed.length / 2);
for (let i = 0; i < seedBytes.length; i++) seedBytes[i] = parseInt(head.seed.slice(2 * i, 2 * i + 2), 16);
job.run(head.code, input, head.options, seedBytes);
if (!job.settled()) channel.port2.postMessage(null);
