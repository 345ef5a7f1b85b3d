// Sudoku solver, the application of the 2016 JsJob proof of concept.
//
// Input: the board as text, 9 rows of 9 cells, a digit 1-9 for a given and `.` or `0` for a blank.
// Spaces and `|` inside a row are ignored; lines made only of `-`, `+`, `|` and spaces (separators),
// blank lines and lines starting with `#` (comments) are skipped; a single line of 81 cells is also
// accepted. An already parsed board (an array of 9 row strings or of 9 arrays of numbers, 0 = blank)
// is accepted too. Options: none.
// Output: {"givens": <number of givens>, "solution": [9 strings of 9 digits]}.
// Errors: a board of the wrong shape, a conflict between givens, a board without a solution and a
// board with more than one solution are job errors that say what is wrong.

function jsJobRun(input, options, callback) {
  try {
    const cells = readBoard(input);
    callback(null, solve(cells));
  } catch (error) {
    callback(error);
  }
}

function fail(message) {
  throw new Error(`sudoku: ${message}`);
}

// -> array of 81 numbers, 0 for a blank.
function readBoard(input) {
  let rows;
  if (typeof input === "string") {
    rows = [];
    for (const rawLine of input.split(/\r?\n/)) {
      const line = rawLine.trim();
      if (line === "" || line.startsWith("#") || /^[-+| ]+$/.test(line)) continue;
      rows.push(line.replace(/[ \t|]/g, ""));
    }
    if (rows.length === 1 && rows[0].length === 81) {
      rows = Array.from({ length: 9 }, (_, r) => rows[0].slice(r * 9, r * 9 + 9));
    }
  } else if (Array.isArray(input)) {
    rows = input.map((row) => (Array.isArray(row) ? row.join("") : String(row)));
  } else {
    fail(`expected the board as text (9 rows of 9 cells), got ${input === null ? "null" : typeof input}`);
  }
  if (rows.length !== 9) fail(`invalid board: expected 9 rows of 9 cells, found ${rows.length} rows`);
  const cells = [];
  rows.forEach((row, r) => {
    const chars = Array.from(row);
    if (chars.length !== 9) fail(`invalid board: row ${r + 1} has ${chars.length} cells, expected 9`);
    chars.forEach((ch, c) => {
      if (ch === "." || ch === "0") cells.push(0);
      else if (ch >= "1" && ch <= "9") cells.push(ch.charCodeAt(0) - 48);
      else fail(`invalid board: unexpected character ${JSON.stringify(ch)} at row ${r + 1}, column ${c + 1}`);
    });
  });
  return cells;
}

const BOX = (r, c) => 3 * Math.floor(r / 3) + Math.floor(c / 3);
const ALL = 0x3fe; // bits 1..9

function solve(cells) {
  const rows = new Array(9).fill(0);
  const cols = new Array(9).fill(0);
  const boxes = new Array(9).fill(0);
  let givens = 0;
  for (let i = 0; i < 81; i++) {
    const d = cells[i];
    if (d === 0) continue;
    givens++;
    const r = Math.floor(i / 9);
    const c = i % 9;
    const b = BOX(r, c);
    const bit = 1 << d;
    if (rows[r] & bit) fail(`invalid board: digit ${d} appears twice in row ${r + 1}`);
    if (cols[c] & bit) fail(`invalid board: digit ${d} appears twice in column ${c + 1}`);
    if (boxes[b] & bit) fail(`invalid board: digit ${d} appears twice in box ${b + 1} (boxes numbered 1-9 by rows)`);
    rows[r] |= bit;
    cols[c] |= bit;
    boxes[b] |= bit;
  }

  const grid = cells.slice();
  const solutions = [];
  // Depth-first search on the blank with the fewest candidates; stops at the second solution.
  const search = () => {
    let best = -1;
    let bestMask = 0;
    let bestCount = 10;
    for (let i = 0; i < 81; i++) {
      if (grid[i] !== 0) continue;
      const r = Math.floor(i / 9);
      const c = i % 9;
      const mask = ALL & ~(rows[r] | cols[c] | boxes[BOX(r, c)]);
      const count = popcount(mask);
      if (count < bestCount) {
        best = i;
        bestMask = mask;
        bestCount = count;
        if (count <= 1) break;
      }
    }
    if (best === -1) {
      solutions.push(grid.slice());
      return;
    }
    if (bestCount === 0) return;
    const r = Math.floor(best / 9);
    const c = best % 9;
    const b = BOX(r, c);
    for (let d = 1; d <= 9 && solutions.length < 2; d++) {
      const bit = 1 << d;
      if (!(bestMask & bit)) continue;
      grid[best] = d;
      rows[r] |= bit;
      cols[c] |= bit;
      boxes[b] |= bit;
      search();
      rows[r] &= ~bit;
      cols[c] &= ~bit;
      boxes[b] &= ~bit;
      grid[best] = 0;
    }
  };
  search();

  if (solutions.length === 0) fail("unsolvable board: the givens admit no solution");
  if (solutions.length > 1) {
    const i = solutions[0].findIndex((d, k) => d !== solutions[1][k]);
    fail(
      `ambiguous board: more than one solution (two solutions differ at row ${Math.floor(i / 9) + 1}, ` +
        `column ${(i % 9) + 1}); add givens until the solution is unique`,
    );
  }
  const solution = [];
  for (let r = 0; r < 9; r++) solution.push(solutions[0].slice(r * 9, r * 9 + 9).join(""));
  return { givens, solution };
}

function popcount(mask) {
  let n = 0;
  for (let m = mask; m; m &= m - 1) n++;
  return n;
}
