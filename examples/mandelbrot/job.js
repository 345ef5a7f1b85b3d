// A Mandelbrot tile as a greyscale image (binary PGM), computed in fixed-point integer arithmetic so that
// every engine produces the same bytes (no floating-point rounding reaches a pixel).
//
// Input (JSON): {"width": W, "height": H, "centerX": decimal, "centerY": decimal, "step": decimal,
// "maxIter": N}. Decimals are strings like "-0.743" (numbers are accepted too). 1 ≤ W, H ≤ 4096,
// 1 ≤ N ≤ 100000, step > 0, and every pixel's point must lie within |re|, |im| ≤ 4.
// Options: none.
// Output: a Uint8Array holding a binary PGM: "P5\n<W> <H>\n255\n" then W×H grey bytes, row by row from
// the top.
//
// The arithmetic, which any checker can replay: numbers are integers scaled by S = 2^23; a decimal d
// becomes sign(d)·floor(|d|·S + 1/2). Pixel (px, py) is the point
//   cr = CX + (px − floor(W/2))·STEP,   ci = CY − (py − floor(H/2))·STEP
// and from zr = zi = 0 and n = 0, while n < N:
//   rr = floor(zr²/S), ii = floor(zi²/S); stop if rr + ii > 4S;
//   ri = floor(zr·zi/S); zi = 2·ri + ci; zr = rr − ii + cr; n = n + 1.
// (Every product stays below 2^53, so doubles hold it exactly.) A pixel whose n reached N is inside
// (grey 0); otherwise its grey is floor(255·(n+1) / (n+9)).

const FRAC_BITS = 23;
const S = 2 ** FRAC_BITS;

function jsJobRun(input, options, callback) {
  try {
    const spec = typeof input === "string" ? parseJson(input, "the input") : input;
    callback(null, render(readSpec(spec)));
  } catch (error) {
    callback(error);
  }
}

// JSON.parse with a message that names the problem the same way on every engine.
function parseJson(text, what) {
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`mandelbrot: ${what} must be JSON`);
  }
}

function fail(message) {
  throw new Error(`mandelbrot: ${message}`);
}

// A decimal (string or number) to fixed point, rounding half away from zero; exact, through BigInt.
function fixed(value, name) {
  const text = typeof value === "number" ? String(value) : value;
  const m = typeof text === "string" ? /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/.exec(text) : null;
  if (!m) fail(`"${name}" must be a decimal number, got ${JSON.stringify(value)}`);
  const digits = BigInt(m[2] + (m[3] || ""));
  const exp = BigInt(m[4] || 0) - BigInt((m[3] || "").length);
  if (exp > 20n || exp < -60n) fail(`"${name}" is out of range`);
  let num = digits * (1n << BigInt(FRAC_BITS));
  let den = 1n;
  if (exp >= 0n) num *= 10n ** exp;
  else den = 10n ** -exp;
  const magnitude = (2n * num + den) / (2n * den);
  if (magnitude > 1n << 40n) fail(`"${name}" is out of range`);
  return Number(m[1] ? -magnitude : magnitude);
}

function readSpec(spec) {
  if (spec === null || typeof spec !== "object" || Array.isArray(spec)) fail("the input must be a JSON object");
  const int = (name, min, max) => {
    const v = spec[name];
    if (!Number.isInteger(v) || v < min || v > max) fail(`"${name}" must be a whole number from ${min} to ${max}, got ${JSON.stringify(v)}`);
    return v;
  };
  const width = int("width", 1, 4096);
  const height = int("height", 1, 4096);
  const maxIter = int("maxIter", 1, 100000);
  const cx = fixed(spec.centerX, "centerX");
  const cy = fixed(spec.centerY, "centerY");
  const step = fixed(spec.step, "step");
  if (step <= 0) fail('"step" must be positive (after rounding to 2^-23)');
  const left = cx - Math.floor(width / 2) * step;
  const right = left + (width - 1) * step;
  const top = cy + Math.floor(height / 2) * step;
  const bottom = top - (height - 1) * step;
  if (Math.max(-left, right, top, -bottom) > 4 * S) fail("the tile reaches beyond |re|, |im| ≤ 4");
  return { width, height, maxIter, cx, cy, step };
}

function render({ width, height, maxIter, cx, cy, step }) {
  const header = `P5\n${width} ${height}\n255\n`;
  const image = new Uint8Array(header.length + width * height);
  for (let k = 0; k < header.length; k++) image[k] = header.charCodeAt(k);
  const limit = 4 * S;
  const shade = new Uint8Array(maxIter + 1);
  for (let n = 0; n < maxIter; n++) shade[n] = Math.floor((255 * (n + 1)) / (n + 9));
  let at = header.length;
  for (let py = 0; py < height; py++) {
    const ci = cy - (py - Math.floor(height / 2)) * step;
    for (let px = 0; px < width; px++) {
      const cr = cx + (px - Math.floor(width / 2)) * step;
      let zr = 0;
      let zi = 0;
      let n = 0;
      while (n < maxIter) {
        const rr = Math.floor((zr * zr) / S);
        const ii = Math.floor((zi * zi) / S);
        if (rr + ii > limit) break;
        const ri = Math.floor((zr * zi) / S);
        zi = 2 * ri + ci;
        zr = rr - ii + cr;
        n++;
      }
      image[at++] = shade[n];
    }
  }
  return image;
}
