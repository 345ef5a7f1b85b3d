#!/usr/bin/env node
// The agent's bindings are generated (alloy `sol!`) from artifacts committed under agent/abi/.
// `node tools/abi.mjs` writes them from forge's build output; `node tools/abi.mjs --check` fails when a
// committed artifact differs from what the current sources compile to. Run `forge build` first.
import fs from 'node:fs';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const CONTRACTS = ['JobAgency', 'TrustedArbiter', 'JuryArbiter'];
const check = process.argv.includes('--check');
let stale = [];

for (const name of CONTRACTS) {
  const built = path.join(root, 'out', `${name}.sol`, `${name}.json`);
  if (!fs.existsSync(built)) {
    console.error(`tools/abi.mjs: ${built} is missing; run \`forge build\` first`);
    process.exit(2);
  }
  const art = JSON.parse(fs.readFileSync(built, 'utf8'));
  const trimmed = {
    abi: art.abi,
    bytecode: { object: art.bytecode.object },
    deployedBytecode: { object: art.deployedBytecode.object },
  };
  const text = JSON.stringify(trimmed, null, 2) + '\n';
  const target = path.join(root, 'agent', 'abi', `${name}.json`);
  if (check) {
    const have = fs.existsSync(target) ? fs.readFileSync(target, 'utf8') : '';
    if (have !== text) stale.push(path.relative(root, target));
  } else {
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.writeFileSync(target, text);
    console.log(`wrote ${path.relative(root, target)}`);
  }
}
if (stale.length) {
  console.error(`stale ABI artifacts: ${stale.join(', ')}\nthe contracts changed: run \`node tools/abi.mjs\` and commit agent/abi/`);
  process.exit(1);
}
if (check) console.log('agent/abi/ matches the contracts');
