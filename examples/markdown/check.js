// Functional check of a Markdown page, itself a job: its input is
// {"input": <the Markdown text>, "options": <the options text or null>, "output": <the page as text>}.
//
// It reads the page with its own small HTML reader (no code shared with the renderer) and verifies:
// - well-formed HTML: a doctype, then only known tags with quoted attributes, every element closed in
//   order, text free of raw `<` and `>`, every `&` a character reference; one html, head, title, body and
//   main; no <script> or other element outside the renderer's set, no `on…` attribute, no URL with a
//   scheme other than http, https or mailto;
// - the source's content, read from the Markdown by line patterns: every ATX heading is a heading of the
//   page with the same level and text, in order; the first line of every list item starts the text of a
//   list item of the page, in order; every inline link with a safe URL is an <a> with that exact href
//   and text; the title is the option's title or the first level-1 heading;
// - nothing dropped or added: the words (runs of letters and digits) of <main>, characters decoded, are
//   exactly the words of the source, in order, once link and image URLs, fence lines and list markers
//   are set aside. So text the source wrote as `<script>` is in the page as text, escaped.
// It returns {"ok": true, "headings": n, "items": n, "links": n, "words": n} or throws the reason.

function jsJobRun(input, options, callback) {
  const claim = typeof input === "string" ? JSON.parse(input) : input;
  if (claim === null || typeof claim !== "object") throw new Error("the check's input must be a JSON object {input, options, output}");
  if (typeof claim.input !== "string") throw new Error("the claim's input is not Markdown text");
  if (typeof claim.output !== "string") throw new Error("the output is not text");
  const opts = typeof claim.options === "string" ? JSON.parse(claim.options) : claim.options || {};
  const page = readPage(claim.output);
  const source = readSource(claim.input);

  // Compared without emphasis marks, backticks, backslashes and white space (a code span drops a space).
  const norm = (text) => text.replace(/[*_`\\\s]/g, "");

  if (source.headings.length !== page.headings.length) {
    throw new Error(`the source has ${source.headings.length} headings, the page ${page.headings.length}`);
  }
  source.headings.forEach((h, k) => {
    const got = page.headings[k];
    if (got.level !== h.level || norm(got.text) !== norm(h.text)) {
      throw new Error(`heading ${k + 1}: expected h${h.level} ${JSON.stringify(h.text.trim())}, found h${got.level} ${JSON.stringify(got.text.trim())}`);
    }
  });

  let at = 0;
  for (const item of source.items) {
    const want = norm(item);
    while (at < page.items.length && !norm(page.items[at]).startsWith(want)) at++;
    if (at === page.items.length) throw new Error(`list item ${JSON.stringify(item.trim())} is missing from the page (or out of order)`);
    at++;
  }

  at = 0;
  for (const link of source.links) {
    while (at < page.links.length && !(page.links[at].href === link.url && norm(page.links[at].text) === norm(link.text))) at++;
    if (at === page.links.length) {
      throw new Error(`link [${link.text}](${link.url}) is missing from the page (or out of order)`);
    }
    at++;
  }

  const h1 = page.headings.find((h) => h.level === 1);
  const title = typeof opts.title === "string" ? opts.title : h1 ? h1.text : "Untitled";
  if (page.title !== title) throw new Error(`the title is ${JSON.stringify(page.title)}, expected ${JSON.stringify(title)}`);

  const n = Math.min(source.words.length, page.words.length);
  let k = 0;
  while (k < n && source.words[k] === page.words[k]) k++;
  if (k < source.words.length || k < page.words.length) {
    const around = (words) => JSON.stringify(words.slice(Math.max(0, k - 3), k + 3).join(" "));
    throw new Error(
      `the page's text differs from the source at word ${k + 1}: source ${around(source.words)}, page ${around(page.words)}`,
    );
  }
  return {
    ok: true,
    headings: page.headings.length,
    items: source.items.length,
    links: source.links.length,
    words: page.words.length,
  };
}

const WORD = /[\p{L}\p{N}]+/gu;
const words = (text) => text.normalize("NFC").match(WORD) || [];

function schemeIsSafe(url) {
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url.replace(/[\u0000-\u0020\u007f]/g, ""));
  return !scheme || ["http", "https", "mailto"].includes(scheme[1].toLowerCase());
}

// ---------------------------------------------------------------------------------------------------
// The page

const ALLOWED = {
  html: ["lang"], head: [], meta: ["charset", "name", "content"], title: [], style: [], body: [], nav: [],
  main: [], h1: ["id"], h2: ["id"], h3: ["id"], h4: ["id"], h5: ["id"], h6: ["id"], p: [], em: [],
  strong: [], code: ["class"], pre: [], ul: [], ol: ["start"], li: ["class"], a: ["href", "title"],
  img: ["src", "alt", "title"], blockquote: [], hr: [], br: [], span: ["class"],
};
const VOID = new Set(["meta", "hr", "br", "img"]);
const ONCE = ["html", "head", "title", "body", "main"];
const NAMED = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };

function decode(text, where) {
  return text.replace(/&[^;]*;?/g, (ref) => {
    const m = /^&(?:#(\d{1,7})|#x([0-9a-f]{1,6})|([a-z]+));$/i.exec(ref);
    if (!m) throw new Error(`malformed character reference ${JSON.stringify(ref.slice(0, 12))} in ${where}`);
    if (m[3]) {
      if (!(m[3] in NAMED)) throw new Error(`unknown character reference &${m[3]}; in ${where}`);
      return NAMED[m[3]];
    }
    return String.fromCodePoint(m[1] ? Number(m[1]) : parseInt(m[2], 16));
  });
}

function readPage(html) {
  if (/<\s*script/i.test(html)) throw new Error("the page contains a <script> tag");
  const doctype = /^<!DOCTYPE html>\s*/i.exec(html);
  if (!doctype) throw new Error("the page does not start with <!DOCTYPE html>");
  const stack = [];
  const count = {};
  const page = { headings: [], items: [], links: [], title: null, words: [] };
  const open = []; // elements being collected: {tag, attrs, text}
  let mainText = "";
  let pos = doctype[0].length;
  const TAG = /<(\/?)([a-z][a-z0-9]*)((?:\s+[a-z-]+="[^"<>]*")*)\s*>/y;
  while (pos < html.length) {
    const lt = html.indexOf("<", pos);
    const chunk = html.slice(pos, lt === -1 ? html.length : lt);
    if (chunk) {
      if (chunk.includes(">")) throw new Error(`raw ">" in the page's text near ${JSON.stringify(chunk.slice(0, 40))}`);
      const text = decode(chunk, "text");
      for (const el of open) el.text += text;
      if (stack.includes("main")) mainText += text;
    }
    if (lt === -1) break;
    TAG.lastIndex = lt;
    const m = TAG.exec(html);
    if (!m) throw new Error(`raw "<" or a malformed tag near ${JSON.stringify(html.slice(lt, lt + 40))}`);
    pos = TAG.lastIndex;
    const [, closing, tag, attrText] = m;
    if (!(tag in ALLOWED)) throw new Error(`the page contains a <${tag}> element, which the renderer never makes`);
    if (closing) {
      if (attrText) throw new Error(`closing tag </${tag}> has attributes`);
      const top = stack.pop();
      if (top !== tag) throw new Error(`</${tag}> closes <${top || "nothing"}>`);
      if (tag === "main") page.words = words(mainText);
      const el = open.length && open[open.length - 1].tag === tag ? open.pop() : null;
      if (el && /^h[1-6]$/.test(tag)) page.headings.push({ level: Number(tag[1]), text: el.text });
      if (el && tag === "li") page.items[el.index] = el.text;
      if (el && tag === "a" && stack.includes("main")) page.links.push({ href: el.attrs.href, text: el.text });
      if (el && tag === "title") page.title = el.text;
      continue;
    }
    count[tag] = (count[tag] || 0) + 1;
    const attrs = {};
    for (const a of attrText.matchAll(/([a-z-]+)="([^"]*)"/g)) {
      if (!ALLOWED[tag].includes(a[1])) throw new Error(`<${tag}> has an attribute ${a[1]}`);
      if (a[1] in attrs) throw new Error(`<${tag}> repeats the attribute ${a[1]}`);
      attrs[a[1]] = decode(a[2], `the ${a[1]} of <${tag}>`);
    }
    for (const name of ["href", "src"]) {
      if (name in attrs && !schemeIsSafe(attrs[name])) throw new Error(`<${tag}> links to ${JSON.stringify(attrs[name])}`);
    }
    if (tag === "style") {
      const end = html.indexOf("</style>", pos);
      if (end === -1 || html.slice(pos, end).includes("<")) throw new Error("the <style> element is not plain CSS");
      pos = end;
    }
    if (VOID.has(tag)) continue;
    stack.push(tag);
    if (/^h[1-6]$|^li$|^a$|^title$/.test(tag)) {
      const el = { tag, attrs, text: "" };
      if (tag === "li" && stack.includes("main")) {
        el.index = page.items.length;
        page.items.push("");
      } else if (tag === "li") {
        continue;
      }
      open.push(el);
    }
  }
  if (stack.length) throw new Error(`unclosed elements at the end of the page: ${stack.join(" > ")}`);
  for (const tag of ONCE) {
    if (count[tag] !== 1) throw new Error(`the page has ${count[tag] || 0} <${tag}> elements, expected 1`);
  }
  return page;
}

// ---------------------------------------------------------------------------------------------------
// The source, by line patterns

// Inline syntax, in one pattern: a code span (an opening run of backticks closed by a run of the same
// length: its text is literal), a link or image [text](url "title"), an autolink <scheme:…>, or a
// backslash escape.
const TAIL = String.raw`\(\s*<?([^\s()<>]*(?:\([^\s()<>]*\)[^\s()<>]*)*)>?(?:\s+(?:"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'))?\s*\)`;
const INLINE = new RegExp(
  [
    "(?<!`)(`+)(?!`)[\\s\\S]*?(?<!`)\\1(?!`)",
    String.raw`(!?)\[([^\[\]]*)\]` + TAIL,
    "<((?:https?|mailto):[^\\s<>]*)>",
    "\\\\([!-/:-@[-`{-~])",
  ].join("|"),
  "g",
);

// Markdown inline text as a reader sees it: links by their text, images with a safe URL dropped (their
// alt text is an attribute), escapes resolved, code spans by their text. Links with a safe URL are added
// to `links` when it is given.
function inlineText(text, links) {
  return text.replace(INLINE, (match, ticks, bang, label, url, auto, escaped) => {
    if (ticks) {
      // A code span's text: line ends as spaces, and one space off each end when both ends have one.
      const code = match.slice(ticks.length, -ticks.length).replace(/\n/g, " ");
      const padded = code.length >= 2 && code[0] === " " && code[code.length - 1] === " " && code.trim() !== "";
      return padded ? code.slice(1, -1) : code;
    }
    if (auto !== undefined) return auto;
    if (escaped !== undefined) return escaped;
    const safe = schemeIsSafe(url);
    if (bang) return safe ? " " : ` ${inlineText(label)} `;
    if (safe && links) links.push({ text: inlineText(label), url: url.replace(/\\(.)/g, "$1") });
    return ` ${inlineText(label)} `;
  });
}

// Reads the source line by line. Its text is cut into blocks as the renderer does (a blank line, a
// heading, a list item, a fence or a break starts a new one), so that no code span or link is read
// across two blocks.
function readSource(markdown) {
  const lines = markdown.replace(/\r\n?/g, "\n").replace(/\t/g, "    ").split("\n");
  const source = { headings: [], items: [], links: [], words: [] };
  const blocks = []; // {code, lines}
  const add = (code, line, fresh) => {
    const last = blocks[blocks.length - 1];
    if (!fresh && last && last.code === code) last.lines.push(line);
    else blocks.push({ code, lines: [line] });
  };
  let fence = null;
  // Indented code: 4 spaces beyond the current list item's content (or the margin), outside a paragraph.
  let margin = 0;
  let afterBlank = true;
  let inParagraph = false;
  let quoteDepth = 0;
  for (const raw of lines) {
    const quote = /^( {0,3}> ?)*/.exec(raw)[0];
    const depth = (quote.match(/>/g) || []).length;
    const line = raw.slice(quote.length);
    if (/^\s*$/.test(line)) {
      quoteDepth = depth;
      afterBlank = true;
      inParagraph = false;
      if (fence) add(true, "", false);
      continue;
    }
    const indent = line.length - line.trimStart().length;
    const item = /^(\s*)([-*+]|\d{1,9}[.)])( {1,4}(?=\S)|\s*$)(.*)$/.exec(line);
    // The list ends at a line left of its content after a blank line, or one that starts another block.
    const startsBlock = /^ {0,3}(#{1,6}(\s|$)|`{3,}|~{3,}|([-*_])(\s*\3){2,}\s*$)/.test(line);
    // A line that leaves a quote without starting a block carries on the quote's paragraph ("lazy").
    const lazy = !fence && depth < quoteDepth && inParagraph && !startsBlock && !item;
    const newQuote = depth !== quoteDepth && !lazy;
    if (!lazy) quoteDepth = depth;
    if (!fence && margin > 0 && ((indent < margin && (afterBlank || startsBlock || item)) || newQuote)) margin = 0;
    const body = line.slice(Math.min(indent, margin));
    const fenceMark = /^ {0,3}(`{3,}|~{3,})/.exec(body);
    if (fence) {
      if (fenceMark && fenceMark[1][0] === fence[0] && fenceMark[1].length >= fence.length && /^[`~\s]*$/.test(body)) {
        fence = null;
      } else {
        add(true, body, false);
      }
      continue;
    }
    const fresh = afterBlank || newQuote;
    afterBlank = false;
    if (lazy) {
      add(false, line.trimStart(), false);
      continue;
    }
    if (indent - margin >= 4 && !inParagraph) {
      add(true, body, false);
      continue;
    }
    if (fenceMark) {
      fence = fenceMark[1];
      inParagraph = false;
      add(true, "", true);
      continue;
    }
    if (/^ {0,3}([-*_])(?:\s*\1){2,}\s*$/.test(body)) {
      inParagraph = false; // a thematic break
      add(false, "", true); // what follows is another block
      continue;
    }
    const heading = /^ {0,3}(#{1,6})(?:\s+(.*?))?(?:\s+#+)?\s*$/.exec(body);
    if (heading) {
      source.headings.push({ level: heading[1].length, text: inlineText(heading[2] || "") });
      add(false, heading[2] || "", true);
      inParagraph = false;
      add(false, "", true); // what follows is another block
    } else if (item && indent - margin <= 3) {
      margin = item[1].length + item[2].length + (item[4] === "" ? 1 : item[3].length);
      add(false, item[4], true);
      source.items.push(blocks[blocks.length - 1]); // its text is read once the block is complete
      inParagraph = item[4] !== "";
    } else {
      add(false, body.trimStart(), fresh); // a paragraph's lines lose their indentation
      inParagraph = true;
    }
  }
  source.items = source.items.map((block) => inlineText(block.lines.join("\n")));
  for (const block of blocks) {
    const text = block.lines.join("\n");
    for (const word of words(block.code ? text : inlineText(text, source.links))) source.words.push(word);
  }
  return source;
}
