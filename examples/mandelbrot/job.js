// A Mandelbrot tile as a greyscale image (binary PGM or PNG), computed in fixed-point integer arithmetic
// so that every engine produces the same bytes (no floating-point rounding reaches a pixel).
//
// Input (JSON): {"width": W, "height": H, "centerX": decimal, "centerY": decimal, "step": decimal,
// "maxIter": N}. Decimals are strings like "-0.743" (numbers are accepted too). 1 ≤ W, H ≤ 4096,
// 1 ≤ N ≤ 100000, step > 0, and every pixel's point must lie within |re|, |im| ≤ 4.
// Options: {"format": "pgm" (the default) or "png"}.
// Output: a Uint8Array holding the image. PGM: "P5\n<W> <H>\n255\n" then W×H grey bytes, row by row
// from the top. PNG: 8-bit greyscale, no interlace, every row with filter 0, the zlib stream made of
// stored (uncompressed) deflate blocks of at most 65535 bytes — nothing to tune, so the bytes are fixed.
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
    const opts = typeof options === "string" ? parseJson(options, "the options") : options || {};
    const format = opts.format === undefined ? "pgm" : opts.format;
    if (format !== "pgm" && format !== "png") fail(`"format" must be "pgm" or "png", got ${JSON.stringify(format)}`);
    const tile = readSpec(spec);
    const pixels = render(tile);
    callback(null, format === "png" ? png(tile.width, tile.height, pixels) : pgm(tile.width, tile.height, pixels));
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

// The grey of every pixel, row by row from the top.
function render({ width, height, maxIter, cx, cy, step }) {
  const pixels = new Uint8Array(width * height);
  const limit = 4 * S;
  const shade = new Uint8Array(maxIter + 1);
  for (let n = 0; n < maxIter; n++) shade[n] = Math.floor((255 * (n + 1)) / (n + 9));
  let at = 0;
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
      pixels[at++] = shade[n];
    }
  }
  return pixels;
}

function pgm(width, height, pixels) {
  const header = `P5\n${width} ${height}\n255\n`;
  const image = new Uint8Array(header.length + pixels.length);
  for (let k = 0; k < header.length; k++) image[k] = header.charCodeAt(k);
  image.set(pixels, header.length);
  return image;
}

function png(width, height, pixels) {
  // The scanlines: a filter byte (0, none) before each row.
  const raw = new Uint8Array(height * (width + 1));
  for (let y = 0; y < height; y++) raw.set(pixels.subarray(y * width, (y + 1) * width), y * (width + 1) + 1);
  // zlib: header 78 01, stored blocks (BFINAL on the last, LEN and its complement), Adler-32.
  const blocks = Math.max(1, Math.ceil(raw.length / 65535));
  const zlib = new Uint8Array(2 + raw.length + 5 * blocks + 4);
  zlib[0] = 0x78;
  zlib[1] = 0x01;
  let at = 2;
  for (let b = 0; b < blocks; b++) {
    const len = Math.min(65535, raw.length - b * 65535);
    zlib[at] = b === blocks - 1 ? 1 : 0;
    zlib[at + 1] = len & 0xff;
    zlib[at + 2] = len >>> 8;
    zlib[at + 3] = ~len & 0xff;
    zlib[at + 4] = (~len >>> 8) & 0xff;
    zlib.set(raw.subarray(b * 65535, b * 65535 + len), at + 5);
    at += 5 + len;
  }
  let a = 1;
  let d = 0;
  for (let k = 0; k < raw.length; k++) {
    a = (a + raw[k]) % 65521;
    d = (d + a) % 65521;
  }
  writeU32(zlib, at, ((d << 16) | a) >>> 0);
  const header = new Uint8Array(13);
  writeU32(header, 0, width);
  writeU32(header, 4, height);
  header[8] = 8; // bit depth; colour type 0 (grey), compression, filter and interlace 0
  const chunks = [chunk("IHDR", header), chunk("IDAT", zlib), chunk("IEND", new Uint8Array(0))];
  const signature = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  const out = new Uint8Array(8 + chunks.reduce((sum, c) => sum + c.length, 0));
  out.set(signature, 0);
  let pos = 8;
  for (const c of chunks) {
    out.set(c, pos);
    pos += c.length;
  }
  return out;
}

// A PNG chunk: length, type, data, CRC-32 of type and data.
function chunk(type, data) {
  const out = new Uint8Array(12 + data.length);
  writeU32(out, 0, data.length);
  for (let k = 0; k < 4; k++) out[4 + k] = type.charCodeAt(k);
  out.set(data, 8);
  writeU32(out, 8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

function writeU32(bytes, at, value) {
  bytes[at] = value >>> 24;
  bytes[at + 1] = (value >>> 16) & 0xff;
  bytes[at + 2] = (value >>> 8) & 0xff;
  bytes[at + 3] = value & 0xff;
}

let CRC_TABLE = null;
function crc32(bytes) {
  if (CRC_TABLE === null) {
    CRC_TABLE = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      CRC_TABLE[n] = c >>> 0;
    }
  }
  let crc = 0xffffffff;
  for (let k = 0; k < bytes.length; k++) crc = CRC_TABLE[(crc ^ bytes[k]) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}
