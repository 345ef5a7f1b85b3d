// Functional check of a sudoku result, itself a job: its input is
// {"input": <the board as text>, "options": null, "output": <the job's output as text>}.
// It verifies, without solving anything, that the output is a completed sudoku (every row, column
// and box holds 1-9 once) that keeps every given of the board, and that "givens" counts them.
// It returns {"ok": true, "givens": n} or throws the reason.

function jsJobRun(input, options, callback) {
  const claim = typeof input === "string" ? JSON.parse(input) : input;
  if (claim === null || typeof claim !== "object") throw new Error("the check's input must be a JSON object {input, options, output}");
  const givens = boardCells(claim.input);
  let result;
  try {
    result = typeof claim.output === "string" ? JSON.parse(claim.output) : claim.output;
  } catch (error) {
    throw new Error(`output is not JSON: ${error.message}`);
  }
  if (result === null || typeof result !== "object" || !Array.isArray(result.solution)) {
    throw new Error('output has no "solution" array');
  }
  const keys = Object.keys(result).sort().join(",");
  if (keys !== "givens,solution") throw new Error(`output has fields ${keys}, expected givens,solution`);
  const rows = result.solution;
  if (rows.length !== 9 || !rows.every((row) => typeof row === "string" && /^[1-9]{9}$/.test(row))) {
    throw new Error("solution is not 9 rows of 9 digits 1-9");
  }
  const grid = rows.join("");
  // Each of the 27 units must be a permutation of 1..9.
  const units = [];
  for (let k = 0; k < 9; k++) {
    const row = [];
    const column = [];
    const box = [];
    for (let j = 0; j < 9; j++) {
      row.push(k * 9 + j);
      column.push(j * 9 + k);
      box.push((Math.floor(k / 3) * 3 + Math.floor(j / 3)) * 9 + (k % 3) * 3 + (j % 3));
    }
    units.push(["row", k, row], ["column", k, column], ["box", k, box]);
  }
  for (const [kind, k, unit] of units) {
    const digits = unit.map((i) => grid[i]).sort().join("");
    if (digits !== "123456789") throw new Error(`${kind} ${k + 1} holds ${digits}, not the digits 1-9 once each`);
  }
  let count = 0;
  for (let i = 0; i < 81; i++) {
    if (givens[i] === ".") continue;
    count++;
    if (grid[i] !== givens[i]) {
      throw new Error(`row ${Math.floor(i / 9) + 1}, column ${(i % 9) + 1} is ${grid[i]} but the board gives ${givens[i]}`);
    }
  }
  if (result.givens !== count) throw new Error(`output says ${result.givens} givens, the board has ${count}`);
  return { ok: true, givens: count };
}

// The board's 81 cells as a string of digits and "." — read loosely and differently from the job:
// comment lines dropped, then every cell character kept in order.
function boardCells(text) {
  if (Array.isArray(text)) text = text.map((row) => (Array.isArray(row) ? row.join("") : row)).join("\n");
  if (typeof text !== "string") throw new Error("the claim's input is not the board's text");
  const kept = text
    .split("\n")
    .filter((line) => !line.trim().startsWith("#"))
    .join("")
    .replace(/[^0-9.]/g, "")
    .replace(/0/g, ".");
  if (kept.length !== 81) throw new Error(`the board has ${kept.length} cells, not 81`);
  return kept;
}
