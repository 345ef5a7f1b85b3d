// The trusted prelude, shared by every engine: it makes the global scope deterministic and runs one job.
//
// It is one function expression: the host calls it with its hooks before any job code exists, and gets
// back `{ run, step }`. Everything the prelude needs later is taken here, before the job can replace it
// (built-in prototypes, `JSON`, `Reflect`, ...), and lives in this closure, out of the job's reach. The
// prelude is strict, so `jsJobRun.caller` and stack-walking APIs never hand the job a prelude function.
//
// Host hooks:
//   finish(kind, payload)  kind "ok" (payload: Uint8Array), "error" (payload: message) or "oom"; called
//                          once, then the host ends the job (it may never return).
//   utf8(string)           the UTF-8 bytes of a well-formed string, as a Uint8Array.
//   canonical(json)        optional: the canonical form of JSON text as a Uint8Array, or undefined when
//                          the host declines it.
//   print(string)          diagnostics (the job's console), never part of the output.
//
// Determinism: Math.random and crypto.getRandomValues/randomUUID come from one xoshiro128** stream seeded
// with the job's seed; Date and performance.now read a virtual clock that starts at EPOCH and moves only
// when a timer fires; timers run one at a time in (due time, creation order), only when the job has no
// other work; code generation from strings (eval, Function) is off once the job's code is compiled.
(function jsjobPrelude(host) {
  "use strict";

  const global = globalThis;
  const { apply, construct, defineProperty, deleteProperty, getPrototypeOf, ownKeys } = Reflect;
  const { keys: objectKeys, freeze } = Object;
  const { isArray } = Array;
  const arraySort = Array.prototype.sort;
  const jsonStringify = JSON.stringify;
  const jsonParse = JSON.parse;
  const NativePromise = Promise;
  const promiseThen = Promise.prototype.then;
  const NativeError = Error;
  const NativeTypeError = TypeError;
  const NativeRangeError = RangeError;
  const NativeDate = Date;
  const NativeUint8Array = Uint8Array;
  const NativeArrayBuffer = ArrayBuffer;
  const isView = ArrayBuffer.isView;
  const NativeFunction = Function;
  const typedArrayBuffer = Object.getOwnPropertyDescriptor(getPrototypeOf(Uint8Array.prototype), "buffer").get;
  const typedArrayOffset = Object.getOwnPropertyDescriptor(getPrototypeOf(Uint8Array.prototype), "byteOffset").get;
  const typedArrayLength = Object.getOwnPropertyDescriptor(getPrototypeOf(Uint8Array.prototype), "byteLength").get;
  const uint8Set = Uint8Array.prototype.set;
  const toWellFormed = String.prototype.toWellFormed;
  const stringOf = String;
  const numberIsFinite = Number.isFinite;
  const imul = Math.imul;
  const errorStack = (error) => {
    try {
      if (error !== null && typeof error === "object") {
        const stack = error.stack;
        const text = stringOf(error);
        return typeof stack === "string" && stack.length > 0 && !stack.startsWith(text) ? `${text}\n${stack}` : stringOf(stack ?? text);
      }
      return stringOf(error);
    } catch {
      return "a value that cannot be shown";
    }
  };

  // ---- seeded randomness ------------------------------------------------------------------------------
  let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  const rotl = (x, k) => (x << k) | (x >>> (32 - k));
  function nextU32() {
    const result = imul(rotl(imul(s1, 5), 7), 9) >>> 0;
    const t = s1 << 9;
    s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3; s2 ^= t; s3 = rotl(s3, 11);
    return result;
  }
  function seed(bytes) {
    const word = (i) => (bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24)) >>> 0;
    s0 = word(0); s1 = word(4); s2 = word(8); s3 = word(12);
    if ((s0 | s1 | s2 | s3) === 0) s0 = 1; // xoshiro's one forbidden state
  }
  function random() {
    // 53 random bits, as V8 and QuickJS give: uniform in [0, 1).
    return ((nextU32() >>> 5) * 67108864 + (nextU32() >>> 6)) / 9007199254740992;
  }
  function getRandomValues(array) {
    if (!isView(array) || array instanceof Float32Array || array instanceof Float64Array || array instanceof DataView) {
      throw new NativeTypeError("crypto.getRandomValues needs an integer typed array");
    }
    const length = apply(typedArrayLength, array, []);
    if (length > 65536) throw new NativeRangeError("crypto.getRandomValues: more than 65536 bytes asked");
    const bytes = new NativeUint8Array(apply(typedArrayBuffer, array, []), apply(typedArrayOffset, array, []), length);
    for (let i = 0; i < length; i++) bytes[i] = nextU32() & 255;
    return array;
  }
  function randomUUID() {
    const bytes = getRandomValues(new NativeUint8Array(16));
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex = "";
    for (let i = 0; i < 16; i++) {
      hex += (bytes[i] < 16 ? "0" : "") + bytes[i].toString(16);
      if (i === 3 || i === 5 || i === 7 || i === 9) hex += "-";
    }
    return hex;
  }

  // ---- virtual clock and timers -----------------------------------------------------------------------
  const EPOCH = 946684800000; // 2000-01-01T00:00:00Z: what `new Date()` says when no timer has run
  let clock = 0;
  let timerSeq = 0;
  const timers = []; // {id, due, seq, callback, args, interval}, unsorted; few at a time in practice
  function addTimer(callback, delay, args, interval) {
    if (typeof callback !== "function") throw new NativeTypeError("timers take a function, not code in a string");
    const ms = numberIsFinite(+delay) && +delay > 0 ? +delay : 0;
    const id = ++timerSeq;
    timers[timers.length] = { id, due: clock + ms, seq: id, callback, args, interval: interval ? ms : -1 };
    return id;
  }
  function clearTimer(id) {
    for (let i = 0; i < timers.length; i++) {
      if (timers[i].id === id) {
        timers[i] = timers[timers.length - 1];
        timers.length--;
        return;
      }
    }
  }
  function fixedDate(...args) {
    if (new.target === undefined) return apply(NativeDate.prototype.toString, new NativeDate(EPOCH + clock), []);
    return construct(NativeDate, args.length === 0 ? [EPOCH + clock] : args, new.target);
  }
  defineProperty(fixedDate, "prototype", { value: NativeDate.prototype });
  defineProperty(NativeDate.prototype, "constructor", { value: fixedDate, writable: true, configurable: true });
  fixedDate.now = () => EPOCH + clock;
  fixedDate.UTC = NativeDate.UTC;
  fixedDate.parse = NativeDate.parse;

  // ---- the global scope -------------------------------------------------------------------------------
  const define = (object, name, value) =>
    defineProperty(object, name, { value, writable: true, configurable: true, enumerable: false });
  // Host objects that reach time, the machine, other threads, storage or the network, and hooks that
  // would let the job see or steer the host. Absent in QuickJS; deleted from Deno.
  for (const name of [
    "Deno", "process", "navigator", "Worker", "SharedWorker", "MessageChannel", "MessagePort", "BroadcastChannel",
    "localStorage", "sessionStorage", "caches", "indexedDB", "fetch", "WebSocket", "WebSocketStream",
    "EventSource", "alert", "confirm", "prompt", "close", "setImmediate", "clearImmediate", "requestAnimationFrame",
    "Bun", "std", "os", "scriptArgs", "print", "gc", "WeakRef", "FinalizationRegistry",
  ]) {
    deleteProperty(global, name);
  }
  // Blocking waits need another thread to wake them; there is none, so they could only hang.
  if (global.Atomics !== undefined) {
    deleteProperty(Atomics, "wait");
    deleteProperty(Atomics, "waitAsync");
  }
  define(Math, "random", random);
  const crypto = global.crypto !== undefined ? global.crypto : {};
  define(crypto, "getRandomValues", getRandomValues);
  define(crypto, "randomUUID", randomUUID);
  if (crypto.subtle !== undefined) {
    // The only randomness Web Crypto draws itself; everything else in it is deterministic.
    define(crypto.subtle, "generateKey", () => NativePromise.reject(new NativeError("crypto.subtle.generateKey is not deterministic: derive keys from the input")));
  }
  define(global, "crypto", crypto);
  define(global, "Date", fixedDate);
  define(global, "performance", freeze({ now: () => clock, timeOrigin: EPOCH }));
  define(global, "setTimeout", (callback, delay, ...args) => addTimer(callback, delay, args, false));
  define(global, "setInterval", (callback, delay, ...args) => addTimer(callback, delay, args, true));
  define(global, "clearTimeout", clearTimer);
  define(global, "clearInterval", clearTimer);
  const show = (args) => {
    let line = "";
    for (let i = 0; i < args.length; i++) line += (i ? " " : "") + (typeof args[i] === "string" ? args[i] : errorStack(args[i]));
    return line;
  };
  const console = {};
  for (const name of ["log", "info", "warn", "error", "debug", "trace", "dir", "table"]) {
    console[name] = (...args) => host.print(show(args));
  }
  define(global, "console", console);
  // The job may not compile more code from strings: with no eval and no Function constructor, its code
  // text is all the code it runs, so the host's check for `import` covers dynamic imports.
  const noCodeFromStrings = function Function() {
    throw new NativeError("code generation from strings (eval, Function) is not available to jobs");
  };
  defineProperty(noCodeFromStrings, "prototype", { value: Function.prototype });
  const functionPrototypes = [
    Function.prototype,
    getPrototypeOf(async function () {}),
    getPrototypeOf(function* () {}),
    getPrototypeOf(async function* () {}),
  ];

  // ---- output -----------------------------------------------------------------------------------------
  // Canonical JSON: JSON.stringify's values (toJSON honoured, undefined and functions dropped from objects
  // and null in arrays, non-finite numbers null) with object keys sorted by UTF-16 code units and no
  // whitespace. The native JSON.stringify writes it, given copies of the objects with their keys in sorted
  // order; engines put integer-like keys ("10", "9") first whatever the order, so an output with such a
  // key is written out by hand instead (encodeJson).
  const charCodeAt = String.prototype.charCodeAt;
  const isIndexKey = (name) => {
    const length = name.length;
    if (length === 0 || length > 10 || (length > 1 && apply(charCodeAt, name, [0]) === 48)) return false;
    for (let i = 0; i < length; i++) {
      const c = apply(charCodeAt, name, [i]);
      if (c < 48 || c > 57) return false;
    }
    return +name < 4294967295;
  };
  const INDEX_KEY = {};
  function sortedCopy(key, value) {
    if (value === null || typeof value !== "object" || isArray(value) ||
      value instanceof Number || value instanceof String || value instanceof Boolean) {
      return value;
    }
    const names = apply(arraySort, objectKeys(value), []);
    const copy = { __proto__: null };
    for (let i = 0; i < names.length; i++) {
      if (isIndexKey(names[i])) throw INDEX_KEY;
      copy[names[i]] = value[names[i]];
    }
    return copy;
  }
  function canonicalJson(value) {
    try {
      return apply(jsonStringify, undefined, [value, sortedCopy]);
    } catch (error) {
      if (error !== INDEX_KEY) throw error;
      return encodeJson(value, "", []);
    }
  }
  function encodeJson(value, key, stack) {
    if (value !== null && (typeof value === "object" || typeof value === "bigint")) {
      const toJSON = value.toJSON;
      if (typeof toJSON === "function") value = apply(toJSON, value, [key]);
    }
    switch (typeof value) {
      case "string":
        return apply(jsonStringify, undefined, [value]);
      case "number":
        return numberIsFinite(value) ? apply(jsonStringify, undefined, [value]) : "null";
      case "boolean":
        return value ? "true" : "false";
      case "bigint":
        throw new NativeTypeError("a BigInt has no JSON form: convert it to a string");
      case "object": {
        if (value === null) return "null";
        if (value instanceof Number || value instanceof String || value instanceof Boolean) {
          return apply(jsonStringify, undefined, [value]);
        }
        for (let i = 0; i < stack.length; i++) {
          if (stack[i] === value) throw new NativeTypeError("the output has a cycle and no JSON form");
        }
        stack[stack.length] = value;
        let text;
        if (isArray(value)) {
          text = "[";
          const length = value.length;
          for (let i = 0; i < length; i++) {
            const item = encodeJson(value[i], stringOf(i), stack);
            text += (i ? "," : "") + (item === undefined ? "null" : item);
          }
          text += "]";
        } else {
          const names = apply(arraySort, objectKeys(value), []);
          text = "{";
          let first = true;
          for (let i = 0; i < names.length; i++) {
            const item = encodeJson(value[names[i]], names[i], stack);
            if (item === undefined) continue;
            text += (first ? "" : ",") + apply(jsonStringify, undefined, [names[i]]) + ":" + item;
            first = false;
          }
          text += "}";
        }
        stack.length--;
        return text;
      }
      default:
        return undefined;
    }
  }
  function outputBytes(value) {
    if (typeof value === "string") return host.utf8(apply(toWellFormed, value, []));
    if (value instanceof NativeUint8Array) {
      const copy = new NativeUint8Array(apply(typedArrayLength, value, []));
      apply(uint8Set, copy, [value]);
      return copy;
    }
    if (value instanceof NativeArrayBuffer) return outputBytes(new NativeUint8Array(value));
    if (value === undefined) throw new NativeTypeError("the job's result is undefined: return or pass a value");
    if (host.canonical !== undefined) {
      // The host's encoder (QuickJS: `canonicalize` in Rust) over the native JSON text: the same bytes, a
      // fraction of the time a replacer takes in an interpreter. It declines text it cannot take (a lone
      // surrogate, deep nesting): then the encoder below writes it.
      const text = apply(jsonStringify, undefined, [value]);
      if (text === undefined) throw new NativeTypeError(`the job's result (${typeof value}) has no JSON form`);
      const bytes = host.canonical(text);
      if (bytes !== undefined) return bytes;
    }
    const json = canonicalJson(value);
    if (json === undefined) throw new NativeTypeError(`the job's result (${typeof value}) has no JSON form`);
    return host.utf8(json);
  }

  // ---- running the job --------------------------------------------------------------------------------
  let settled = false;
  function isOutOfMemory(error) {
    // The engines' own messages when an allocation fails: QuickJS-ng's InternalError, V8's RangeError.
    try {
      if (error === null || typeof error !== "object") return false;
      const message = error.message;
      return (error.name === "InternalError" && message === "out of memory") ||
        (error instanceof NativeRangeError && (message === "Array buffer allocation failed" ||
          message === "Invalid array buffer length"));
    } catch {
      return false;
    }
  }
  function fail(error) {
    if (settled) return;
    settled = true;
    if (isOutOfMemory(error)) {
      host.finish("oom", "");
      return;
    }
    // The message is the outcome (the same on every run); the stack is a diagnostic, on stderr.
    host.print(errorStack(error));
    let message;
    try {
      message = stringOf(error);
    } catch {
      message = "a value that cannot be shown";
    }
    host.finish("error", message);
  }
  function succeed(value) {
    if (settled) return;
    let bytes;
    try {
      bytes = outputBytes(value);
    } catch (error) {
      fail(error);
      return;
    }
    settled = true;
    host.finish("ok", bytes);
  }
  function parsed(text) {
    if (text.length === 0) return text; // not JSON, and a throw costs more than this test
    try {
      return apply(jsonParse, undefined, [text]);
    } catch {
      return text;
    }
  }

  // Runs the job: `input` is the input file as a string (UTF-8) or a Uint8Array (anything else), `options`
  // the job's options as a string or null, `seedBytes` 16 or more bytes. The first settlement wins: the
  // callback, the returned value or promise, or a throw.
  function run(code, input, options, seedBytes) {
    seed(seedBytes);
    let body;
    try {
      // The code is a function body, parsed on its own: it cannot close the body early and reach out.
      body = new NativeFunction(`${code}\n;return typeof jsJobRun === "function" ? jsJobRun : undefined;`);
    } catch (error) {
      fail(error);
      return;
    }
    // Compiled, not yet run: from here on no code comes from strings, not even from the code's top level.
    deleteProperty(global, "eval");
    define(global, "Function", noCodeFromStrings);
    for (let i = 0; i < functionPrototypes.length; i++) define(functionPrototypes[i], "constructor", noCodeFromStrings);
    let entry;
    try {
      entry = body();
    } catch (error) {
      fail(error);
      return;
    }
    if (typeof entry !== "function") {
      fail(new NativeError("the job's code defines no function jsJobRun(input, options, callback)"));
      return;
    }
    const callback = function jsJobCallback(error, result) {
      if (error !== null && error !== undefined) fail(error);
      else succeed(result);
    };
    let returned;
    try {
      returned = entry(typeof input === "string" ? parsed(input) : input, options === null || options === undefined ? null : parsed(options), callback);
    } catch (error) {
      fail(error);
      return;
    }
    if (returned instanceof NativePromise) apply(promiseThen, returned, [succeed, fail]);
    else if (returned !== undefined) succeed(returned);
  }

  // Fires the next timer, when the job has nothing else to do. Returns false when the job is settled or
  // has no timer left; the host then ends it ("never settled" if it is not settled).
  function step() {
    if (settled || timers.length === 0) return false;
    let next = 0;
    for (let i = 1; i < timers.length; i++) {
      const t = timers[i];
      if (t.due < timers[next].due || (t.due === timers[next].due && t.seq < timers[next].seq)) next = i;
    }
    const timer = timers[next];
    if (timer.due > clock) clock = timer.due;
    if (timer.interval >= 0) {
      timer.due = clock + timer.interval;
      timer.seq = ++timerSeq;
    } else {
      timers[next] = timers[timers.length - 1];
      timers.length--;
    }
    try {
      apply(timer.callback, undefined, timer.args);
    } catch (error) {
      fail(error);
    }
    return !settled;
  }

  // Runs the job path once on dummy values, so that a pooled process has compiled it before its job
  // arrives (V8 compiles each function on its first call). Leaves no state behind: run() seeds afresh.
  function warm() {
    outputBytes("warm");
    outputBytes(new NativeUint8Array(1));
    outputBytes(parsed('{"b":[1,2.5,"x",null,true],"a":{"9":0,"10":1}}'));
    outputBytes(parsed("[]"));
    parsed("not JSON"); // the first exception V8 throws costs a millisecond or so in Deno
    new NativeFunction("return 1;")();
    random();
    getRandomValues(new NativeUint8Array(4));
    isOutOfMemory(null);
  }

  return freeze({ run, step, warm, settled: () => settled, fail: (message) => fail(new NativeError(message)) });
})
