// Generated cases for the property that matters most in a market: a check never rejects an honest
// result. For each example, `generate(random)` makes an input and options; run.mjs runs the job on
// them and requires its check to accept the output. (The jobs and checks are evaluated here in Node as
// plain functions, for speed; run.mjs runs the committed inputs in the real sandboxes.)

const pick = (random, list) => list[Math.floor(random() * list.length)];

const MARKDOWN_PIECES = [
  "word", "two words", "*em*", "**strong**", "_u_", "__uu__", "`code`", "``a ` b``", "[link](http://x.org/a)",
  '[rel](docs/a.md "T")', "![img](http://x/i.png)", "<https://auto.link/x>", "a & b", "<b>raw</b>", "\\*esc\\*",
  "snake_case", "***both***", "*unclosed", "`unclosed", "[text](javascript:alert(1))", "x < y > z", "\"q\" 'q'",
  "é ü ж 🧮", "2 * 3", "end.  ", "&copy;", "<script>x()</script>",
];
const MARKDOWN_STARTS = ["", "", "# ", "## ", "- ", "* ", "1. ", "2) ", "> ", "> > ", "    ", "  - ", "```\n", "---\n", "+ "];

const WORDS = ["the", "The", "THE", "café", "cafe\u0301", "don't", "l’été", "rock-'n'-roll", "ж", "Жук", "42", "a", "b",
  "İstanbul", "straße", "ΣΟΦΙΑ", "σοφία", "x_y", "it's", "'quoted'", "日本", "🧮", "e\u0301\u0301", "ﬁne"];

export const generators = {
  sudoku(random) {
    // A solved grid (a shifted pattern, digits and rows permuted), then blanks: some boards come out
    // ambiguous, which the job must refuse.
    const digits = [1, 2, 3, 4, 5, 6, 7, 8, 9].sort(() => random() - 0.5);
    const band = [0, 1, 2].sort(() => random() - 0.5);
    const rows = band.flatMap((b) => [0, 1, 2].sort(() => random() - 0.5).map((r) => 3 * b + r));
    const blanks = 20 + Math.floor(random() * 40);
    const cells = [];
    for (const r of rows) for (let c = 0; c < 9; c++) cells.push(digits[(3 * (r % 3) + Math.floor(r / 3) + c) % 9]);
    for (let k = 0; k < blanks; k++) cells[Math.floor(random() * 81)] = ".";
    return { input: cells.join("").replace(/(.{9})/g, "$1\n"), options: null };
  },
  markdown(random) {
    const lines = [];
    const n = 1 + Math.floor(random() * 8);
    for (let i = 0; i < n; i++) {
      let line = pick(random, MARKDOWN_STARTS);
      const k = 1 + Math.floor(random() * 4);
      for (let j = 0; j < k; j++) line += (j ? " " : "") + pick(random, MARKDOWN_PIECES);
      lines.push(line);
      if (random() < 0.3) lines.push("");
    }
    const options = random() < 0.5 ? null : JSON.stringify({ toc: random() < 0.5, title: random() < 0.5 ? "T <&>" : undefined });
    return { input: lines.join("\n") + "\n", options };
  },
  wordfreq(random) {
    const n = Math.floor(random() * 200);
    const seps = [" ", " ", "\n", ", ", "-", "—", "'", "’", ".", "\t"];
    let input = "";
    for (let i = 0; i < n; i++) input += pick(random, WORDS) + pick(random, seps);
    const options = {};
    if (random() < 0.7) options.top = Math.floor(random() * 12);
    if (random() < 0.3) options.minLength = 1 + Math.floor(random() * 3);
    if (random() < 0.3) options.stopWords = [pick(random, WORDS), pick(random, WORDS)];
    return { input, options: JSON.stringify(options) };
  },
  primes(random) {
    // Bounds up to 10^10: QuickJS sieves the base primes up to √10^12 in about a second, too slow for
    // many cases (the committed inputs reach 10^12).
    const from = Math.floor(random() * pick(random, [5000, 1e6, 1e8, 1e10]));
    const to = Math.min(1e12, from + Math.floor(random() * 3000));
    return { input: JSON.stringify({ from, to }), options: null };
  },
  mandelbrot(random) {
    const width = 1 + Math.floor(random() * 24);
    const height = 1 + Math.floor(random() * 24);
    const centerX = (random() * 3 - 2).toFixed(6);
    const centerY = (random() * 2.4 - 1.2).toFixed(6);
    const step = (0.00001 + random() * 0.05).toFixed(7);
    const input = JSON.stringify({ width, height, centerX, centerY, step, maxIter: 1 + Math.floor(random() * 300) });
    return { input, options: random() < 0.5 ? null : '{"format": "png"}' };
  },
};

// A small seeded generator (mulberry32), so that every run tries the same cases.
export function seeded(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
