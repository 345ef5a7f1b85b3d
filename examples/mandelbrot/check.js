// Functional check of a Mandelbrot tile, itself a job: its input is
// {"input": <the tile spec, JSON text>, "options": null, "output": <the PGM bytes in base64>}.
//
// It verifies the PGM header ("P5", the spec's width and height, maxval 255) and the length, then
// recomputes a sample of pixels with BigInt arithmetic (the job uses doubles) from the rule stated in
// job.js: the four corners, the centre, one whole row and one whole column chosen from a hash of the
// output, and 200 more pixels spread by that hash. One wrong pixel among W×H escapes a single check
// with probability about 1 − (W+H+205)/(W·H); a tile drawn from another rule fails at once.
// It returns {"ok": true, "width": W, "height": H, "sampled": n} or throws the reason.

const FRAC = 23n;

function jsJobRun(input, options, callback) {
  const claim = typeof input === "string" ? JSON.parse(input) : input;
  if (claim === null || typeof claim !== "object") throw new Error("the check's input must be a JSON object {input, options, output}");
  const spec = typeof claim.input === "string" ? JSON.parse(claim.input) : claim.input;
  if (typeof claim.output !== "string") throw new Error("the output must be base64 text");
  const bytes = fromBase64(claim.output);

  const header = /^P5\s(\d+)\s(\d+)\s(\d+)\s/.exec(latin1(bytes.subarray(0, 32)));
  if (!header) throw new Error("the output is not a binary PGM (P5) image");
  const [width, height, maxval] = header.slice(1, 4).map(Number);
  if (width !== spec.width || height !== spec.height) {
    throw new Error(`the image is ${width}×${height}, the spec asks for ${spec.width}×${spec.height}`);
  }
  if (maxval !== 255) throw new Error(`the image's maxval is ${maxval}, expected 255`);
  const offset = header[0].length;
  if (bytes.length !== offset + width * height) {
    throw new Error(`the image has ${bytes.length - offset} pixel bytes, expected ${width * height}`);
  }

  const cx = toFixed(spec.centerX);
  const cy = toFixed(spec.centerY);
  const step = toFixed(spec.step);
  const maxIter = BigInt(spec.maxIter);

  let seed = fnv1a(bytes);
  const next = (bound) => {
    seed = (Math.imul(seed ^ (seed >>> 15), 2246822519) ^ 0x9e3779b9) >>> 0;
    return seed % bound;
  };
  const sample = [
    [0, 0],
    [width - 1, 0],
    [0, height - 1],
    [width - 1, height - 1],
    [Math.floor(width / 2), Math.floor(height / 2)],
  ];
  const row = next(height);
  const column = next(width);
  for (let x = 0; x < width; x++) sample.push([x, row]);
  for (let y = 0; y < height; y++) sample.push([column, y]);
  for (let k = 0; k < 200; k++) sample.push([next(width), next(height)]);

  const halfW = BigInt(Math.floor(width / 2));
  const halfH = BigInt(Math.floor(height / 2));
  for (const [x, y] of sample) {
    const cr = cx + (BigInt(x) - halfW) * step;
    const ci = cy - (BigInt(y) - halfH) * step;
    const want = grey(iterations(cr, ci, maxIter), maxIter);
    const got = bytes[offset + y * width + x];
    if (got !== want) throw new Error(`pixel (${x}, ${y}) is ${got}, the recomputed value is ${want}`);
  }
  return { ok: true, width, height, sampled: sample.length };
}

// The job's iteration, replayed with BigInt: `>>` on BigInt is a floor division by 2^23.
function iterations(cr, ci, maxIter) {
  const limit = 4n << FRAC;
  let zr = 0n;
  let zi = 0n;
  let n = 0n;
  while (n < maxIter) {
    const rr = (zr * zr) >> FRAC;
    const ii = (zi * zi) >> FRAC;
    if (rr + ii > limit) break;
    const ri = (zr * zi) >> FRAC;
    zi = 2n * ri + ci;
    zr = rr - ii + cr;
    n++;
  }
  return n;
}

function grey(n, maxIter) {
  return n === maxIter ? 0 : Number((255n * (n + 1n)) / (n + 9n));
}

// A decimal to fixed point (scale 2^23), rounding half away from zero: digits times 2^23 over a power
// of ten, both exact in BigInt.
function toFixed(value) {
  const text = String(value);
  const m = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/.exec(text);
  if (!m) throw new Error(`${JSON.stringify(value)} is not a decimal number`);
  const frac = m[3] || "";
  const exp = Number(m[4] || 0) - frac.length;
  let num = BigInt(m[2] + frac) << FRAC;
  let den = 1n;
  if (exp >= 0) num *= 10n ** BigInt(exp);
  else den = 10n ** BigInt(-exp);
  // den is 1 (num/den exact) or an even power of ten (den/2 exact): this is floor(num/den + 1/2).
  const magnitude = (num + den / 2n) / den;
  return m[1] ? -magnitude : magnitude;
}

function latin1(bytes) {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return s;
}

function fromBase64(text) {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const clean = text.replace(/=+$/, "");
  if (/[^A-Za-z0-9+/]/.test(clean) || clean.length % 4 === 1) throw new Error("the output is not valid base64");
  const out = new Uint8Array(Math.floor((clean.length * 3) / 4));
  let bits = 0;
  let value = 0;
  let at = 0;
  for (let i = 0; i < clean.length; i++) {
    value = (value << 6) | alphabet.indexOf(clean[i]);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[at++] = (value >> bits) & 0xff;
    }
  }
  return out;
}

function fnv1a(bytes) {
  let h = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i += 7) h = Math.imul(h ^ bytes[i], 0x01000193) >>> 0;
  return h;
}
