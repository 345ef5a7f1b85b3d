#!/usr/bin/env node
// Renders the README's gas table from the committed snapshots (snapshots/JobAgency_Gas_Test.json,
// snapshots/JuryArbiter_Gas_Test.json and snapshots/Audit_Gas_Test.json), between the markers
// <!-- gas:begin --> and <!-- gas:end -->.
// `--check` fails when the README differs.
import fs from 'node:fs';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const SNAPSHOTS = ['JobAgency_Gas_Test.json', 'JuryArbiter_Gas_Test.json', 'Audit_Gas_Test.json'];
const snap = Object.assign(
  {},
  ...SNAPSHOTS.map((f) => JSON.parse(fs.readFileSync(path.join(root, 'snapshots', f), 'utf8'))),
);
// operation in the snapshot -> [issue target, the straightforward design in shared/REFERENCE.md]
const ROWS = [
  ['post', 60000, '141.5k'],
  ['claim', 35000, '34.0k'],
  ['submit', 40000, '53.7k'],
  ['finalize', 35000, '38.5k'],
  ['job: post + claim + submit + finalize', 170000, '268k'],
  ['withdraw (credit only)', 30000, '30.0k'],
  ['withdraw (account with reputation)', 30000, '30.0k'],
  ['finalize (worker\'s first credit)', null, '55.6k'],
  ['cancel', null, ''],
  ['challenge', null, '52.7k'],
  ['reveal', null, ''],
  ['resolve (TrustedArbiter.rule)', null, ''],
  ['expire (nobody claimed)', null, ''],
  ['expire (missed deadline, reopen)', null, ''],
  ['jury: register', null, ''],
  ['jury: leave', null, ''],
  ['jury: unstake', null, ''],
  ['jury: withdraw', null, ''],
  ['jury job: challenge', null, ''],
  ['jury job: reveal', null, ''],
  ['jury: openDispute', null, ''],
  ['jury: draw (k = 3)', null, ''],
  ['jury: commit', null, ''],
  ['jury: reveal', null, ''],
  ['jury: settle (ruling, 2 paid, 1 slashed)', null, ''],
  ['jury: settle (ruling, 3 paid)', null, ''],
  ['jury: settle (no majority, re-draw)', null, ''],
  ['jury: withdraw (reward)', null, ''],
  ['jury dispute: honest side\'s gas, every step', null, ''],
  ['audit on: post', null, ''],
  ['audit on: claim', null, ''],
  ['audit on: submit', null, ''],
  ['audit on: finalize (not selected)', null, ''],
  ['audit on: finalize (not selected, first fee since a collection)', null, ''],
  ['audit on: post + claim + submit + finalize', null, ''],
  ['audit: drawAudit (not selected)', null, ''],
  ['audit: drawAudit (selected)', null, ''],
  ['audit: openAudit', null, ''],
  ['audit: draw (k = 3)', null, ''],
  ['audit: settle (passed, 3 paid from the pool)', null, ''],
  ['audit: settle (failed, worker loses bond)', null, ''],
];
const k = (n) => (n / 1000).toFixed(1) + 'k';
const lines = [
  '| operation | gas | target | straightforward design |',
  '|---|---:|---:|---:|',
];
const seen = new Set();
for (const [name, target, ref] of ROWS) {
  if (!(name in snap)) {
    console.error(`tools/gastable.mjs: "${name}" is not in the snapshot; update ROWS`);
    process.exit(2);
  }
  seen.add(name);
  const gas = Number(snap[name]);
  const verdict = target === null ? '' : `${k(target)} ${gas <= target ? '✓' : '✗ over'}`;
  lines.push(`| ${name} | ${gas.toLocaleString('en-US')} | ${verdict} | ${ref} |`);
}
const missing = Object.keys(snap).filter((n) => !seen.has(n));
if (missing.length) {
  console.error(`tools/gastable.mjs: snapshot entries not in the table: ${missing.join(', ')}`);
  process.exit(2);
}
const table = lines.join('\n');
const readmePath = path.join(root, 'README.md');
const readme = fs.readFileSync(readmePath, 'utf8');
const re = /(<!-- gas:begin -->\n)[\s\S]*?(<!-- gas:end -->)/;
if (!re.test(readme)) {
  console.error('tools/gastable.mjs: README.md has no <!-- gas:begin --> … <!-- gas:end --> section');
  process.exit(2);
}
const next = readme.replace(re, `$1${table}\n$2`);
if (process.argv.includes('--check')) {
  if (next !== readme) {
    console.error('README gas table differs from the snapshots: run `node tools/gastable.mjs`');
    process.exit(1);
  }
  console.log('README gas table matches the snapshot');
} else {
  fs.writeFileSync(readmePath, next);
  console.log('README gas table written');
}
