// Functional check of a Mandelbrot tile, itself a job: its input is
// {"input": <the tile spec, JSON text>, "options": <the options text or null>,
//  "output": <the image bytes in base64>}.
//
// It reads the image in the format the options ask for — PGM: the header ("P5", width, height, maxval
// 255) and the length; PNG: the signature, every chunk's CRC-32, the IHDR (8-bit grey, no interlace),
// the zlib stream (stored deflate blocks, as the job writes them, with their length complements) and
// its Adler-32, and a filter byte 0 on every row — all with its own code. Then it recomputes a sample
// of pixels with BigInt arithmetic (the job uses doubles) from the rule stated in job.js: the four
// corners, the centre, one whole row and one whole column chosen from a hash of the output, and 200
// more pixels spread by that hash. One wrong pixel among W×H escapes a single check with probability
// about 1 − (W+H+205)/(W·H); a tile drawn from another rule fails at once.
// It returns {"ok": true, "format": f, "width": W, "height": H, "sampled": n} or throws the reason.

const FRAC = 23n;

function jsJobRun(input, options, callback) {
  const claim = typeof input === "string" ? JSON.parse(input) : input;
  if (claim === null || typeof claim !== "object") throw new Error("the check's input must be a JSON object {input, options, output}");
  const spec = typeof claim.input === "string" ? JSON.parse(claim.input) : claim.input;
  const opts = typeof claim.options === "string" ? JSON.parse(claim.options) : claim.options || {};
  const format = opts.format || "pgm";
  if (typeof claim.output !== "string") throw new Error("the output must be base64 text");
  const bytes = fromBase64(claim.output);
  const { width, height, pixels } = format === "png" ? readPng(bytes) : readPgm(bytes);
  if (width !== spec.width || height !== spec.height) {
    throw new Error(`the image is ${width}×${height}, the spec asks for ${spec.width}×${spec.height}`);
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
    const got = pixels[y * width + x];
    if (got !== want) throw new Error(`pixel (${x}, ${y}) is ${got}, the recomputed value is ${want}`);
  }
  return { ok: true, format, width, height, sampled: sample.length };
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

function readPgm(bytes) {
  const header = /^P5\s(\d+)\s(\d+)\s(\d+)\s/.exec(latin1(bytes.subarray(0, 32)));
  if (!header) throw new Error("the output is not a binary PGM (P5) image");
  const [width, height, maxval] = header.slice(1, 4).map(Number);
  if (maxval !== 255) throw new Error(`the image's maxval is ${maxval}, expected 255`);
  const offset = header[0].length;
  if (bytes.length !== offset + width * height) {
    throw new Error(`the image has ${bytes.length - offset} pixel bytes, expected ${width * height}`);
  }
  return { width, height, pixels: bytes.subarray(offset) };
}

function readPng(bytes) {
  const signature = "\x89PNG\r\n\x1a\n";
  if (latin1(bytes.subarray(0, 8)) !== signature) throw new Error("the output is not a PNG image");
  const u32 = (at) => bytes[at] * 16777216 + bytes[at + 1] * 65536 + bytes[at + 2] * 256 + bytes[at + 3];
  let width = 0;
  let height = 0;
  const idat = [];
  let pos = 8;
  let ended = false;
  while (!ended) {
    if (pos + 12 > bytes.length) throw new Error("the PNG ends inside a chunk");
    const length = u32(pos);
    const type = latin1(bytes.subarray(pos + 4, pos + 8));
    if (pos + 12 + length > bytes.length) throw new Error(`the PNG's ${type} chunk runs past the end`);
    if (crc32(bytes.subarray(pos + 4, pos + 8 + length)) !== u32(pos + 8 + length)) {
      throw new Error(`the PNG's ${type} chunk has a wrong CRC`);
    }
    const data = bytes.subarray(pos + 8, pos + 8 + length);
    if (type === "IHDR") {
      width = u32(pos + 8);
      height = u32(pos + 12);
      const [depth, colour, compression, filter, interlace] = data.subarray(8, 13);
      if (depth !== 8 || colour !== 0 || compression !== 0 || filter !== 0 || interlace !== 0) {
        throw new Error("the PNG is not 8-bit greyscale without interlace");
      }
    } else if (type === "IDAT") {
      idat.push(data);
    } else if (type === "IEND") {
      ended = true;
    }
    pos += 12 + length;
  }
  if (pos !== bytes.length) throw new Error("the PNG has bytes after IEND");
  const stream = concat(idat);
  if (stream.length < 6 || (stream[0] & 0x0f) !== 8 || (stream[0] * 256 + stream[1]) % 31 !== 0 || stream[1] & 0x20) {
    throw new Error("the PNG's image data is not a zlib stream");
  }
  const raw = [];
  let at = 2;
  for (let last = false; !last; ) {
    if (at + 5 > stream.length) throw new Error("the zlib stream ends inside a block header");
    last = (stream[at] & 1) === 1;
    if (stream[at] >> 1 !== 0) throw new Error("the zlib stream has a compressed block; the job writes stored blocks only");
    const len = stream[at + 1] | (stream[at + 2] << 8);
    const nlen = stream[at + 3] | (stream[at + 4] << 8);
    if ((len ^ nlen) !== 0xffff) throw new Error("a stored block's length and its complement disagree");
    raw.push(stream.subarray(at + 5, at + 5 + len));
    at += 5 + len;
  }
  const scanlines = concat(raw);
  if (at + 4 !== stream.length || adler32(scanlines) !== stream[at] * 16777216 + stream[at + 1] * 65536 + stream[at + 2] * 256 + stream[at + 3]) {
    throw new Error("the zlib stream's Adler-32 is wrong");
  }
  if (scanlines.length !== height * (width + 1)) throw new Error(`the PNG holds ${scanlines.length} bytes of rows, expected ${height * (width + 1)}`);
  const pixels = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    if (scanlines[y * (width + 1)] !== 0) throw new Error(`row ${y} of the PNG uses a filter; the job writes none`);
    pixels.set(scanlines.subarray(y * (width + 1) + 1, (y + 1) * (width + 1)), y * width);
  }
  return { width, height, pixels };
}

function concat(parts) {
  const out = new Uint8Array(parts.reduce((sum, p) => sum + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

// CRC-32 (the polynomial of PNG and zlib), one bit at a time.
function crc32(bytes) {
  let crc = -1;
  for (const byte of bytes) {
    crc ^= byte;
    for (let bit = 0; bit < 8; bit++) crc = (crc >>> 1) ^ (0xedb88320 & -(crc & 1));
  }
  return (crc ^ -1) >>> 0;
}

// Adler-32, with the modulo taken every 5552 bytes (the largest run that cannot overflow).
function adler32(bytes) {
  let a = 1;
  let b = 0;
  for (let start = 0; start < bytes.length; start += 5552) {
    const end = Math.min(start + 5552, bytes.length);
    for (let k = start; k < end; k++) {
      a += bytes[k];
      b += a;
    }
    a %= 65521;
    b %= 65521;
  }
  return b * 65536 + a;
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
