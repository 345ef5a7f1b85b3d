// Writes inputs/corpus.txt: a deterministic text of about 150 KB for the word-frequency example, made
// from a seeded generator (no copyrighted text). Word choices follow a Zipf-like law, as in real prose,
// so the top of the ranking has clear leaders and long runs of ties further down.
// Run: node examples/wordfreq/make-corpus.mjs (examples/run.mjs checks that the committed file is what
// corpus() makes).
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const vocabulary = (
  "the of and a to in is that it for as was with on by be at this from or an are which but not have " +
  "job worker poster market bond result check challenge window chain block engine output input " +
  "verifier arbiter jury credit payment deadline claim submit finalize dispute seal reveal audit " +
  "program sandbox memory time limit deterministic page clerk sum answer cost error honest cheat " +
  "café naïve résumé über straße Ελλάδα αγορά рынок проверка 計算 市場 don't it's l’été 2016 42 " +
  "prime sieve mandelbrot sudoku markdown word frequency corpus token count rank tie order"
).split(" ");
export function corpus() {
  let state = 20161105;
  const random = () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 4294967296;
  };
  // Zipf weights 1/(rank+1), sampled through the cumulative sums.
  const cumulative = [];
  let sum = 0;
  for (let rank = 0; rank < vocabulary.length; rank++) cumulative.push((sum += 1 / (rank + 1)));
  const pick = () => {
    const x = random() * sum;
    let k = 0;
    while (cumulative[k] < x) k++;
    return vocabulary[k];
  };
  let text = "";
  while (text.length < 150000) {
    const n = 6 + Math.floor(random() * 14);
    const words = Array.from({ length: n }, pick);
    words[0] = words[0][0].toUpperCase() + words[0].slice(1);
    text += words.join(random() < 0.1 ? ", " : " ") + (random() < 0.15 ? ".\n" : ". ");
  }
  return text;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(new URL("inputs/corpus.txt", import.meta.url), corpus());
}
