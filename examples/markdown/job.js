// Markdown to a complete HTML page — the original JsJob use: jobs that produce web pages.
//
// Input: Markdown text (UTF-8). Options (all optional): {"title": page title (default: the first
// level-1 heading, else "Untitled"), "lang": the page's language tag (default "en"), "toc": true to add
// a table of contents of the level-1 to level-3 headings}.
// Output: the page as a string (UTF-8 bytes).
//
// The Markdown subset (a CommonMark-like reading): ATX headings (`#` to `######`, each with an id made
// from its text), paragraphs, hard line breaks (two trailing spaces or a trailing backslash), `*em*`
// and `_em_`, `**strong**` and `__strong__`, code spans, fenced code blocks (``` or ~~~, with an info
// string that becomes class="language-…"), indented code blocks, bullet lists (`-`, `*`, `+`) and
// ordered lists (`1.` or `1)`), nested by indentation, tight or loose, block quotes (nested), thematic
// breaks, links `[text](url "title")`, images `![alt](src "title")`, autolinks `<https://…>`, and
// backslash escapes; tabs count as 4 spaces. Raw HTML is not passed through: every character of the source is HTML-escaped, so
// the page holds no markup the source did not ask for through Markdown. Links and images whose URL
// names a scheme other than http, https or mailto (javascript:, data:, …) lose their URL: they render as
// their text in a <span class="unsafe-link">. Quotes and lists nest at most 32 deep (deeper is a job
// error, the same on every engine); brackets inside link text are read as links 4 deep at most. The
// time taken grows linearly with the input.

function jsJobRun(input, options, callback) {
  try {
    if (typeof input !== "string") throw new Error("markdown: the input must be Markdown text");
    const opts = typeof options === "string" ? parseJson(options, "the options") : options || {};
    callback(null, renderPage(input, opts));
  } catch (error) {
    callback(error);
  }
}

// JSON.parse with a message that names the problem the same way on every engine.
function parseJson(text, what) {
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`markdown: ${what} must be JSON`);
  }
}

// ---------------------------------------------------------------------------------------------------
// Escaping and URLs

const ESCAPES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
function escapeHtml(text) {
  return text.replace(/[&<>"']/g, (ch) => ESCAPES[ch]);
}

// A URL is kept only if it is relative or its scheme is http, https or mailto. Control characters and
// spaces are dropped before the scheme is read, as browsers do ("java\tscript:" is "javascript:").
function safeUrl(url) {
  const squeezed = url.replace(/[\u0000-\u0020\u007f]/g, "");
  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(squeezed);
  if (scheme && !/^(https?|mailto)$/i.test(scheme[1])) return null;
  return squeezed;
}

// ---------------------------------------------------------------------------------------------------
// Blocks

const FENCE = /^ {0,3}(`{3,}|~{3,})[ \t]*([^`]*?)[ \t]*$/;
const HEADING = /^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$/;
const RULE = /^ {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$/;
const QUOTE = /^ {0,3}> ?(.*)$/;
const ITEM = /^( {0,3})([-*+]|\d{1,9}[.)])( {1,4}(?=\S)|[ \t]*$)(.*)$/;
const BLANK = /^[ \t]*$/;

function startsBlock(line) {
  return FENCE.test(line) || HEADING.test(line) || RULE.test(line) || QUOTE.test(line) || ITEM.test(line);
}

class Renderer {
  constructor() {
    this.headings = []; // {level, id, html, text}
    this.ids = new Map();
  }

  // Renders lines as blocks; `tight` renders paragraphs without <p> (the items of a tight list);
  // `depth` counts the quotes and lists around them. The cap is part of the job's definition: without
  // it, deep nesting would end in a stack overflow at a depth that differs between engines.
  blocks(lines, tight, depth = 0) {
    if (depth > MAX_NESTING) {
      throw new Error(`markdown: quotes and lists are nested more than ${MAX_NESTING} deep; flatten the document`);
    }
    const out = [];
    let i = 0;
    while (i < lines.length) {
      const line = lines[i];
      let m;
      if (BLANK.test(line)) {
        i++;
      } else if ((m = FENCE.exec(line))) {
        const fence = m[1];
        const info = m[2].split(/[ \t]/)[0];
        const indent = line.length - line.trimStart().length;
        const body = [];
        i++;
        while (i < lines.length) {
          const close = /^ {0,3}(`{3,}|~{3,})[ \t]*$/.exec(lines[i]);
          if (close && close[1][0] === fence[0] && close[1].length >= fence.length) break;
          body.push(lines[i].replace(new RegExp(`^ {0,${indent}}`), ""));
          i++;
        }
        i++; // the closing fence (or the end of the document)
        const cls = info ? ` class="language-${escapeHtml(info)}"` : "";
        out.push(`<pre><code${cls}>${escapeHtml(body.map((l) => l + "\n").join(""))}</code></pre>`);
      } else if ((m = HEADING.exec(line))) {
        out.push(this.heading(m[1].length, m[2] || ""));
        i++;
      } else if (RULE.test(line)) {
        out.push("<hr>");
        i++;
      } else if (QUOTE.test(line)) {
        const body = [];
        while (i < lines.length && !BLANK.test(lines[i])) {
          const q = QUOTE.exec(lines[i]);
          if (q) body.push(q[1]);
          else if (startsBlock(lines[i])) break;
          else body.push(lines[i]); // lazy continuation of the quoted paragraph
          i++;
        }
        out.push(`<blockquote>\n${this.blocks(body, false, depth + 1)}\n</blockquote>`);
      } else if (ITEM.test(line)) {
        i = this.list(lines, i, out, depth);
      } else if (/^ {4}/.test(line)) {
        const body = [];
        while (i < lines.length && (/^ {4}/.test(lines[i]) || BLANK.test(lines[i]))) body.push(lines[i++].slice(4));
        while (body.length && BLANK.test(body[body.length - 1])) body.pop();
        out.push(`<pre><code>${escapeHtml(body.map((l) => l + "\n").join(""))}</code></pre>`);
      } else {
        const para = [];
        while (i < lines.length && !BLANK.test(lines[i]) && (para.length === 0 || !startsBlock(lines[i]))) {
          para.push(lines[i++]);
        }
        const html = this.inline(para.map((l) => l.replace(/^[ \t]+/, "")).join("\n").replace(/[ \t]+$/, ""));
        out.push(tight ? html : `<p>${html}</p>`);
      }
    }
    return out.join("\n");
  }

  // A list starting at lines[i]; returns the index after it.
  list(lines, i, out, depth) {
    const first = ITEM.exec(lines[i]);
    const ordered = /\d/.test(first[2]);
    const marker = ordered ? first[2].slice(-1) : first[2];
    const baseIndent = first[1].length;
    const items = [];
    let loose = false;
    // The next item of this list: same indentation, same kind, same bullet or delimiter.
    const sameList = (line) => {
      const m = ITEM.exec(line);
      if (!m || RULE.test(line) || m[1].length !== baseIndent || /\d/.test(m[2]) !== ordered) return null;
      return m[2].slice(-1) === marker ? m : null;
    };
    while (i < lines.length) {
      const m = sameList(lines[i]);
      if (!m) break;
      const contentIndent = m[1].length + m[2].length + (m[4] === "" ? 1 : m[3].length);
      const body = [m[4]];
      i++;
      let sawBlank = false;
      while (i < lines.length) {
        const line = lines[i];
        if (BLANK.test(line)) {
          sawBlank = true;
          body.push("");
          i++;
          continue;
        }
        const indent = line.length - line.trimStart().length;
        if (indent >= contentIndent) {
          if (sawBlank) loose = true;
          sawBlank = false;
          body.push(line.slice(contentIndent));
          i++;
        } else if (!sawBlank && !startsBlock(line)) {
          body.push(line); // lazy continuation of the item's paragraph
          i++;
        } else {
          break;
        }
      }
      while (body.length && body[body.length - 1] === "") body.pop();
      items.push({ body, start: ordered ? Number(m[2].slice(0, -1)) : 0 });
      // A blank line between two items makes the list loose.
      if (sawBlank && i < lines.length && sameList(lines[i])) loose = true;
    }
    const tag = ordered ? "ol" : "ul";
    const start = ordered && items[0].start !== 1 ? ` start="${items[0].start}"` : "";
    const lis = items.map((item) => `<li>${this.blocks(item.body, !loose, depth + 1)}</li>`);
    out.push(`<${tag}${start}>\n${lis.join("\n")}\n</${tag}>`);
    return i;
  }

  heading(level, source) {
    const html = this.inline(source);
    const text = html.replace(/<[^>]*>/g, "");
    let slug = unescapeHtml(text)
      .toLowerCase()
      .replace(/[^\p{L}\p{N}]+/gu, "-")
      .replace(/^-+|-+$/g, "");
    if (slug === "") slug = "section";
    const seen = this.ids.get(slug) || 0;
    this.ids.set(slug, seen + 1);
    const id = seen === 0 ? slug : `${slug}-${seen + 1}`;
    this.headings.push({ level, id, html, text });
    return `<h${level} id="${escapeHtml(id)}">${html}</h${level}>`;
  }

  // -------------------------------------------------------------------------------------------------
  // Inlines: a scan into tokens (text, finished HTML, delimiter runs), then emphasis is resolved on
  // the delimiter runs, as CommonMark's "process emphasis" does (without its rule of three). Every step
  // is linear or n·log n in the text, so that no input makes a worker spin: code-span closers and
  // bracket pairs are found in one pass first, and link labels are read inside link labels only
  // MAX_LINK_DEPTH deep.

  inline(source, depth = 0) {
    const closer = codeSpanCloser(source);
    const brackets = depth < MAX_LINK_DEPTH ? bracketPairs(source, closer) : new Map();
    const tokens = [];
    let i = 0;
    let from = 0; // plain text runs from `from` to `i`
    const flush = (to) => {
      if (to > from) tokens.push({ html: escapeHtml(source.slice(from, to)) });
    };
    const RUN = /`+|\*+|_+/y;
    const AUTOLINK = /<((?:https?|mailto):[^\s<>]*)>/iy;
    while (i < source.length) {
      const ch = source[i];
      let m;
      if (ch === "\\" && i + 1 < source.length && /[!-/:-@[-`{-~]/.test(source[i + 1])) {
        flush(i);
        tokens.push({ html: escapeHtml(source[i + 1]) });
        i += 2;
        from = i;
      } else if (ch === "\\" && source[i + 1] === "\n") {
        flush(i);
        tokens.push({ html: "<br>\n" });
        i += 2;
        from = i;
      } else if (ch === "\n") {
        let end = i;
        while (end > from && source[end - 1] === " ") end--;
        flush(end);
        tokens.push({ html: i - end >= 2 ? "<br>\n" : "\n" });
        i++;
        while (source[i] === " ") i++;
        from = i;
      } else if (ch === "`") {
        RUN.lastIndex = i;
        const run = RUN.exec(source)[0].length;
        const end = closer(i + run, run);
        if (end === -1) {
          i += run; // no closing run: the backticks are text
        } else {
          flush(i);
          let code = source.slice(i + run, end).replace(/\n/g, " ");
          if (/^ .*[^ ].* $/.test(code)) code = code.slice(1, -1);
          tokens.push({ html: `<code>${escapeHtml(code)}</code>` });
          i = end + run;
          from = i;
        }
      } else if (ch === "<" && ((AUTOLINK.lastIndex = i), (m = AUTOLINK.exec(source)))) {
        flush(i);
        const url = escapeHtml(m[1]);
        tokens.push({ html: `<a href="${url}">${url}</a>` });
        i += m[0].length;
        from = i;
      } else if ((ch === "[" || (ch === "!" && source[i + 1] === "[")) && (m = this.link(source, i, brackets, depth))) {
        flush(i);
        tokens.push({ html: m.html });
        i = m.end;
        from = i;
      } else if (ch === "*" || ch === "_") {
        flush(i);
        RUN.lastIndex = i;
        const run = RUN.exec(source)[0].length;
        const before = i === 0 ? " " : source[i - 1];
        const after = i + run < source.length ? source[i + run] : " ";
        const space = (c) => /\s/.test(c);
        const punct = (c) => /[\p{P}\p{S}]/u.test(c);
        const left = !space(after) && (!punct(after) || space(before) || punct(before));
        const right = !space(before) && (!punct(before) || space(after) || punct(after));
        // `_` inside a word is not emphasis (snake_case).
        const canOpen = ch === "*" ? left : left && (!right || punct(before));
        const canClose = ch === "*" ? right : right && (!left || punct(after));
        tokens.push({ delim: ch, count: run, canOpen, canClose });
        i += run;
        from = i;
      } else {
        i++;
      }
    }
    flush(i);
    return resolveEmphasis(tokens);
  }

  // [text](url "title") or ![alt](url "title") at source[i]; null when it is not one.
  link(source, i, brackets, depth) {
    const image = source[i] === "!";
    const open = image ? i + 1 : i;
    const close = brackets.get(open);
    if (close === undefined) return null;
    LINK_TAIL.lastIndex = close + 1;
    const tail = LINK_TAIL.exec(source);
    if (!tail) return null;
    let url = tail[1];
    if (url.startsWith("<")) url = url.slice(1, -1);
    url = url.replace(/\\([!-/:-@[-`{-~])/g, "$1");
    const title = tail[2] ? tail[2].slice(1, -1).replace(/\\([!-/:-@[-`{-~])/g, "$1") : null;
    const label = source.slice(open + 1, close);
    const end = close + 1 + tail[0].length;
    const safe = safeUrl(url);
    const titleAttr = title === null ? "" : ` title="${escapeHtml(title)}"`;
    const inner = this.inline(label, depth + 1);
    if (image) {
      const alt = inner.replace(/<[^>]*>/g, "");
      if (safe === null) return { html: `<span class="unsafe-link">${alt}</span>`, end };
      return { html: `<img src="${escapeHtml(safe)}" alt="${alt}"${titleAttr}>`, end };
    }
    if (safe === null) return { html: `<span class="unsafe-link">${inner}</span>`, end };
    return { html: `<a href="${escapeHtml(safe)}"${titleAttr}>${inner}</a>`, end };
  }
}

const MAX_LINK_DEPTH = 4;
const MAX_NESTING = 32;
const LINK_TAIL = /\(\s*(<[^<>\n]*>|[^\s()<>]*(?:\([^\s()<>]*\)[^\s()<>]*)*)(?:\s+("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'))?\s*\)/y;

// closer(from, n): where the first run of exactly n backticks at or after `from` starts, or -1. Runs
// are read raw (a backslash does not escape inside a code span); binary search over the runs of each
// length.
function codeSpanCloser(source) {
  const starts = new Map();
  for (const m of source.matchAll(/`+/g)) {
    const list = starts.get(m[0].length);
    if (list) list.push(m.index);
    else starts.set(m[0].length, [m.index]);
  }
  return (from, n) => {
    const list = starts.get(n);
    if (!list) return -1;
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (list[mid] < from) lo = mid + 1;
      else hi = mid;
    }
    return lo < list.length ? list[lo] : -1;
  };
}

// The matching "]" of every "[" that has one, skipping escaped characters and code spans exactly as
// the inline scan does.
function bracketPairs(source, closer) {
  const pairs = new Map();
  const open = [];
  const RUN = /`+/y;
  for (let k = 0; k < source.length; k++) {
    const c = source[k];
    if (c === "\\") {
      k++;
    } else if (c === "`") {
      RUN.lastIndex = k;
      const run = RUN.exec(source)[0].length;
      const end = closer(k + run, run);
      k = (end === -1 ? k + run : end + run) - 1;
    } else if (c === "[") {
      open.push(k);
    } else if (c === "]" && open.length) {
      pairs.set(open.pop(), k);
    }
  }
  return pairs;
}

// Pairs delimiter runs into <em> and <strong>; unpaired runs stay literal text. The tokens form a
// linked list, so that wrapping the tokens between two delimiters costs only what they hold, and
// `bottom` remembers below which token a search for an opener of each kind cannot succeed: linear time.
function resolveEmphasis(tokens) {
  const n = tokens.length;
  const prev = Array.from({ length: n }, (_, k) => k - 1);
  const next = Array.from({ length: n }, (_, k) => (k + 1 < n ? k + 1 : -1));
  const bottom = { "*": 0, _: 0 };
  for (let closer = 0; closer !== -1; ) {
    const c = tokens[closer];
    if (!c.delim || !c.canClose || c.count === 0) {
      closer = next[closer];
      continue;
    }
    let opener = prev[closer];
    while (opener >= bottom[c.delim]) {
      const o = tokens[opener];
      if (o.delim === c.delim && o.canOpen && o.count > 0) break;
      opener = prev[opener];
    }
    if (opener < bottom[c.delim]) {
      bottom[c.delim] = closer;
      closer = next[closer];
      continue;
    }
    const o = tokens[opener];
    const use = o.count >= 2 && c.count >= 2 ? 2 : 1;
    const tag = use === 2 ? "strong" : "em";
    // The tokens between the two become one (in the first one's slot: there is always one, since two
    // delimiter runs of one kind are never adjacent).
    const slot = next[opener];
    let html = "";
    for (let k = slot; k !== closer; k = next[k]) html += literal(tokens[k]);
    tokens[slot] = { html: `<${tag}>${html}</${tag}>` };
    next[slot] = closer;
    prev[closer] = slot;
    o.count -= use;
    c.count -= use;
    // Look at the closer again if it can still close an earlier opener (***a** b*).
    if (c.count === 0) closer = next[closer];
  }
  let out = "";
  for (let k = 0; k !== -1 && n > 0; k = next[k]) out += literal(tokens[k]);
  return out;
}

function literal(token) {
  return token.delim ? token.delim.repeat(token.count) : token.html;
}

function unescapeHtml(text) {
  return text.replace(/&(amp|lt|gt|quot|#39);/g, (_, name) => ({ amp: "&", lt: "<", gt: ">", quot: '"', "#39": "'" })[name]);
}

// ---------------------------------------------------------------------------------------------------
// The page

const STYLE = [
  "body{margin:0;font-family:system-ui,sans-serif;line-height:1.5;color:#222}",
  "main,nav{max-width:46rem;margin:0 auto;padding:0 1rem}",
  "pre{background:#f4f4f4;padding:.75rem;overflow-x:auto}",
  "code{font-family:ui-monospace,monospace;font-size:.95em}",
  "blockquote{margin-left:0;padding-left:1rem;border-left:.25rem solid #ccc;color:#555}",
  "img{max-width:100%}",
  ".unsafe-link{text-decoration:line-through}",
].join("\n");

function renderPage(markdown, opts) {
  if (opts === null || typeof opts !== "object" || Array.isArray(opts)) {
    throw new Error("markdown: options must be a JSON object");
  }
  const lines = markdown.replace(/\r\n?/g, "\n").replace(/\t/g, "    ").split("\n");
  const renderer = new Renderer();
  const body = renderer.blocks(lines, false);
  const h1 = renderer.headings.find((h) => h.level === 1);
  const title = typeof opts.title === "string" ? escapeHtml(opts.title) : h1 ? h1.text : "Untitled";
  const lang = typeof opts.lang === "string" ? opts.lang : "en";
  if (!/^[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*$/.test(lang)) throw new Error(`markdown: "lang" ${JSON.stringify(lang)} is not a language tag`);
  const parts = [
    "<!DOCTYPE html>",
    `<html lang="${lang}">`,
    "<head>",
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${title}</title>`,
    `<style>\n${STYLE}\n</style>`,
    "</head>",
    "<body>",
  ];
  if (opts.toc === true) {
    const entries = renderer.headings
      .filter((h) => h.level <= 3)
      .map((h) => `<li class="toc-${h.level}"><a href="#${escapeHtml(h.id)}">${h.text}</a></li>`);
    if (entries.length) parts.push(`<nav>\n<ul>\n${entries.join("\n")}\n</ul>\n</nav>`);
  }
  parts.push("<main>", body, "</main>", "</body>", "</html>", "");
  return parts.join("\n");
}
