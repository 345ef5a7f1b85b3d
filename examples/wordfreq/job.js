// Word frequencies over a text corpus.
//
// Input: the corpus as text (UTF-8). Options (all optional): {"top": N (default 20; 0 lists every
// word), "minLength": words shorter than this many code points are not counted (default 1),
// "stopWords": [words that are not counted]}.
//
// The word rule: the text is put in Unicode normalization form NFC; a word is a maximal run of letters,
// combining marks and digits (Unicode categories L, M and N), where an apostrophe (' or U+2019) between
// two such characters joins them ("don't", "l'été" are one word each; "rock-'n'-roll" is three); words
// are lower-cased with the locale-independent Unicode mapping (String.prototype.toLowerCase). Stop words
// are compared after the same normalization and lower-casing.
//
// Output (canonical JSON): {"words": number of counted words, "distinct": number of distinct words,
// "top": [[word, count], ...] the N most frequent, most frequent first, ties in ascending order of the
// words' UTF-16 code units (JavaScript's default string order), "other": the count of the words not
// in "top"}.

function jsJobRun(input, options, callback) {
  try {
    if (typeof input !== "string") throw new Error("wordfreq: the input must be text");
    const opts = typeof options === "string" ? parseJson(options, "the options") : options || {};
    callback(null, count(input, readOptions(opts)));
  } catch (error) {
    callback(error);
  }
}

// JSON.parse with a message that names the problem the same way on every engine.
function parseJson(text, what) {
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`wordfreq: ${what} must be JSON`);
  }
}

function readOptions(opts) {
  if (typeof opts !== "object" || Array.isArray(opts)) throw new Error("wordfreq: options must be a JSON object");
  const top = opts.top === undefined ? 20 : opts.top;
  const minLength = opts.minLength === undefined ? 1 : opts.minLength;
  const stopWords = opts.stopWords === undefined ? [] : opts.stopWords;
  if (!Number.isInteger(top) || top < 0) throw new Error(`wordfreq: "top" must be a whole number ≥ 0, got ${JSON.stringify(top)}`);
  if (!Number.isInteger(minLength) || minLength < 1) {
    throw new Error(`wordfreq: "minLength" must be a whole number ≥ 1, got ${JSON.stringify(minLength)}`);
  }
  if (!Array.isArray(stopWords) || !stopWords.every((w) => typeof w === "string")) {
    throw new Error('wordfreq: "stopWords" must be an array of strings');
  }
  return { top, minLength, stop: new Set(stopWords.map((w) => w.normalize("NFC").toLowerCase())) };
}

const WORD = /[\p{L}\p{M}\p{N}]+(?:['\u2019][\p{L}\p{M}\p{N}]+)*/gu;

function count(text, { top, minLength, stop }) {
  const counts = new Map();
  let words = 0;
  for (const match of text.normalize("NFC").matchAll(WORD)) {
    const word = match[0].toLowerCase();
    if (stop.has(word)) continue;
    if (minLength > 1 && [...word].length < minLength) continue;
    words++;
    counts.set(word, (counts.get(word) || 0) + 1);
  }
  const ranked = [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const shown = top === 0 ? ranked : ranked.slice(0, top);
  const other = words - shown.reduce((sum, [, n]) => sum + n, 0);
  return { words, distinct: counts.size, top: shown, other };
}
