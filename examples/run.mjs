#!/usr/bin/env node
// Runs every example application on both engines and checks its results.
//
// For each examples/<name>/example.json:
// - every run's job goes through V8 (the pinned Deno, one zero-permission process per job, input and
//   options handed over as text and again parsed) and through QuickJS-ng (the pinned WebAssembly build,
//   in this process, input and options parsed; runs marked heavy only with --heavy); all outputs must be
//   byte-identical;
// - a run that names an `error` must fail on every engine with a message containing it;
// - every other run's output goes to the example's check.js (a job too: on V8 with its claim as text,
//   on QuickJS parsed; heavy runs' checks on V8 both ways), which must answer {"ok": true, ...}, the
//   same on both;
// - every `wrong` output must be rejected by the check with a message containing its `reason`.
//
// Usage: node examples/run.mjs [--only NAME] [--engines v8,quickjs] [--heavy] [--serial] [--write DIR]
//   --heavy   also runs the runs marked "heavy" on QuickJS (V8 always runs them)
//   --serial  runs one engine at a time, for timing
//   --cases N generated inputs per example for the property "the check accepts the job's output"
//             (default 100; see properties.mjs); --engine-cases N of them (default 25) are also
//             run on QuickJS and compared byte for byte
//   --write   writes each run's output to DIR/<example>-<run>.out
// Prints one line per run with the time each engine took, then "N passed, M failed"; exits 1 on any
// failure.

import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { HARNESS_SOURCE, loadQuickJS, runDeno } from "./engines.mjs";
import { generators, seeded } from "./properties.mjs";
import { corpus } from "./wordfreq/make-corpus.mjs";

const here = dirname(fileURLToPath(import.meta.url));

const args = process.argv.slice(2);
const flag = (name) => args.includes(name);
const value = (name) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const only = value("--only");
const engines = (value("--engines") || "v8,quickjs").split(",");
const writeDir = value("--write");
if (writeDir) mkdirSync(writeDir, { recursive: true });

// Runs one job on every selected engine: V8 with the input and options as text and again parsed (two
// processes, started first so that they run while QuickJS computes here), QuickJS with them parsed —
// unless the run is heavy (QuickJS, an interpreter, is 8-20 times slower on such loops: bench.mjs) and
// --heavy is not given. With --serial, nothing runs at the same time (for timing).
async function runEverywhere(code, input, options, heavy, v8Modes = [false, true]) {
  const results = [];
  const job = (parse) => ({ code, input, options, parse });
  const deno = [];
  if (engines.includes("v8")) {
    for (const parse of v8Modes) {
      const engine = parse ? "v8/parsed" : "v8";
      const run = runDeno(job(parse)).then((result) => ({ engine, ...result }));
      deno.push(flag("--serial") ? await run : run);
    }
  }
  if (engines.includes("quickjs") && (!heavy || flag("--heavy"))) {
    results.push({ engine: "quickjs/parsed", ...runQuickJS(job(true)) });
  }
  return [...(await Promise.all(deno)), ...results];
}

// ---------------------------------------------------------------------------------------------------

let passed = 0;
let failed = 0;
const problems = [];
const report = (ok, label, detail) => {
  if (ok) passed++;
  else {
    failed++;
    problems.push(`${label}: ${detail}`);
  }
  console.log(`${ok ? "ok  " : "FAIL"} ${label}${detail ? ` — ${detail}` : ""}`);
};
const times = (results) =>
  results.map((r) => `${r.engine} ${r.ms.toFixed(0)} ms`).join(", ");
const firstLine = (text) => String(text).trim().split("\n")[0].slice(0, 160);

// Runs a check on every engine: {verdict, results} when all agree and answer ok, else {rejected, results}.
// The claim goes to V8 as text only: QuickJS already gets it parsed (and the jobs run both ways on V8).
async function check(example, claim, heavy) {
  const results = await runEverywhere(example.check, JSON.stringify(claim), null, heavy, heavy && !flag("--heavy") ? [false, true] : [false]);
  const failure = results.find((r) => !r.ok);
  if (failure) return { rejected: failure.error, results };
  const texts = new Set(results.map((r) => r.bytes.toString("utf8")));
  if (texts.size !== 1) return { rejected: `the engines' checks disagree: ${[...texts].join(" | ")}`, results };
  const verdict = JSON.parse([...texts][0]);
  if (verdict.ok !== true) return { rejected: `check answered ${[...texts][0]}`, results };
  return { verdict, results };
}

function claimFor(example, input, options, bytes) {
  const output = example.output === "binary" ? bytes.toString("base64") : bytes.toString("utf8");
  return { input, options, output };
}

const runQuickJS = engines.includes("quickjs") ? await loadQuickJS() : null;
const baseline = await runDeno({ code: "function jsJobRun() { return 1; }", input: "", options: null, parse: false });
console.log(`deno start-up and a trivial job: ${baseline.ms.toFixed(0)} ms`);

const names = readdirSync(here)
  .filter((name) => existsSync(join(here, name, "example.json")))
  .filter((name) => !only || name === only)
  .sort();
if (names.length === 0) {
  console.error(`no example${only ? ` named ${only}` : ""} under ${here}`);
  process.exit(1);
}

for (const name of names) {
  const dir = join(here, name);
  const manifest = JSON.parse(readFileSync(join(dir, "example.json"), "utf8"));
  const example = {
    ...manifest,
    job: readFileSync(join(dir, "job.js"), "utf8"),
    check: readFileSync(join(dir, "check.js"), "utf8"),
  };
  const text = (file) => (file ? readFileSync(join(dir, file), "utf8") : null);
  const outputs = new Map();
  for (const run of manifest.runs) {
    const label = `${name}/${run.name}`;
    const input = text(run.input);
    const options = text(run.options);
    const results = await runEverywhere(example.job, input, options, run.heavy);
    if (run.error) {
      const wrong = results.filter((r) => r.ok || !r.error.includes(run.error));
      report(
        wrong.length === 0,
        `${label} fails as it should (${times(results)})`,
        wrong.map((r) => `${r.engine}: ${r.ok ? "succeeded" : firstLine(r.error)}`).join("; "),
      );
      continue;
    }
    const failure = results.find((r) => !r.ok);
    if (failure) {
      report(false, label, `${failure.engine}: ${firstLine(failure.error)}`);
      continue;
    }
    const distinct = new Set(results.map((r) => r.bytes.toString("base64")));
    if (distinct.size !== 1) {
      report(false, label, `the engines disagree: ${results.map((r) => `${r.engine} ${r.bytes.length} bytes`).join(", ")}`);
      continue;
    }
    const bytes = results[0].bytes;
    outputs.set(run.name, { input, options, bytes });
    if (writeDir) writeFileSync(join(writeDir, `${name}-${run.name}.out`), bytes);
    const verdict = await check(example, claimFor(example, input, options, bytes), run.heavy);
    report(
      !verdict.rejected,
      `${label}: ${bytes.length} bytes, same on ${results.length} runs (${times(results)}); check (${times(verdict.results)})`,
      verdict.rejected ? `check rejected it: ${firstLine(verdict.rejected)}` : JSON.stringify(verdict.verdict),
    );
  }
  // A wrong output is a committed file (`output`), or an edit of the run's honest output (`edit`:
  // {"replace": text, "with": text}, the first occurrence), which keeps it current when the job changes.
  for (const wrong of manifest.wrong || []) {
    const label = `${name}/${wrong.output || `${wrong.run}, edited: ${wrong.what}`}`;
    const run = manifest.runs.find((r) => r.name === wrong.run);
    const honest = outputs.get(wrong.run);
    if (!run || (wrong.edit && !honest)) {
      report(false, label, run ? `run ${wrong.run} gave no output to edit` : `no run named ${wrong.run}`);
      continue;
    }
    let bytes;
    if (wrong.edit) {
      const original = honest.bytes.toString("utf8");
      if (!original.includes(wrong.edit.replace)) {
        report(false, label, `the output of ${wrong.run} does not contain ${JSON.stringify(wrong.edit.replace)}`);
        continue;
      }
      bytes = Buffer.from(original.replace(wrong.edit.replace, () => wrong.edit.with), "utf8");
    } else {
      bytes = readFileSync(join(dir, wrong.output));
    }
    const verdict = await check(example, claimFor(example, text(run.input), text(run.options), bytes), run.heavy);
    const ok = verdict.rejected && verdict.rejected.includes(wrong.reason);
    report(
      Boolean(ok),
      `${label} rejected (${times(verdict.results)})`,
      verdict.rejected ? (ok ? firstLine(verdict.rejected) : `rejected for another reason: ${firstLine(verdict.rejected)}`) : "the check accepted a wrong output",
    );
  }
}

if (!only || only === "wordfreq") {
  const committed = readFileSync(join(here, "wordfreq/inputs/corpus.txt"), "utf8");
  report(committed === corpus(), "wordfreq/inputs/corpus.txt is what make-corpus.mjs generates", committed === corpus() ? "" : "it differs: run node examples/wordfreq/make-corpus.mjs");
}

// The property: on generated inputs, the check accepts whatever the job produced (job and check run
// here in Node's V8; the first --engine-cases of them also on QuickJS, which must give the same bytes).
const cases = Number(value("--cases") ?? 100);
const engineCases = Number(value("--engine-cases") ?? 25);
const runInNode = new Function(`${HARNESS_SOURCE}\n;return jsjobRun;`)();
for (const name of names.filter((n) => generators[n])) {
  const dir = join(here, name);
  const manifest = JSON.parse(readFileSync(join(dir, "example.json"), "utf8"));
  const job = readFileSync(join(dir, "job.js"), "utf8");
  const checkCode = readFileSync(join(dir, "check.js"), "utf8");
  const random = seeded(2016);
  let checked = 0;
  let refused = 0;
  let compared = 0;
  let problem = null;
  const started = process.hrtime.bigint();
  for (let k = 0; k < cases && !problem; k++) {
    const { input, options } = generators[name](random);
    let output;
    let refusal = null;
    try {
      output = await runInNode({ code: job, input, options, parse: k % 2 === 1 });
    } catch (error) {
      refusal = error.message; // an invalid generated input (an ambiguous board, say)
    }
    const bytes = refusal === null ? (output.bytes ? Buffer.from(output.bytes) : Buffer.from(output.text, "utf8")) : null;
    // The first cases also go through QuickJS, which must give the same bytes (or the same refusal).
    if (runQuickJS && k < engineCases) {
      const q = runQuickJS({ code: job, input, options, parse: true });
      const same = q.ok ? bytes !== null && q.bytes.equals(bytes) : refusal !== null && q.error === refusal;
      if (!same) {
        problem = `QuickJS and V8 disagree on input ${JSON.stringify(input)}, options ${options}: ${q.ok ? `${q.bytes.length} bytes` : q.error} vs ${refusal ?? `${bytes.length} bytes`}`;
        break;
      }
      compared++;
    }
    if (refusal !== null) {
      refused++;
      continue;
    }
    const claim = claimFor(manifest, input, options, bytes);
    try {
      const verdict = JSON.parse((await runInNode({ code: checkCode, input: JSON.stringify(claim), options: null, parse: k % 2 === 0 })).text);
      if (verdict.ok !== true) problem = `check answered ${JSON.stringify(verdict)} for ${JSON.stringify(input)}`;
      checked++;
    } catch (error) {
      problem = `check rejected the job's output: ${firstLine(error.message)} — input ${JSON.stringify(input)}, options ${options}`;
    }
  }
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  report(
    !problem && checked > 0,
    `${name}: the check accepts the job's output on ${checked} generated inputs (${refused} refused by the job; ` +
      `the first ${compared} identical on QuickJS; ${ms.toFixed(0)} ms)`,
    problem || "",
  );
}

console.log(`\nexamples: ${passed} passed, ${failed} failed`);
if (failed) {
  for (const problem of problems) console.log(`  ${problem}`);
  process.exit(1);
}
