#!/usr/bin/env node
// Runs every example application through the product, on both engines, and checks its results.
//
// Every job goes through `jsjob run JOB INPUT --engine v8|quickjs [--options TEXT]` (the agent binary,
// target/debug/jsjob: the pinned Deno with zero permissions, and QuickJS-ng in the jsjob-sandbox binary,
// each a sandboxed child process per job, exactly as a worker runs it). For each
// examples/<name>/example.json:
// - every run's job goes through V8 and QuickJS (runs marked heavy on QuickJS only with --heavy); the
//   outputs must be byte-identical;
// - a run that names an `error` must fail on every engine with a message containing it;
// - every other run's output goes to the example's check.js with `jsjob result --check` semantics: the
//   check is itself a job, run in the same engines on the claim {input, options, output} (output as
//   base64 when binary), and must answer {"ok": true, ...}, the same on both;
// - every `wrong` output must be rejected by the check with a message containing its `reason`.
//
// Usage: node examples/run.mjs [--only NAME] [--engines v8,quickjs] [--heavy] [--serial] [--write DIR]
//                              [--jsjob PATH]
//   --heavy   also runs the runs marked "heavy" on QuickJS (V8 always runs them)
//   --serial  runs one job at a time (for timing); otherwise as many as the machine has cores, plus one
//   --cases N generated inputs per example for the property "the check accepts the job's output"
//             (default 100; see properties.mjs, run in this Node for speed); the first --engine-cases N
//             of them (default 4) also go through `jsjob run` on both engines and must give Node's bytes
//   --write   writes each run's output to DIR/<example>-<run>.out
//   --jsjob   the agent binary (default target/debug/jsjob; build it with `cargo build -p jsjob` and
//             `cargo build -p jsjob-exec --bins`)
// Prints one line per run with the time each engine took, then "N passed, M failed"; exits 1 on any
// failure.

import { execFile } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { HARNESS_SOURCE } from "./engines.mjs";
import { generators, seeded } from "./properties.mjs";
import { corpus } from "./wordfreq/make-corpus.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const root = dirname(here);

const args = process.argv.slice(2);
const flag = (name) => args.includes(name);
const value = (name) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const only = value("--only");
const engines = (value("--engines") || "v8,quickjs").split(",");
const writeDir = value("--write");
if (writeDir) mkdirSync(writeDir, { recursive: true });
const jsjob = value("--jsjob") ?? join(root, "target/debug/jsjob");
const sandbox = join(dirname(jsjob), "jsjob-sandbox");
for (const [binary, build] of [[jsjob, "cargo build -p jsjob"], [sandbox, "cargo build -p jsjob-exec --bins"]]) {
  if (!existsSync(binary)) {
    console.error(`error: ${binary} is missing: run \`${build}\` first`);
    process.exit(1);
  }
}
const scratch = mkdtempSync(join(tmpdir(), "jsjob-examples-"));
process.on("exit", () => rmSync(scratch, { recursive: true, force: true }));
let scratchFiles = 0;
// A file holding `text` (a check's claim, a generated input), for `jsjob run`.
function fileOf(text) {
  const path = join(scratch, `${scratchFiles++}`);
  writeFileSync(path, text);
  return path;
}

// At most `limit` jobs at once: each is a process tree that keeps a core busy.
const limit = flag("--serial") ? 1 : availableParallelism() + 1;
let running = 0;
const waiting = [];
async function slot(task) {
  if (running >= limit) await new Promise((resolve) => waiting.push(resolve));
  running++;
  try {
    return await task();
  } finally {
    running--;
    waiting.shift()?.();
  }
}

// `jsjob run CODE INPUT --engine ENGINE [--options TEXT]`: {engine, ok, bytes, ms} or {engine, ok: false,
// error, ms}; ms is the engine's own figure from jsjob's last stderr line (start-up excluded).
function runJsjob(engine, code, input, options) {
  const argv = ["run", code, input, "--engine", engine, ...(options === null ? [] : ["--options", options])];
  return slot(
    () =>
      new Promise((resolve) => {
        execFile(jsjob, argv, { encoding: "buffer", maxBuffer: 256 << 20, cwd: root }, (error, stdout, stderr) => {
          const text = stderr.toString("utf8");
          const ms = Number(/, (\d+) ms/.exec(text)?.[1] ?? NaN);
          if (error) resolve({ engine, ok: false, error: text.replace(/^error: running [^:]*: /, "") || error.message, ms });
          else resolve({ engine, ok: true, bytes: stdout, ms });
        });
      }),
  );
}

// Runs one job (files `code` and `input`, options text or null) on every selected engine; QuickJS skips
// heavy runs unless --heavy.
function runEverywhere(code, input, options, heavy) {
  const selected = engines.filter((engine) => engine === "v8" || !heavy || flag("--heavy"));
  return Promise.all(selected.map((engine) => runJsjob(engine, code, input, options)));
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
  results.map((r) => (Number.isFinite(r.ms) ? `${r.engine} ${r.ms.toFixed(0)} ms` : r.engine)).join(", ");
const firstLine = (text) => String(text).trim().split("\n")[0].slice(0, 160);

// Runs a check on every engine: {verdict, results} when all agree and answer ok, else {rejected, results}.
async function check(example, claim, heavy) {
  const results = await runEverywhere(example.checkPath, fileOf(JSON.stringify(claim)), null, heavy);
  const failure = results.find((r) => !r.ok);
  if (failure) return { rejected: failure.error, results };
  const texts = new Set(results.map((r) => r.bytes.toString("utf8")));
  if (texts.size !== 1) return { rejected: `the engines' checks disagree: ${[...texts].join(" | ")}`, results };
  let verdict;
  try {
    verdict = JSON.parse([...texts][0]);
  } catch {
    verdict = null;
  }
  if (verdict?.ok !== true) return { rejected: `check answered ${[...texts][0]}, not {"ok": true}`, results };
  return { verdict, results };
}

function claimFor(example, input, options, bytes) {
  const output = example.output === "binary" ? bytes.toString("base64") : bytes.toString("utf8");
  return { input, options, output };
}

console.log(`through ${jsjob} run, ${limit} at a time`);

const names = readdirSync(here)
  .filter((name) => existsSync(join(here, name, "example.json")))
  .filter((name) => !only || name === only)
  .sort();
if (names.length === 0) {
  console.error(`no example${only ? ` named ${only}` : ""} under ${here}`);
  process.exit(1);
}

// The outcome of one committed run: its report line(s), and its honest output for the `wrong` edits.
async function runCase(name, dir, example, run) {
  const label = `${name}/${run.name}`;
  const text = (file) => (file ? readFileSync(join(dir, file), "utf8") : null);
  const input = text(run.input);
  const options = text(run.options);
  const results = await runEverywhere(example.jobPath, join(dir, run.input), options, run.heavy);
  if (run.error) {
    const wrong = results.filter((r) => r.ok || !r.error.includes(run.error));
    return {
      report: [
        wrong.length === 0,
        `${label} fails as it should (${times(results)})`,
        wrong.map((r) => `${r.engine}: ${r.ok ? "succeeded" : firstLine(r.error)}`).join("; "),
      ],
    };
  }
  const failure = results.find((r) => !r.ok);
  if (failure) return { report: [false, label, `${failure.engine}: ${firstLine(failure.error)}`] };
  const distinct = new Set(results.map((r) => r.bytes.toString("base64")));
  if (distinct.size !== 1) {
    return { report: [false, label, `the engines disagree: ${results.map((r) => `${r.engine} ${r.bytes.length} bytes`).join(", ")}`] };
  }
  const bytes = results[0].bytes;
  if (writeDir) writeFileSync(join(writeDir, `${name}-${run.name}.out`), bytes);
  const verdict = await check(example, claimFor(example, input, options, bytes), run.heavy);
  return {
    output: { input, options, bytes },
    report: [
      !verdict.rejected,
      `${label}: ${bytes.length} bytes, same on ${results.length} engines (${times(results)}); check (${times(verdict.results)})`,
      verdict.rejected ? `check rejected it: ${firstLine(verdict.rejected)}` : JSON.stringify(verdict.verdict),
    ],
  };
}

// A wrong output is a committed file (`output`), or an edit of the run's honest output (`edit`:
// {"replace": text, "with": text}, the first occurrence), which keeps it current when the job changes.
async function wrongCase(name, dir, example, manifest, outputs, wrong) {
  const label = `${name}/${wrong.output || `${wrong.run}, edited: ${wrong.what}`}`;
  const text = (file) => (file ? readFileSync(join(dir, file), "utf8") : null);
  const run = manifest.runs.find((r) => r.name === wrong.run);
  const honest = outputs.get(wrong.run);
  if (!run || (wrong.edit && !honest)) {
    return [false, label, run ? `run ${wrong.run} gave no output to edit` : `no run named ${wrong.run}`];
  }
  let bytes;
  if (wrong.edit) {
    const original = honest.bytes.toString("utf8");
    if (!original.includes(wrong.edit.replace)) {
      return [false, label, `the output of ${wrong.run} does not contain ${JSON.stringify(wrong.edit.replace)}`];
    }
    bytes = Buffer.from(original.replace(wrong.edit.replace, () => wrong.edit.with), "utf8");
  } else {
    bytes = readFileSync(join(dir, wrong.output));
  }
  const verdict = await check(example, claimFor(example, text(run.input), text(run.options), bytes), run.heavy);
  const ok = verdict.rejected && verdict.rejected.includes(wrong.reason);
  return [
    Boolean(ok),
    `${label} rejected (${times(verdict.results)})`,
    verdict.rejected ? (ok ? firstLine(verdict.rejected) : `rejected for another reason: ${firstLine(verdict.rejected)}`) : "the check accepted a wrong output",
  ];
}

// Every example at once (the slots bound the processes); reported in order.
const examples = await Promise.all(
  names.map(async (name) => {
    const dir = join(here, name);
    const manifest = JSON.parse(readFileSync(join(dir, "example.json"), "utf8"));
    const example = { ...manifest, jobPath: join(dir, "job.js"), checkPath: join(dir, "check.js") };
    const cases = await Promise.all(manifest.runs.map((run) => runCase(name, dir, example, run)));
    const outputs = new Map(manifest.runs.map((run, i) => [run.name, cases[i].output]).filter(([, output]) => output));
    const wrongs = await Promise.all((manifest.wrong || []).map((wrong) => wrongCase(name, dir, example, manifest, outputs, wrong)));
    return [...cases.map((c) => c.report), ...wrongs];
  }),
);
for (const lines of examples) for (const line of lines) report(...line);

if (!only || only === "wordfreq") {
  const committed = readFileSync(join(here, "wordfreq/inputs/corpus.txt"), "utf8");
  report(committed === corpus(), "wordfreq/inputs/corpus.txt is what make-corpus.mjs generates", committed === corpus() ? "" : "it differs: run node examples/wordfreq/make-corpus.mjs");
}

// The property: on generated inputs, the check accepts whatever the job produced (job and check run
// here in Node's V8, for speed; the first --engine-cases of them also through `jsjob run` on every
// engine, which must give the same bytes, or fail with the same refusal).
const cases = Number(value("--cases") ?? 100);
const engineCases = Number(value("--engine-cases") ?? 4);
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
  const comparisons = [];
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
    // The first cases also go through the product on every engine: the same bytes, or the same refusal.
    if (k < engineCases) {
      comparisons.push(
        runEverywhere(join(dir, "job.js"), fileOf(input), options, false).then((results) => {
          for (const r of results) {
            const same = r.ok ? bytes !== null && r.bytes.equals(bytes) : refusal !== null && r.error.includes(refusal);
            if (!same) {
              return `jsjob run --engine ${r.engine} and Node disagree on input ${JSON.stringify(input)}, options ${options}: ${r.ok ? `${r.bytes.length} bytes` : firstLine(r.error)} vs ${refusal ?? `${bytes.length} bytes`}`;
            }
          }
          compared++;
          return null;
        }),
      );
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
  problem ??= (await Promise.all(comparisons)).find((p) => p) ?? null;
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  report(
    !problem && checked > 0,
    `${name}: the check accepts the job's output on ${checked} generated inputs (${refused} refused by the job; ` +
      `the first ${compared} identical through jsjob run on ${engines.join(" and ")}; ${ms.toFixed(0)} ms)`,
    problem || "",
  );
}

console.log(`\nexamples: ${passed} passed, ${failed} failed`);
if (failed) {
  for (const problem of problems) console.log(`  ${problem}`);
  process.exit(1);
}
