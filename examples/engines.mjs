// The two engines of the examples' tests and benchmark, both running the trusted harness.js:
// - runDeno(job): V8 through the pinned Deno, one zero-permission process per job;
// - (await loadQuickJS())(job): QuickJS-ng, the pinned WebAssembly build, in this process.
// A job is {code, input, options, parse, timing}; each returns {ok: true, bytes, ms} or
// {ok: false, error, ms} (ms: wall time, start-up included), and with `timing` also `computeMs`: the
// time inside the engine from evaluating the job's code to its answer (CPU time of this process for
// QuickJS, which runs synchronously here).

import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const root = dirname(here);
const require = createRequire(join(root, "package.json"));
const DENO = join(root, "node_modules/@deno/linux-x64-glibc/deno");
const HARNESS = join(here, "harness.js");
export const HARNESS_SOURCE = readFileSync(HARNESS, "utf8");
const TIME_LIMIT_MS = 60_000;

export function runDeno(job) {
  const started = process.hrtime.bigint();
  const elapsed = () => Number(process.hrtime.bigint() - started) / 1e6;
  return new Promise((resolve) => {
    const child = spawn(
      DENO,
      ["run", "--no-prompt", "--no-remote", "--no-npm", "--no-config", "--no-lock", "--quiet", "--seed=1", HARNESS],
      { env: { TZ: "UTC", LANG: "C", NO_COLOR: "1", DENO_DIR: "/dev/null/deno", DENO_NO_UPDATE_CHECK: "1" } },
    );
    const stdout = [];
    const stderr = [];
    const timer = setTimeout(() => child.kill("SIGKILL"), TIME_LIMIT_MS);
    child.stdout.on("data", (chunk) => stdout.push(chunk));
    child.stderr.on("data", (chunk) => stderr.push(chunk));
    child.on("error", (error) => resolve({ ok: false, error: `deno: ${error.message}`, ms: elapsed() }));
    child.on("close", (status, signal) => {
      clearTimeout(timer);
      const ms = elapsed();
      const timing = /jsjob-compute-ms (\S+)$/.exec(Buffer.concat(stderr).toString("utf8"));
      const computeMs = timing ? Number(timing[1]) : undefined;
      if (status === 0) resolve({ ok: true, bytes: Buffer.concat(stdout), ms, computeMs });
      else resolve({ ok: false, error: Buffer.concat(stderr).toString("utf8") || `deno ended with ${signal || status}`, ms });
    });
    child.stdin.on("error", () => {}); // a job that fails at once may close stdin first
    child.stdin.end(JSON.stringify(job));
  });
}

// Loads the WebAssembly module once; returns the function that runs a job on a fresh runtime.
export async function loadQuickJS() {
  let core;
  let variant;
  try {
    core = require("quickjs-emscripten-core");
    variant = require("@jitl/quickjs-ng-wasmfile-release-sync");
  } catch (error) {
    throw new Error(`QuickJS-ng is not installed (${error.message.split("\n")[0]}): run npm ci in ${root}`);
  }
  const quickjs = await core.newQuickJSWASMModuleFromVariant(variant.default ?? variant);
  return (job) => runQuickJS(quickjs, job);
}

function runQuickJS(quickjs, job) {
  const started = process.hrtime.bigint();
  const cpu = process.cpuUsage();
  const runtime = quickjs.newRuntime();
  runtime.setMemoryLimit(512 << 20);
  runtime.setMaxStackSize(4 << 20);
  const deadline = Date.now() + TIME_LIMIT_MS;
  runtime.setInterruptHandler(() => Date.now() > deadline);
  const context = runtime.newContext();
  const finish = (result) => {
    const used = process.cpuUsage(cpu);
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    return { ...result, ms, computeMs: job.timing ? (used.user + used.system) / 1000 : undefined };
  };
  try {
    const evaluated = context.evalCode(HARNESS_SOURCE, "harness.js");
    if (evaluated.error) return finish({ ok: false, error: `harness: ${JSON.stringify(context.dump(evaluated.error))}` });
    evaluated.value.dispose();
    const call = context.evalCode(`__jsjobHostRun(${JSON.stringify(JSON.stringify(job))})`);
    if (call.error) {
      const error = context.dump(call.error);
      call.error.dispose();
      return finish({ ok: false, error: error && error.message ? error.message : String(error) });
    }
    call.value.dispose();
    for (;;) {
      const pending = runtime.executePendingJobs();
      if (pending.error) {
        const error = context.dump(pending.error);
        pending.error.dispose();
        return finish({ ok: false, error: error && error.message ? error.message : String(error) });
      }
      if (pending.value === 0) break;
    }
    const read = context.evalCode("JSON.stringify(__jsjobHostResult)");
    const result = JSON.parse(context.dump(context.unwrapResult(read)));
    if (result === null) return finish({ ok: false, error: "the job never answered (no callback, no settled promise)" });
    if (!result.ok) return finish({ ok: false, error: result.error });
    const bytes = result.latin1 !== undefined ? Buffer.from(result.latin1, "latin1") : Buffer.from(result.text, "utf8");
    return finish({ ok: true, bytes });
  } catch (error) {
    return finish({ ok: false, error: `quickjs: ${error.message}` });
  } finally {
    context.dispose();
    runtime.dispose();
  }
}
