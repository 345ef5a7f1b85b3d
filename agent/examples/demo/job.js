// A jsjob job: statistics over the numbers and the text in its JSON input.
//
// The worker's sandbox evaluates this file and calls jsJobRun(input, options, callback) with the input
// file parsed (it is JSON). The output is the object passed to the callback, written as canonical JSON (keys
// sorted), so every worker that runs the same engine build gets the same bytes and the same CID.
// Integers only: the result does not depend on floating-point details of an engine.
function jsJobRun(input, options, callback) {
  const { numbers, text } = input;

  const isPrime = (n) => {
    if (!Number.isSafeInteger(n) || n < 2) return false;
    for (let d = 2; d * d <= n; d++) if (n % d === 0) return false;
    return true;
  };
  // Steps of the Collatz map from n down to 1.
  const collatz = (n) => {
    let steps = 0;
    for (; n > 1; steps++) n = n % 2 ? 3 * n + 1 : n / 2;
    return steps;
  };

  const counts = new Map();
  for (const word of text.toLowerCase().match(/[a-z]+/g) ?? []) counts.set(word, (counts.get(word) ?? 0) + 1);
  const topWords = [...counts]
    .sort(([a, x], [b, y]) => y - x || (a < b ? -1 : 1))
    .slice(0, 5)
    .map(([word, count]) => ({ word, count }));

  let longest = { n: 0, steps: -1 };
  for (const n of numbers) {
    const steps = collatz(n);
    if (steps > longest.steps) longest = { n, steps };
  }

  callback(null, {
    count: numbers.length,
    sum: numbers.reduce((a, b) => a + b, 0),
    primes: numbers.filter(isPrime),
    longestCollatz: longest,
    topWords,
  });
}
