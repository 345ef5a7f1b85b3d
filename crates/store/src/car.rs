//! CARv1: a DAG's blocks in one stream, as trustless gateways serve `?format=car` and `ipfs dag
//! export` writes.
//!
//! Layout: `varint(len) ‖ header` then, per block, `varint(len) ‖ CID ‖ block`. The header is the
//! dag-cbor map `{"roots": [CID…], "version": 1}` (keys in dag-cbor's canonical order: shorter first);
//! a CID in dag-cbor is tag 42 over the bytes `0x00 ‖ binary CID`. Only the few CBOR items a header uses
//! are read; anything else is a malformed header.
//!
//! Reading checks every block against its CID before handing it out: a CAR is untrusted input.

use crate::{Cid, Error, Result, unixfs};

/// The CARv1 header naming `root`.
pub fn header(root: &Cid) -> Vec<u8> {
    let cid = root.as_bytes();
    let mut cbor = Vec::with_capacity(64);
    cbor.push(0xa2); // map of 2
    cbor.extend_from_slice(b"\x65roots");
    cbor.push(0x81); // array of 1
    cbor.extend_from_slice(&[0xd8, 42]); // tag 42: CID
    cbor.extend_from_slice(&[0x58, (cid.len() + 1) as u8]); // bytes, 1-byte length
    cbor.push(0x00); // the multibase "identity" prefix dag-cbor puts before a binary CID
    cbor.extend_from_slice(cid);
    cbor.extend_from_slice(b"\x67version\x01");
    let mut out = Vec::with_capacity(cbor.len() + 2);
    unixfs::put_varint(&mut out, cbor.len() as u64);
    out.extend_from_slice(&cbor);
    out
}

/// One block's section: `varint(len) ‖ CID ‖ block`.
pub fn section(cid: &Cid, block: &[u8]) -> Vec<u8> {
    let cid = cid.as_bytes();
    let mut out = Vec::with_capacity(block.len() + cid.len() + 10);
    unixfs::put_varint(&mut out, (cid.len() + block.len()) as u64);
    out.extend_from_slice(cid);
    out.extend_from_slice(block);
    out
}

/// A CARv1 being read from bytes in memory.
#[derive(Debug)]
pub struct CarReader<'a> {
    roots: Vec<Cid>,
    rest: &'a [u8],
}

impl<'a> CarReader<'a> {
    /// Reads the header.
    pub fn new(car: &'a [u8]) -> Result<Self> {
        let mut rest = car;
        let len = unixfs::varint(&mut rest).map_err(|e| bad(format!("header length: {e}")))?;
        let len = usize::try_from(len).map_err(|_| bad("header length overflows"))?;
        if len > rest.len() || len > 1 << 20 {
            return Err(bad(format!("the header says {len} bytes, {} are left (truncated?)", rest.len())));
        }
        let (header, rest) = rest.split_at(len);
        let roots = parse_header(header)?;
        Ok(Self { roots, rest })
    }

    /// The roots the header names.
    pub fn roots(&self) -> &[Cid] {
        &self.roots
    }

    /// The next block, checked against its CID; `None` at the end.
    pub fn next_block(&mut self) -> Result<Option<(Cid, &'a [u8])>> {
        if self.rest.is_empty() {
            return Ok(None);
        }
        let len = unixfs::varint(&mut self.rest).map_err(|e| bad(format!("section length: {e}")))?;
        let len = usize::try_from(len).map_err(|_| bad("section length overflows"))?;
        if len > self.rest.len() {
            return Err(bad(format!("a section says {len} bytes, {} are left (truncated?)", self.rest.len())));
        }
        let (section, rest) = self.rest.split_at(len);
        self.rest = rest;
        let cid_len = match section.first() {
            Some(0x12) => 34,
            Some(0x01) => 36,
            _ => return Err(bad("a section that does not start with a sha2-256 dag-pb or raw CID")),
        };
        if section.len() < cid_len {
            return Err(bad("a section shorter than its CID"));
        }
        let (cid, block) = section.split_at(cid_len);
        let cid = Cid::from_bytes(cid).map_err(|e| bad(format!("a section's CID: {e}")))?;
        if !cid.verifies(block) {
            return Err(Error::HashMismatch(cid));
        }
        Ok(Some((cid, block)))
    }
}

fn bad(reason: impl Into<String>) -> Error {
    Error::Car(reason.into())
}

fn parse_header(mut cbor: &[u8]) -> Result<Vec<Cid>> {
    let entries = match item(&mut cbor)? {
        Item::Map(n) => n,
        _ => return Err(bad("the header is not a map")),
    };
    let (mut roots, mut version) = (None, None);
    for _ in 0..entries {
        let key = match item(&mut cbor)? {
            Item::Text(key) => key,
            _ => return Err(bad("a header key that is not text")),
        };
        match key {
            b"version" => match item(&mut cbor)? {
                Item::Uint(v) => version = Some(v),
                _ => return Err(bad("a version that is not a number")),
            },
            b"roots" => {
                let count = match item(&mut cbor)? {
                    Item::Array(n) => n,
                    _ => return Err(bad("roots that are not an array")),
                };
                let mut list = Vec::new();
                for _ in 0..count {
                    let (Item::Tag(42), Item::Bytes(bytes)) = (item(&mut cbor)?, item(&mut cbor)?) else {
                        return Err(bad("a root that is not a CID"));
                    };
                    let cid = bytes.strip_prefix(&[0]).ok_or_else(|| bad("a root CID without its 0x00 prefix"))?;
                    list.push(Cid::from_bytes(cid).map_err(|e| bad(format!("a root: {e}")))?);
                }
                roots = Some(list);
            }
            _ => return Err(bad(format!("an unknown header key {:?}", String::from_utf8_lossy(key)))),
        }
    }
    if version != Some(1) {
        return Err(bad(format!("version {version:?}: only CARv1 is read")));
    }
    roots.ok_or_else(|| bad("a header without roots"))
}

enum Item<'a> {
    Uint(u64),
    Bytes(&'a [u8]),
    Text(&'a [u8]),
    Array(u64),
    Map(u64),
    Tag(u64),
}

/// One CBOR data item head (and the payload of byte and text strings).
fn item<'a>(input: &mut &'a [u8]) -> Result<Item<'a>> {
    let (&first, rest) = input.split_first().ok_or_else(|| bad("the header ends early"))?;
    *input = rest;
    let info = first & 0x1f;
    let value = match info {
        0..=23 => u64::from(info),
        24..=27 => {
            let n = 1usize << (info - 24);
            if input.len() < n {
                return Err(bad("the header ends early"));
            }
            let (bytes, rest) = input.split_at(n);
            *input = rest;
            bytes.iter().fold(0u64, |v, &b| (v << 8) | u64::from(b))
        }
        _ => return Err(bad("an indefinite or reserved CBOR length in the header")),
    };
    let mut payload = || -> Result<&'a [u8]> {
        let n = usize::try_from(value).map_err(|_| bad("a header string length overflows"))?;
        if input.len() < n {
            return Err(bad("the header ends early"));
        }
        let (bytes, rest) = input.split_at(n);
        *input = rest;
        Ok(bytes)
    };
    Ok(match first >> 5 {
        0 => Item::Uint(value),
        2 => Item::Bytes(payload()?),
        3 => Item::Text(payload()?),
        4 => Item::Array(value),
        5 => Item::Map(value),
        6 => Item::Tag(value),
        _ => return Err(bad("an unexpected CBOR item in the header")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{AddOptions, import_reader};

    fn car_of(content: &[u8], options: &AddOptions) -> (Cid, Vec<u8>) {
        let mut blocks: Vec<(Cid, Vec<u8>)> = Vec::new();
        let added = import_reader(content, options, &mut blocks).expect("in memory");
        let mut car = header(&added.cid);
        for (cid, block) in &blocks {
            car.extend_from_slice(&section(cid, block));
        }
        (added.cid, car)
    }

    #[test]
    fn round_trips_and_checks_every_block() {
        let content: Vec<u8> = (0..600_000u32).map(|i| (i % 251) as u8).collect();
        for options in [AddOptions::V0, AddOptions::V1] {
            let (root, car) = car_of(&content, &options);
            let mut reader = CarReader::new(&car).expect("header");
            assert_eq!(reader.roots(), [root]);
            let mut count = 0;
            while reader.next_block().expect("valid block").is_some() {
                count += 1;
            }
            assert_eq!(count, 4, "3 leaves and a root");
        }
    }

    #[test]
    fn a_truncated_car_or_a_forged_block_is_refused() {
        let (_, car) = car_of(&[7u8; 300_000], &AddOptions::V1);
        for end in [0, 1, 10, 60, car.len() - 1] {
            let result = CarReader::new(&car[..end]).and_then(|mut r| {
                while r.next_block()?.is_some() {}
                Ok(())
            });
            assert!(matches!(result, Err(Error::Car(_))), "{end} bytes: {result:?}");
        }
        let mut forged = car.clone();
        let last = forged.len() - 1;
        forged[last] ^= 1;
        let mut reader = CarReader::new(&forged).expect("header");
        let mut result = Ok(None);
        for _ in 0..3 {
            result = reader.next_block().map(|b| b.map(|(cid, _)| cid));
            if result.is_err() {
                break;
            }
        }
        assert!(matches!(result, Err(Error::HashMismatch(_))), "{result:?}");
    }
}
