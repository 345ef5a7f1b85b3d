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
    Ok(canonical_json(&serde_json::from_slice(json)?))
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

    proptest! {
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
