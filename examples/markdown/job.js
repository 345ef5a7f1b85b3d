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
// their text in a <span class="unsafe-link">.

function jsJobRun(input, options, callback) {
  try {
    if (typeof input !== "string") throw new Error("markdown: the input must be Markdown text");
    const opts = typeof options === "string" ? JSON.parse(options) : options || {};
    callback(null, renderPage(input, opts));
  } catch (error) {
    callback(error);
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

  // Renders lines as blocks; `tight` renders paragraphs without <p> (the items of a tight list).
  blocks(lines, tight) {
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
        out.push(`<blockquote>\n${this.blocks(body, false)}\n</blockquote>`);
      } else if (ITEM.test(line)) {
        i = this.list(lines, i, out);
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
  list(lines, i, out) {
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
    const lis = items.map((item) => `<li>${this.blocks(item.body, !loose)}</li>`);
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
  // the delimiter runs, as CommonMark's "process emphasis" does (without its rule of three).

  inline(source) {
    const tokens = [];
    const text = (value) => tokens.push({ html: escapeHtml(value) });
    let i = 0;
    let plain = "";
    const flush = () => {
      if (plain) text(plain);
      plain = "";
    };
    while (i < source.length) {
      const ch = source[i];
      const rest = source.slice(i);
      let m;
      if (ch === "\\" && i + 1 < source.length && /[!-/:-@[-`{-~]/.test(source[i + 1])) {
        plain += source[i + 1];
        i += 2;
      } else if (ch === "\\" && source[i + 1] === "\n") {
        flush();
        tokens.push({ html: "<br>\n" });
        i += 2;
      } else if (ch === "\n") {
        const hard = / {2,}$/.test(plain);
        plain = plain.replace(/ +$/, "");
        flush();
        tokens.push({ html: hard ? "<br>\n" : "\n" });
        i++;
        while (source[i] === " ") i++;
      } else if (ch === "`") {
        const run = /^`+/.exec(rest)[0];
        // The closing run must be exactly as long as the opening one.
        const runs = /`+/g;
        runs.lastIndex = i + run.length;
        let end = -1;
        for (let r; (r = runs.exec(source)); ) {
          if (r[0].length === run.length) {
            end = r.index;
            break;
          }
        }
        if (end === -1) {
          plain += run;
          i += run.length;
        } else {
          flush();
          let code = source.slice(i + run.length, end).replace(/\n/g, " ");
          if (/^ .*[^ ].* $/.test(code)) code = code.slice(1, -1);
          tokens.push({ html: `<code>${escapeHtml(code)}</code>` });
          i = end + run.length;
        }
      } else if (ch === "<" && (m = /^<((?:https?|mailto):[^\s<>]*)>/i.exec(rest))) {
        flush();
        const url = escapeHtml(m[1]);
        tokens.push({ html: `<a href="${url}">${url}</a>` });
        i += m[0].length;
      } else if ((ch === "[" || (ch === "!" && source[i + 1] === "[")) && (m = this.link(source, i))) {
        flush();
        tokens.push({ html: m.html });
        i = m.end;
      } else if (ch === "*" || ch === "_") {
        flush();
        const run = ch === "*" ? /^\*+/.exec(rest)[0] : /^_+/.exec(rest)[0];
        const before = i === 0 ? " " : source[i - 1];
        const after = i + run.length < source.length ? source[i + run.length] : " ";
        const space = (c) => /\s/.test(c);
        const punct = (c) => /[\p{P}\p{S}]/u.test(c);
        const left = !space(after) && (!punct(after) || space(before) || punct(before));
        const right = !space(before) && (!punct(before) || space(after) || punct(after));
        // `_` inside a word is not emphasis (snake_case).
        const canOpen = ch === "*" ? left : left && (!right || punct(before));
        const canClose = ch === "*" ? right : right && (!left || punct(after));
        tokens.push({ delim: ch, count: run.length, canOpen, canClose, html: run });
        i += run.length;
      } else {
        plain += ch;
        i++;
      }
    }
    flush();
    return resolveEmphasis(tokens);
  }

  // [text](url "title") or ![alt](url "title") at source[i]; null when it is not one.
  link(source, i) {
    const image = source[i] === "!";
    const open = image ? i + 1 : i;
    let depth = 0;
    let close = -1;
    for (let k = open; k < source.length; k++) {
      const c = source[k];
      if (c === "\\") k++;
      else if (c === "`") {
        const run = /^`+/.exec(source.slice(k))[0];
        const end = source.indexOf(run, k + run.length);
        if (end !== -1) k = end + run.length - 1;
      } else if (c === "[") depth++;
      else if (c === "]" && --depth === 0) {
        close = k;
        break;
      }
    }
    if (close === -1) return null;
    const tail = /^\(\s*(<[^<>\n]*>|[^\s()<>]*(?:\([^\s()<>]*\)[^\s()<>]*)*)(?:\s+("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'))?\s*\)/.exec(
      source.slice(close + 1),
    );
    if (!tail) return null;
    let url = tail[1];
    if (url.startsWith("<")) url = url.slice(1, -1);
    url = url.replace(/\\([!-/:-@[-`{-~])/g, "$1");
    const title = tail[2] ? tail[2].slice(1, -1).replace(/\\([!-/:-@[-`{-~])/g, "$1") : null;
    const label = source.slice(open + 1, close);
    const end = close + 1 + tail[0].length;
    const safe = safeUrl(url);
    const titleAttr = title === null ? "" : ` title="${escapeHtml(title)}"`;
    if (image) {
      const alt = this.inline(label).replace(/<[^>]*>/g, "");
      if (safe === null) return { html: `<span class="unsafe-link">${alt}</span>`, end };
      return { html: `<img src="${escapeHtml(safe)}" alt="${alt}"${titleAttr}>`, end };
    }
    const inner = this.inline(label);
    if (safe === null) return { html: `<span class="unsafe-link">${inner}</span>`, end };
    return { html: `<a href="${escapeHtml(safe)}"${titleAttr}>${inner}</a>`, end };
  }
}

// Pairs delimiter runs into <em> and <strong>; unpaired runs stay literal text.
function resolveEmphasis(tokens) {
  for (let closer = 0; closer < tokens.length; closer++) {
    const c = tokens[closer];
    if (!c.delim || !c.canClose || c.count === 0) continue;
    for (let opener = closer - 1; opener >= 0; opener--) {
      const o = tokens[opener];
      if (o.delim !== c.delim || !o.canOpen || o.count === 0) continue;
      const use = o.count >= 2 && c.count >= 2 ? 2 : 1;
      const tag = use === 2 ? "strong" : "em";
      const inner = tokens.splice(opener + 1, closer - opener - 1);
      const html = inner.map(literal).join("");
      o.count -= use;
      c.count -= use;
      tokens.splice(opener + 1, 0, { html: `<${tag}>${html}</${tag}>` });
      // Go on after the closer, or look at it again if it can still close an earlier opener (***a** b*).
      closer = c.count > 0 ? opener + 1 : opener + 2;
      break;
    }
  }
  return tokens.map(literal).join("");
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
