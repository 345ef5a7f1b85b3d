// Functional check of a primes result, itself a job: its input is
// {"input": <the range spec, JSON text>, "options": null, "output": <the result as text>}.
//
// It verifies the shape (count, from, to as asked; the list strictly ascending within the range) and
// tests every listed number with a deterministic Miller–Rabin test (bases 2, 13, 23 and 1662803, exact
// for every n < 1.12·10^12 — no sieve involved). Then it looks for missing primes: in windows of 2000
// numbers at both ends of the range and at 6 places drawn from a hash of the output, every number that
// is not listed must be composite — over the whole range when it spans at most 100000 numbers. It
// returns {"ok": true, "count": n, "searched": numbers searched for missing primes} or throws the
// reason.

const WINDOW = 2000;
const FULL = 100000;

function jsJobRun(input, options, callback) {
  const claim = typeof input === "string" ? JSON.parse(input) : input;
  if (claim === null || typeof claim !== "object") throw new Error("the check's input must be a JSON object {input, options, output}");
  const spec = typeof claim.input === "string" ? JSON.parse(claim.input) : claim.input;
  const from = Number(spec.from);
  const to = Number(spec.to);
  let result;
  try {
    result = typeof claim.output === "string" ? JSON.parse(claim.output) : claim.output;
  } catch (error) {
    throw new Error(`output is not JSON: ${error.message}`);
  }
  const keys = result && typeof result === "object" ? Object.keys(result).sort().join(",") : String(result);
  if (keys !== "count,from,primes,to") throw new Error(`output has fields ${keys}, expected count,from,primes,to`);
  if (result.from !== from || result.to !== to) throw new Error(`output is for [${result.from}, ${result.to}], the spec asks for [${from}, ${to}]`);
  const primes = result.primes;
  if (!Array.isArray(primes) || result.count !== primes.length) throw new Error(`"count" is ${result.count} but ${Array.isArray(primes) ? primes.length : "no"} primes are listed`);

  const listed = new Set();
  let previous = -1;
  for (const p of primes) {
    if (!Number.isSafeInteger(p) || p < from || p > to) throw new Error(`${JSON.stringify(p)} is not a whole number in the range`);
    if (p <= previous) throw new Error(`the list is not strictly ascending at ${p}`);
    previous = p;
    if (!isPrime(p)) throw new Error(`${p} is listed but is not prime`);
    listed.add(p);
  }

  // Missing primes: the whole range when it is small, else windows at both ends and at 6 starts drawn
  // from a hash of the list.
  let seed = primes.reduce((h, p) => Math.imul(h ^ (p % 4294967296), 16777619) >>> 0, 2166136261);
  const span = to - from + 1;
  const starts = [];
  if (span <= FULL) {
    for (let start = from; start <= to; start += WINDOW) starts.push(start);
  } else {
    starts.push(from, to - WINDOW + 1);
    for (let k = 0; k < 6; k++) {
      seed = (Math.imul(seed ^ (seed >>> 13), 1597334677) + 1013904223) >>> 0;
      starts.push(from + (seed % (span - WINDOW + 1)));
    }
  }
  for (const start of starts) {
    const end = Math.min(start + WINDOW - 1, to);
    for (let n = start; n <= end; n++) {
      if (!listed.has(n) && isPrime(n)) throw new Error(`${n} is prime but missing from the list`);
    }
  }
  return { ok: true, count: primes.length, searched: Math.min(span, starts.length * WINDOW) };
}

const SMALL = [2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47];

function isPrime(n) {
  if (n < 2) return false;
  for (const p of SMALL) {
    if (n === p) return true;
    if (n % p === 0) return false;
  }
  if (n < 49 * 49) return true; // a composite below 49² has a prime factor of at most 47
  // BigInt: the products of numbers up to 10^12 need 80 bits, and BigInt is faster here than splitting
  // doubles, on V8 and on QuickJS alike.
  const big = BigInt(n);
  let d = big - 1n;
  let s = 0;
  while ((d & 1n) === 0n) {
    d >>= 1n;
    s++;
  }
  for (const a of [2n, 13n, 23n, 1662803n]) {
    if (a % big === 0n) continue;
    if (witness(a % big, d, s, big)) return false;
  }
  return true;
}

// Does a prove n composite? n − 1 = d·2^s with d odd.
function witness(a, d, s, n) {
  let x = powMod(a, d, n);
  if (x === 1n || x === n - 1n) return false;
  for (let r = 1; r < s; r++) {
    x = (x * x) % n;
    if (x === n - 1n) return false;
  }
  return true;
}

function powMod(base, exp, n) {
  let result = 1n;
  let b = base % n;
  for (let e = exp; e > 0n; e >>= 1n) {
    if (e & 1n) result = (result * b) % n;
    b = (b * b) % n;
  }
  return result;
}
