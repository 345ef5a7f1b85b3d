//! Canonical JSON, the output form of every job result that is not a string or bytes, byte for byte as
//! the prelude writes it: no whitespace, object keys sorted by UTF-16 code units (JavaScript's default
//! sort), strings escaped as `JSON.stringify` escapes them, numbers as JavaScript prints a double.
//!
//! The agent uses it to compare results and to check that an output claimed to be JSON is canonical.

use serde_json::Value;

/// A byte string that is not JSON.
#[derive(Debug, thiserror::Error)]
#[error("not JSON: {0}")]
pub struct CanonicalError(#[from] serde_json::Error);

/// The canonical form of a JSON value.
pub fn canonical_json(value: &Value) -> Vec<u8> {
    let mut out = String::new();
    write_value(value, &mut out);
    out.into_bytes()
}

/// Parses JSON text and writes it in canonical form (numbers read as JavaScript reads them: doubles).
pub fn canonicalize(json: &[u8]) -> Result<Vec<u8>, CanonicalError> {
    if let Some(bytes) = reorder_compact(json) {
        return Ok(bytes);
    }
    Ok(canonical_json(&serde_json::from_slice(json)?))
}

/// Deepest nesting the fast path takes, as serde_json's own limit: deeper text goes the slow way (and fails
/// there, as before).
const MAX_DEPTH: usize = 128;

/// The fast path of [`canonicalize`] for compact JSON text as `JSON.stringify` writes it (a job's output in
/// QuickJS: 8 ms for 218 KB through `serde_json::Value`, a fraction of that here): every token is copied as
/// it is when it is already in canonical form, object members are put in order, and numbers that are not
/// plain short integers are rewritten as the slow path writes them. `None` for anything else (whitespace, an
/// escape the canonical form does not use, a duplicate key, nesting beyond [`MAX_DEPTH`], text that is not
/// JSON): the slow path then decides, so both give the same bytes for every text the fast path takes.
fn reorder_compact(json: &[u8]) -> Option<Vec<u8>> {
    let text = std::str::from_utf8(json).ok()?;
    let mut out = Vec::with_capacity(json.len());
    let mut scratch = Vec::new();
    let end = compact_value(text, 0, 0, &mut out, &mut scratch)?;
    (end == text.len()).then_some(out)
}

/// Writes the canonical form of the value at `at` into `out`; returns where the value ends in `text`.
/// `scratch` is reused to reorder object members.
fn compact_value(text: &str, at: usize, depth: usize, out: &mut Vec<u8>, scratch: &mut Vec<u8>) -> Option<usize> {
    let bytes = text.as_bytes();
    match *bytes.get(at)? {
        b'"' => {
            let end = compact_string(bytes, at)?;
            out.extend_from_slice(&bytes[at..end]);
            Some(end)
        }
        b'[' => {
            if depth >= MAX_DEPTH {
                return None;
            }
            out.push(b'[');
            let mut at = at + 1;
            if bytes.get(at) == Some(&b']') {
                out.push(b']');
                return Some(at + 1);
            }
            loop {
                at = compact_value(text, at, depth + 1, out, scratch)?;
                match *bytes.get(at)? {
                    b',' => out.push(b','),
                    b']' => {
                        out.push(b']');
                        return Some(at + 1);
                    }
                    _ => return None,
                }
                at += 1;
            }
        }
        b'{' => {
            if depth >= MAX_DEPTH {
                return None;
            }
            compact_object(text, at, depth, out, scratch)
        }
        b't' if text[at..].starts_with("true") => {
            out.extend_from_slice(b"true");
            Some(at + 4)
        }
        b'f' if text[at..].starts_with("false") => {
            out.extend_from_slice(b"false");
            Some(at + 5)
        }
        b'n' if text[at..].starts_with("null") => {
            out.extend_from_slice(b"null");
            Some(at + 4)
        }
        b'-' | b'0'..=b'9' => {
            let len =
                bytes[at..].iter().take_while(|b| matches!(b, b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9')).count();
            let token = &text[at..at + len];
            let digits = token.strip_prefix('-').unwrap_or(token);
            // A plain integer of at most 15 digits is a double printed exactly as JavaScript prints it; "-0" is not.
            if !digits.is_empty()
                && digits.len() <= 15
                && digits.bytes().all(|b| b.is_ascii_digit())
                && (digits == "0" || !digits.starts_with('0'))
                && token != "-0"
            {
                out.extend_from_slice(token.as_bytes());
            } else {
                // The slow path's reading (serde_json's grammar and rounding) and writing of any other number.
                let number: serde_json::Number = serde_json::from_str(token).ok()?;
                let mut written = String::new();
                write_number(number.as_f64().unwrap_or(f64::NAN), &mut written);
                out.extend_from_slice(written.as_bytes());
            }
            Some(at + len)
        }
        _ => None,
    }
}

/// An object: each member written in the order of the text, then, when that is not the canonical order, put
/// in order by key (UTF-16 code units).
fn compact_object(text: &str, at: usize, depth: usize, out: &mut Vec<u8>, scratch: &mut Vec<u8>) -> Option<usize> {
    let bytes = text.as_bytes();
    let start = out.len();
    out.push(b'{');
    let mut at = at + 1;
    if bytes.get(at) == Some(&b'}') {
        out.push(b'}');
        return Some(at + 1);
    }
    // Per member: its key (decoded when it has escapes) and where "key":value is in `out`.
    let mut members: Vec<(std::borrow::Cow<'_, str>, usize, usize)> = Vec::new();
    loop {
        if bytes.get(at) != Some(&b'"') {
            return None;
        }
        let key_end = compact_string(bytes, at)?;
        let raw = &text[at + 1..key_end - 1];
        let key =
            if raw.contains('\\') { std::borrow::Cow::Owned(unescape(raw)?) } else { std::borrow::Cow::Borrowed(raw) };
        if bytes.get(key_end) != Some(&b':') {
            return None;
        }
        let member_start = out.len();
        out.extend_from_slice(&bytes[at..=key_end]);
        at = compact_value(text, key_end + 1, depth + 1, out, scratch)?;
        members.push((key, member_start, out.len()));
        match *bytes.get(at)? {
            b',' => out.push(b','),
            b'}' => break,
            _ => return None,
        }
        at += 1;
    }
    let utf16_order = |a: &str, b: &str| a.encode_utf16().cmp(b.encode_utf16());
    if members.windows(2).any(|pair| utf16_order(&pair[0].0, &pair[1].0) != std::cmp::Ordering::Less) {
        members.sort_by(|a, b| utf16_order(&a.0, &b.0));
        if members.windows(2).any(|pair| pair[0].0 == pair[1].0) {
            return None; // a duplicate key: the slow path keeps the last one
        }
        scratch.clear();
        scratch.extend_from_slice(&out[start + 1..]);
        out.truncate(start + 1);
        for (i, (_, from, to)) in members.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.extend_from_slice(&scratch[from - start - 1..to - start - 1]);
        }
    }
    out.push(b'}');
    Some(at + 1)
}

/// The end of the string token at `at` (just past its closing quote), when it is written as
/// [`write_string`] writes it: no raw control character, and only the escapes it uses.
fn compact_string(bytes: &[u8], at: usize) -> Option<usize> {
    let mut i = at + 1;
    loop {
        match *bytes.get(i)? {
            b'"' => return Some(i + 1),
            b'\\' => {
                match *bytes.get(i + 1)? {
                    b'"' | b'\\' | b'b' | b't' | b'n' | b'f' | b'r' => i += 2,
                    b'u' => {
                        // Only \u00xx, lower-case, for a control character without a short escape.
                        let hex = std::str::from_utf8(bytes.get(i + 2..i + 6)?).ok()?;
                        let code = u32::from_str_radix(hex, 16).ok()?;
                        let short = matches!(code, 0x08 | 0x09 | 0x0a | 0x0c | 0x0d);
                        if code >= 0x20 || short || hex != format!("{code:04x}") {
                            return None;
                        }
                        i += 6;
                    }
                    _ => return None,
                }
            }
            0..0x20 => return None,
            _ => i += 1,
        }
    }
}

/// The text of a key with escapes (those [`compact_string`] lets through), for ordering.
fn unescape(raw: &str) -> Option<String> {
    let mut key = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            key.push(c);
            continue;
        }
        key.push(match chars.next()? {
            'b' => '\u{8}',
            't' => '\t',
            'n' => '\n',
            'f' => '\u{c}',
            'r' => '\r',
            'u' => {
                let hex: String = chars.by_ref().take(4).collect();
                char::from_u32(u32::from_str_radix(&hex, 16).ok()?)?
            }
            other => other,
        });
    }
    Some(key)
}

fn write_value(value: &Value, out: &mut String) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => write_number(n.as_f64().unwrap_or(f64::NAN), out),
        Value::String(s) => write_string(s, out),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.encode_utf16().cmp(b.0.encode_utf16()));
            out.push('{');
            for (i, (key, item)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(key, out);
                out.push(':');
                write_value(item, out);
            }
            out.push('}');
        }
    }
}

/// A string as `JSON.stringify` writes it: `"` and `\` escaped, the short escapes for \b \t \n \f \r,
/// `\u00xx` (lower-case hex) for the other control characters, everything else as is.
fn write_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\u{c}' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// A number as JavaScript's `Number.prototype.toString()` writes it (ECMAScript Number::toString, radix
/// 10), `null` when it is not finite (as in `JSON.stringify`).
fn write_number(x: f64, out: &mut String) {
    if !x.is_finite() {
        out.push_str("null");
        return;
    }
    if x == 0.0 {
        out.push('0'); // both zeros
        return;
    }
    if x < 0.0 {
        out.push('-');
    }
    // Rust's `{:e}` is the shortest representation that reads back to the same double: the digits and
    // exponent that the ECMAScript algorithm starts from.
    let sci = format!("{:e}", x.abs());
    let (mantissa, exponent) = sci.split_once('e').unwrap_or((&sci, "0"));
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let k = digits.len() as i32;
    let n = exponent.parse::<i32>().unwrap_or(0) + 1; // value = 0.digits × 10^n
    if k <= n && n <= 21 {
        out.push_str(&digits);
        out.extend(std::iter::repeat_n('0', (n - k) as usize));
    } else if 0 < n && n <= 21 {
        out.push_str(&digits[..n as usize]);
        out.push('.');
        out.push_str(&digits[n as usize..]);
    } else if -6 < n && n <= 0 {
        out.push_str("0.");
        out.extend(std::iter::repeat_n('0', (-n) as usize));
        out.push_str(&digits);
    } else {
        out.push_str(&digits[..1]);
        if k > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        out.push('e');
        out.push(if n > 0 { '+' } else { '-' });
        out.push_str(&(n - 1).abs().to_string());
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::{Map, json};

    use super::*;

    fn number(x: f64) -> String {
        let mut out = String::new();
        write_number(x, &mut out);
        out
    }

    #[test]
    fn numbers_print_as_javascript_prints_them() {
        // Each right-hand side is what V8 and QuickJS print for the double.
        for (x, js) in [
            (0.0, "0"),
            (-0.0, "0"),
            (1.0, "1"),
            (-1.5, "-1.5"),
            (0.1, "0.1"),
            (1e21, "1e+21"),
            (1e20, "100000000000000000000"),
            (123456789012345680000.0, "123456789012345680000"),
            (1e-6, "0.000001"),
            (1e-7, "1e-7"),
            (1.5e-7, "1.5e-7"),
            (2f64.powi(53), "9007199254740992"),
            (f64::MAX, "1.7976931348623157e+308"),
            (5e-324, "5e-324"),
            (0.000123, "0.000123"),
            (f64::NAN, "null"),
        ] {
            assert_eq!(number(x), js, "{x:e}");
        }
    }

    #[test]
    fn keys_sort_by_utf16_code_units_and_strings_escape_like_json_stringify() {
        let value = json!({"b": 1, "a": [true, null], "10": 0, "9": 0, "\u{ff61}": 0, "\u{1f600}": 0, "s": "\"\\\n\u{1}\u{7f}é"});
        // U+1F600 is the surrogate pair D83D DE00, which sorts before U+FF61.
        let text = String::from_utf8(canonical_json(&value)).expect("UTF-8");
        assert_eq!(
            text,
            "{\"10\":0,\"9\":0,\"a\":[true,null],\"b\":1,\"s\":\"\\\"\\\\\\n\\u0001\u{7f}é\",\"\u{1f600}\":0,\"\u{ff61}\":0}"
        );
    }

    fn json_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(|n| json!(n)),
            any::<f64>().prop_filter("finite", |x| x.is_finite()).prop_map(|x| json!(x)),
            any::<String>().prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 64, 8, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
                prop::collection::vec((any::<String>(), inner), 0..8)
                    .prop_map(|entries| Value::Object(entries.into_iter().collect::<Map<_, _>>())),
            ]
        })
    }

    /// Compact JSON text with each object's keys in reverse order (serde_json's own order otherwise), as a
    /// job's `JSON.stringify` may write it.
    fn compact_reversed(value: &Value) -> String {
        match value {
            Value::Array(items) => format!("[{}]", items.iter().map(compact_reversed).collect::<Vec<_>>().join(",")),
            Value::Object(map) => {
                let members: Vec<String> = map
                    .iter()
                    .rev()
                    .map(|(key, item)| {
                        format!("{}:{}", serde_json::to_string(key).expect("a key"), compact_reversed(item))
                    })
                    .collect();
                format!("{{{}}}", members.join(","))
            }
            leaf => serde_json::to_string(leaf).expect("a leaf"),
        }
    }

    #[test]
    fn the_fast_path_takes_stringify_text_and_leaves_the_rest_to_the_slow_one() {
        let taken = [
            (
                r#"{"b":1,"a":[true,null,-0,1.50,1e21,"x\u001f\n"],"10":{"z":{},"y":[]},"9":-12}"#,
                r#"{"10":{"y":[],"z":{}},"9":-12,"a":[true,null,0,1.5,1e+21,"x\u001f\n"],"b":1}"#,
            ),
            (
                "{\"\\n\":1,\"\\u0001\":2,\"\u{ff61}\":3,\"\u{1f600}\":4}",
                "{\"\\u0001\":2,\"\\n\":1,\"\u{1f600}\":4,\"\u{ff61}\":3}",
            ),
            ("12345678901234567890", "12345678901234567000"),
        ];
        for (text, canonical) in taken {
            assert_eq!(String::from_utf8(reorder_compact(text.as_bytes()).expect("taken")).expect("UTF-8"), canonical);
            assert_eq!(canonical_json(&serde_json::from_str(text).expect("JSON")), canonical.as_bytes());
        }
        // Whitespace, a spelling the canonical form does not use, a duplicate key, a lone surrogate, not JSON.
        for text in [
            " 1",
            "[1, 2]",
            r#""\u0041""#,
            r#""\/""#,
            r#""\u001F""#,
            r#""\ud800""#,
            r#"{"a":1,"a":2}"#,
            "[1,]",
            "01",
            "nul",
        ] {
            assert_eq!(reorder_compact(text.as_bytes()), None, "{text}");
        }
        // Deeper than serde_json goes.
        let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
        assert_eq!(reorder_compact(deep.as_bytes()), None);
        assert_eq!(canonicalize(br#"{"a":1,"a":2}"#).expect("JSON"), br#"{"a":2}"#);
    }

    proptest! {
        /// The fast path gives the slow path's bytes for compact text in any key order.
        #[test]
        fn the_fast_path_agrees_with_the_slow_one(value in json_value()) {
            let text = compact_reversed(&value);
            let fast = reorder_compact(text.as_bytes());
            prop_assert!(fast.is_some(), "declined {}", text);
            prop_assert_eq!(fast, Some(canonical_json(&value)));
        }

        /// Decoding canonical JSON and encoding it again gives the same bytes: one value, one encoding.
        #[test]
        fn decode_and_reencode_is_the_identity(value in json_value()) {
            let bytes = canonical_json(&value);
            prop_assert_eq!(canonicalize(&bytes).expect("canonical JSON is JSON"), bytes.clone());
        }

        /// Any spelling of a value (pretty-printed, keys in another order) canonicalizes to one string.
        #[test]
        fn every_spelling_of_a_value_has_one_encoding(value in json_value()) {
            let pretty = serde_json::to_vec_pretty(&value).expect("serializes");
            prop_assert_eq!(canonicalize(&pretty).expect("parses"), canonical_json(&value));
        }

        /// Every double prints so that it reads back as itself, as JavaScript's shortest form does.
        #[test]
        fn numbers_read_back_exactly(x in any::<f64>().prop_filter("finite", |x| x.is_finite())) {
            let text = number(x);
            let back: f64 = text.parse().expect("a number");
            prop_assert!(back == x || (x == 0.0 && back == 0.0), "{} -> {}", x, text);
        }
    }
}
