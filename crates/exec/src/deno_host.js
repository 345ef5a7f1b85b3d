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

// Everything `finish` and `print` use is taken now, as a value: by the time they run, the job may have
// replaced any built-in method (TypedArray.prototype.set, TextEncoder.prototype.encode, ...).
const apply = Reflect.apply;
const writeStdout = Deno.stdout.writeSync.bind(Deno.stdout);
const writeStderr = Deno.stderr.writeSync.bind(Deno.stderr);
const stdin = Deno.stdin;
const exit = Deno.exit;
const encoder = new TextEncoder();
const encode = TextEncoder.prototype.encode;
const subarray = Uint8Array.prototype.subarray;
const set = Uint8Array.prototype.set;
const stringOf = String;
const stringSlice = String.prototype.slice;
const Bytes = Uint8Array;
const lengthOf = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(Uint8Array.prototype), "length").get;
const utf8 = (text) => apply(encode, encoder, [text]);
const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const channel = new MessageChannel();
const MAX_MESSAGE = 8192;
let outputLimit = 0;

// A promise the job drops without handling is its own business; Deno would otherwise end the process.
globalThis.addEventListener("unhandledrejection", (event) => event.preventDefault());

function writeAll(write, bytes, length) {
  let written = 0;
  while (written < length) written += write(apply(subarray, bytes, [written, length]));
}

function finish(kind, payload) {
  // One write: the agent answers as soon as the frame is complete, and a frame in two writes would wake it
  // twice.
  const answer = frame(kind, payload);
  writeAll(writeStdout, answer, apply(lengthOf, answer, []));
  exit(0);
}

function frame(kind, payload) {
  let status = 0;
  let body = payload;
  if (kind === "ok") {
    if (apply(lengthOf, payload, []) > outputLimit) {
      status = 3;
      body = new Bytes(0);
    }
  } else if (kind === "oom") {
    status = 2;
    body = new Bytes(0);
  } else {
    status = 1;
    body = utf8(apply(stringSlice, stringOf(payload), [0, MAX_MESSAGE]));
  }
  // The frame head by index writes and arithmetic only, the body by the `set` taken at start-up (no method
  // the job could have replaced).
  const length = apply(lengthOf, body, []);
  const all = new Bytes(23 + length);
  const magic = [74, 83, 74, 79, 66, 1]; // "JSJOB\x01"
  for (let i = 0; i < 6; i++) all[i] = magic[i];
  all[6] = status;
  let rest = length;
  for (let i = 15; i < 23; i++) {
    all[i] = rest % 256;
    rest = (rest - all[i]) / 256;
  }
  apply(set, all, [body, 23]);
  return all;
}

function print(line) {
  try {
    const bytes = utf8(`${line}\n`);
    writeAll(writeStderr, bytes, apply(lengthOf, bytes, []));
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

// A blocking read: the process has nothing else to do, and the stream machinery behind `stdin.readable`
// costs milliseconds on its first use, on the job's path.
function readAll() {
  const chunks = [];
  let total = 0;
  for (;;) {
    const chunk = new Uint8Array(total < 65536 ? 65536 : total);
    const n = stdin.readSync(chunk);
    if (n === null) break;
    chunks.push(chunk.subarray(0, n));
    total += n;
  }
  const all = new Uint8Array(total);
  let at = 0;
  for (const chunk of chunks) {
    all.set(chunk, at);
    at += chunk.length;
  }
  return all;
}
// The request: u32 LE header length, the header (JSON), the input file.
function decodeRequest(request) {
  const headLength = new DataView(request.buffer, request.byteOffset).getUint32(0, true);
  const head = JSON.parse(strictUtf8.decode(request.subarray(4, 4 + headLength)));
  const inputBytes = request.subarray(4 + headLength);
  let input;
  try {
    input = strictUtf8.decode(inputBytes);
  } catch {
    input = inputBytes;
  }
  const seed = new Uint8Array(head.seed.length / 2);
  for (let i = 0; i < seed.length; i++) seed[i] = parseInt(head.seed.slice(2 * i, 2 * i + 2), 16);
  return { code: head.code, options: head.options, outputLimit: head.outputLimit, input, seed };
}

// Warm-up: the whole path of a job once on dummy values, so that the job's own run does not pay for V8's
// first compilations (each function is compiled on its first call) nor for the first use of Deno's ops.
job.warm();
frame("ok", utf8("warm"));
frame("error", "warm");
{
  const head = utf8('{"code":"","options":null,"seed":"00ff","outputLimit":0}');
  const dummy = new Uint8Array(4 + head.length + 2);
  dummy[0] = head.length & 255;
  dummy[1] = head.length >> 8;
  dummy.set(head, 4);
  dummy[dummy.length - 1] = 0xff; // not UTF-8: the decoder's failure path too
  decodeRequest(dummy);
}

const request = readAll();
if (request.length === 0) exit(0); // the agent closed the pipe without a job: it is shutting down
const { code, options, outputLimit: limit, input, seed } = decodeRequest(request);
outputLimit = limit;
job.run(code, input, options, seed);
if (!job.settled()) channel.port2.postMessage(null);
