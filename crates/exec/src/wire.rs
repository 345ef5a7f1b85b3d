//! The protocol between the agent and a sandbox process: one request on the process's stdin, one answer
//! frame on its stdout. The same for both engines (the Deno host speaks it in JavaScript).
//!
//! Request: u32 LE header length, the header as JSON ([`Header`]), then the input file's bytes to EOF.
//! Answer: `JSJOB\x01`, a status byte ([`Status`]), u64 LE fuel, u64 LE payload length, the payload.

use serde::{Deserialize, Serialize};

/// The answer frame's magic.
pub(crate) const MAGIC: &[u8; 6] = b"JSJOB\x01";
/// Length of the answer frame before its payload.
pub(crate) const FRAME_HEAD: usize = 6 + 1 + 8 + 8;

/// The request header.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Header {
    /// The job's code.
    pub(crate) code: String,
    /// The job's options, as text.
    pub(crate) options: Option<String>,
    /// The seed, hex.
    pub(crate) seed: String,
    /// The most output bytes the job may produce.
    pub(crate) output_limit: usize,
}

/// How a job ended, as the sandbox reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Status {
    /// Payload: the output.
    Ok = 0,
    /// Payload: the message.
    JobError = 1,
    /// The job hit the memory limit.
    OutOfMemory = 2,
    /// The output is over the limit.
    OutputTooLarge = 3,
    /// The job ran past its time (QuickJS's interrupt handler stopped it).
    Timeout = 4,
}

impl Status {
    fn from_byte(byte: u8) -> Option<Self> {
        Some(match byte {
            0 => Self::Ok,
            1 => Self::JobError,
            2 => Self::OutOfMemory,
            3 => Self::OutputTooLarge,
            4 => Self::Timeout,
            _ => return None,
        })
    }
}

/// Encodes the part of a request before the input, which follows it as it is (not copied into one buffer:
/// an input may be 64 MiB).
pub(crate) fn encode_request_head(header: &Header) -> Vec<u8> {
    let mut request = vec![0; 4];
    // Serializing a struct of strings and numbers into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut request, header);
    let len = (request.len() - 4) as u32;
    request[..4].copy_from_slice(&len.to_le_bytes());
    request
}

/// Decodes a request into its header and input.
pub(crate) fn decode_request(request: &[u8]) -> Option<(Header, &[u8])> {
    let len = u32::from_le_bytes(request.get(..4)?.try_into().ok()?) as usize;
    let head = request.get(4..4 + len)?;
    Some((serde_json::from_slice(head).ok()?, &request[4 + len..]))
}

/// Encodes an answer frame.
pub(crate) fn encode_answer(status: Status, fuel: u64, payload: &[u8]) -> Vec<u8> {
    let mut frame = Vec::with_capacity(FRAME_HEAD + payload.len());
    frame.extend_from_slice(MAGIC);
    frame.push(status as u8);
    frame.extend_from_slice(&fuel.to_le_bytes());
    frame.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    frame.extend_from_slice(payload);
    frame
}

/// The length of the whole answer frame that `head` starts, once its head is there.
pub(crate) fn answer_len(head: &[u8]) -> Option<usize> {
    if head.get(..6)? != MAGIC {
        return None;
    }
    let len = u64::from_le_bytes(head.get(15..23)?.try_into().ok()?);
    usize::try_from(len).ok()?.checked_add(FRAME_HEAD)
}

/// Decodes an answer frame; `None` unless `frame` is exactly one well-formed frame.
pub(crate) fn decode_answer(frame: &[u8]) -> Option<(Status, u64, &[u8])> {
    if frame.get(..6)? != MAGIC {
        return None;
    }
    let status = Status::from_byte(*frame.get(6)?)?;
    let fuel = u64::from_le_bytes(frame.get(7..15)?.try_into().ok()?);
    let len = u64::from_le_bytes(frame.get(15..23)?.try_into().ok()?);
    let payload = &frame[FRAME_HEAD..];
    (payload.len() as u64 == len).then_some((status, fuel, payload))
}

/// Where the code names `import` as a word (in code, a string or a comment), if it does. Jobs cannot load
/// modules: a dynamic `import()` would reach Deno's `node:` built-ins (real clocks, workers, the process),
/// and with code generation from strings off in the prelude, the code's text is all the code a job runs.
pub(crate) fn find_import(code: &str) -> Option<usize> {
    // By characters, not bytes: JavaScript also separates words with non-ASCII spaces (U+00A0, U+2028,
    // U+FEFF...), so only what can continue an identifier joins `import` to a longer word.
    let word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$');
    code.match_indices("import")
        .map(|(at, _)| at)
        .find(|&at| !word(code[..at].chars().next_back()) && !word(code[at + "import".len()..].chars().next()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip_and_reject_trailing_or_short_bytes() {
        let frame = encode_answer(Status::JobError, 7, b"boom");
        assert_eq!(decode_answer(&frame), Some((Status::JobError, 7, &b"boom"[..])));
        let mut longer = frame.clone();
        longer.push(0);
        assert_eq!(decode_answer(&longer), None);
        assert_eq!(decode_answer(&frame[..frame.len() - 1]), None);
        assert_eq!(decode_answer(b"junk"), None);
    }

    #[test]
    fn requests_round_trip() {
        let header = Header { code: "c".into(), options: None, seed: "00".into(), output_limit: 9 };
        let request = [encode_request_head(&header), b"\xffin".to_vec()].concat();
        let (back, input) = decode_request(&request).expect("decodes");
        assert_eq!((back.code.as_str(), back.output_limit, input), ("c", 9, &b"\xffin"[..]));
    }

    #[test]
    fn finds_import_as_a_word_only() {
        assert_eq!(find_import("await import('node:fs')"), Some(6));
        assert_eq!(find_import("x = 1; /* import */"), Some(10));
        assert_eq!(find_import("const important = reimport_ + imports + éimport + importé;"), None);
        assert_eq!(find_import("x =\u{a0}import('node:fs')"), Some(5));
        assert_eq!(find_import("x\u{2028}import\u{feff}('node:fs')"), Some(4));
    }
}
