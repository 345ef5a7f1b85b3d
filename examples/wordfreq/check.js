// Functional check of a word-frequency result, itself a job: its input is
// {"input": <the corpus text>, "options": <the options text or null>, "output": <the result as text>}.
//
// It counts the corpus again by another method — a scan code point by code point with a small state
// machine instead of one regular expression, counts in a plain object instead of a Map — and verifies:
// the total and the number of distinct words; that the listed counts plus "other" sum to the total;
// that "top" has the asked length, is ordered by count (descending) then by word (UTF-16 order), and
// that no word left out outranks the last one listed; and every listed count against the recount.
// It returns {"ok": true, "words": n, "distinct": n, "checked": n} or throws the reason.

function jsJobRun(input, options, callback) {
  const claim = typeof input === "string" ? JSON.parse(input) : input;
  if (claim === null || typeof claim !== "object") throw new Error("the check's input must be a JSON object {input, options, output}");
  if (typeof claim.input !== "string") throw new Error("the claim's input is not text");
  const opts = typeof claim.options === "string" ? JSON.parse(claim.options) : claim.options || {};
  let result;
  try {
    result = typeof claim.output === "string" ? JSON.parse(claim.output) : claim.output;
  } catch (error) {
    throw new Error(`output is not JSON: ${error.message}`);
  }
  const keys = result && typeof result === "object" ? Object.keys(result).sort().join(",") : String(result);
  if (keys !== "distinct,other,top,words") throw new Error(`output has fields ${keys}, expected distinct,other,top,words`);

  const top = opts.top === undefined ? 20 : opts.top;
  const minLength = opts.minLength === undefined ? 1 : opts.minLength;
  const stop = Object.create(null);
  for (const w of opts.stopWords || []) stop[w.normalize("NFC").toLowerCase()] = true;

  const counts = recount(claim.input, minLength, stop);
  const all = Object.keys(counts);
  let total = 0;
  for (const w of all) total += counts[w];

  if (result.words !== total) throw new Error(`output counts ${result.words} words, the corpus has ${total}`);
  if (result.distinct !== all.length) throw new Error(`output counts ${result.distinct} distinct words, the corpus has ${all.length}`);
  const want = top === 0 ? all.length : Math.min(top, all.length);
  if (!Array.isArray(result.top) || result.top.length !== want) {
    throw new Error(`"top" should list ${want} words, it lists ${Array.isArray(result.top) ? result.top.length : "none"}`);
  }
  let listed = 0;
  const seen = Object.create(null);
  result.top.forEach((entry, k) => {
    if (!Array.isArray(entry) || entry.length !== 2 || typeof entry[0] !== "string" || !Number.isInteger(entry[1])) {
      throw new Error(`top[${k}] is not a [word, count] pair`);
    }
    const [word, n] = entry;
    if (seen[word]) throw new Error(`"${word}" is listed twice`);
    seen[word] = true;
    if (counts[word] !== n) throw new Error(`"${word}" is listed with ${n}, the corpus has it ${counts[word] || 0} times`);
    if (k > 0 && !before(result.top[k - 1], entry)) {
      throw new Error(`top[${k - 1}] ${JSON.stringify(result.top[k - 1])} and top[${k}] ${JSON.stringify(entry)} are out of order`);
    }
    listed += n;
  });
  if (listed + result.other !== total) {
    throw new Error(`listed counts (${listed}) plus "other" (${result.other}) are not the total ${total}`);
  }
  const last = result.top[result.top.length - 1];
  if (last) {
    for (const w of all) {
      if (!seen[w] && before([w, counts[w]], last)) {
        throw new Error(`"${w}" (${counts[w]}) outranks the last listed word ${JSON.stringify(last)} but is not listed`);
      }
    }
  }
  return { ok: true, words: total, distinct: all.length, checked: result.top.length };
}

// Does [word a, count] rank before [word b, count]? More frequent first, then UTF-16 order.
function before(a, b) {
  if (a[1] !== b[1]) return a[1] > b[1];
  return a[0] < b[0];
}

const WORD_CHAR = /^[\p{L}\p{M}\p{N}]$/u;
const APOSTROPHE = /^['\u2019]$/;

// Scans code points: a word grows over word characters and over one apostrophe followed by a word
// character; any other code point ends it.
function recount(text, minLength, stop) {
  const counts = Object.create(null);
  const chars = Array.from(text.normalize("NFC"));
  const add = (word) => {
    const w = word.toLowerCase();
    if (stop[w] || Array.from(w).length < minLength) return;
    counts[w] = (counts[w] || 0) + 1;
  };
  let word = "";
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i];
    if (WORD_CHAR.test(c)) {
      word += c;
    } else if (word !== "" && APOSTROPHE.test(c) && i + 1 < chars.length && WORD_CHAR.test(chars[i + 1])) {
      word += c;
    } else if (word !== "") {
      add(word);
      word = "";
    }
  }
  if (word !== "") add(word);
  return counts;
}
