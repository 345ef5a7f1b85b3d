#!/usr/bin/env node
// Times every example run that succeeds (heavy ones included) and its check, on both engines, one run
// at a time; prints a Markdown table. Not part of the tests (timings belong in a benchmark).
//
// Usage: node examples/bench.mjs [--repeat N] [--only NAME]
// Columns: the job's and the check's compute time inside the engine (from evaluating the code to the
// answer; the median of N runs, default 3): V8 in a Deno process (wall time inside the process), and
// QuickJS-ng (WebAssembly, CPU time of this process); then the whole Deno process for the job, start-up
// included, and a trivial job's process for comparison.

import { existsSync, readFileSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadQuickJS, runDeno } from "./engines.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const value = (name) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const repeat = Number(value("--repeat") ?? 3);
const only = value("--only");
const runQuickJS = await loadQuickJS();

const median = (values) => values.slice().sort((a, b) => a - b)[Math.floor(values.length / 2)];
async function measure(job) {
  const deno = [];
  const quick = [];
  for (let k = 0; k < repeat; k++) {
    const d = await runDeno({ ...job, parse: false, timing: true });
    const q = runQuickJS({ ...job, parse: true, timing: true });
    if (!d.ok || !q.ok) throw new Error(`${d.ok ? "" : d.error} ${q.ok ? "" : q.error}`);
    if (!d.bytes.equals(q.bytes)) throw new Error("the engines disagree");
    deno.push(d);
    quick.push(q);
  }
  return {
    bytes: deno[0].bytes,
    v8: median(deno.map((r) => r.computeMs)),
    process: median(deno.map((r) => r.ms)),
    quickjs: median(quick.map((r) => r.computeMs)),
  };
}

const trivial = await measure({ code: "function jsJobRun() { return 1; }", input: "", options: null });
const fmt = (ms) => (ms < 10 ? ms.toFixed(1) : ms.toFixed(0));
console.log(`Deno process for a trivial job: ${fmt(trivial.process)} ms (median of ${repeat})\n`);
console.log("| example/run | output | job V8 ms | job QuickJS ms | ratio | check V8 ms | check QuickJS ms | job process ms |");
console.log("|---|---|---|---|---|---|---|---|");
for (const name of readdirSync(here).filter((n) => existsSync(join(here, n, "example.json"))).sort()) {
  if (only && name !== only) continue;
  const dir = join(here, name);
  const manifest = JSON.parse(readFileSync(join(dir, "example.json"), "utf8"));
  const code = readFileSync(join(dir, "job.js"), "utf8");
  const checkCode = readFileSync(join(dir, "check.js"), "utf8");
  const text = (file) => (file ? readFileSync(join(dir, file), "utf8") : null);
  for (const run of manifest.runs.filter((r) => !r.error)) {
    const input = text(run.input);
    const options = text(run.options);
    const job = await measure({ code, input, options });
    const output = manifest.output === "binary" ? job.bytes.toString("base64") : job.bytes.toString("utf8");
    const check = await measure({ code: checkCode, input: JSON.stringify({ input, options, output }), options: null });
    console.log(
      `| ${name}/${run.name} | ${job.bytes.length} B | ${fmt(job.v8)} | ${fmt(job.quickjs)} | ` +
        `${(job.quickjs / job.v8).toFixed(1)}× | ${fmt(check.v8)} | ${fmt(check.quickjs)} | ${fmt(job.process)} |`,
    );
  }
}
