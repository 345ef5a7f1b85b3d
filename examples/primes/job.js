// The primes in a range, by a segmented sieve of Eratosthenes.
//
// Input (JSON): {"from": a, "to": b}, whole numbers with 0 ≤ a ≤ b ≤ 10^12 and b − a ≤ 10^7 (numbers or
// decimal strings). Options: none.
// Output (canonical JSON): {"count": number of primes p with a ≤ p ≤ b, "from": a, "to": b,
// "primes": [the primes, ascending]}.
//
// The sieve: the base primes up to floor(√b) come from a plain sieve; the range is then sieved in
// segments of 2^16 numbers, each crossing out the multiples of every base prime from max(p², first
// multiple ≥ segment start).

const MAX_TO = 1e12;
const MAX_SPAN = 1e7;
const SEGMENT = 1 << 16;

function jsJobRun(input, options, callback) {
  try {
    const spec = typeof input === "string" ? parseJson(input, "the input") : input;
    if (spec === null || typeof spec !== "object" || Array.isArray(spec)) throw new Error("primes: the input must be a JSON object {from, to}");
    const from = whole(spec.from, "from");
    const to = whole(spec.to, "to");
    if (from > to) throw new Error(`primes: "from" (${from}) is greater than "to" (${to})`);
    if (to > MAX_TO) throw new Error(`primes: "to" must be at most 10^12, got ${to}`);
    if (to - from > MAX_SPAN) throw new Error(`primes: the range spans ${to - from} numbers, at most 10^7 are allowed`);
    const primes = sieveRange(from, to);
    callback(null, { count: primes.length, from, to, primes });
  } catch (error) {
    callback(error);
  }
}

// JSON.parse with a message that names the problem the same way on every engine.
function parseJson(text, what) {
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`primes: ${what} must be JSON`);
  }
}

function whole(value, name) {
  const n = typeof value === "string" && /^\d{1,16}$/.test(value) ? Number(value) : value;
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`primes: "${name}" must be a whole number ≥ 0, got ${JSON.stringify(value)}`);
  return n;
}

// Primes up to n (small n: at most 10^6 here).
function basePrimes(n) {
  const composite = new Uint8Array(n + 1);
  const primes = [];
  for (let i = 2; i <= n; i++) {
    if (composite[i]) continue;
    primes.push(i);
    for (let j = i * i; j <= n; j += i) composite[j] = 1;
  }
  return primes;
}

function sieveRange(from, to) {
  let root = Math.floor(Math.sqrt(to));
  // Math.sqrt is correctly rounded, but fix up the floor exactly anyway.
  while (root * root > to) root--;
  while ((root + 1) * (root + 1) <= to) root++;
  const base = basePrimes(root);
  const found = [];
  const composite = new Uint8Array(SEGMENT);
  for (let low = Math.max(from, 2); low <= to; low += SEGMENT) {
    const high = Math.min(low + SEGMENT - 1, to);
    composite.fill(0);
    for (const p of base) {
      if (p * p > high) break;
      const start = Math.max(p * p, low + ((p - (low % p)) % p));
      for (let m = start - low; m <= high - low; m += p) composite[m] = 1;
    }
    for (let i = 0; i <= high - low; i++) if (!composite[i]) found.push(low + i);
  }
  return found;
}
