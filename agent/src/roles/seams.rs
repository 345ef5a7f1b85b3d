//! The seams the roles run through, so that content stores and engines can be swapped without touching
//! the roles:
//!
//! - content: any [`crate::store::Store`] (the on-disk store shared by the agents of one machine, a Kubo
//!   node, or a trustless gateway), every read verified against its CID;
//! - [`Runner`]: run a job in the engine build it names. Implemented for every [`crate::exec::Engine`];
//!   [`Engines`] picks one by the job's `engine` word. Both are the executor's (`jsjob_exec`).

use alloy::primitives::B256;

use crate::exec;
/// The engines, as the executor defines them.
pub use crate::exec::{BoxFuture, Engines, Runner};

/// An engine id as `JobSpec.engine` holds it: ASCII, right-padded with zero bytes.
pub fn engine_word(id: &str) -> B256 {
    B256::from(exec::engine_word(id))
}

/// An engine word shown as text (its ASCII id up to the padding, as the executor reads it), for messages.
pub fn engine_name(word: B256) -> String {
    exec::engine_id_of_word(&word.0).map_or_else(|| word.to_string(), str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engine_words_round_trip_to_names() {
        assert_eq!(engine_name(engine_word("v8/deno-2.9.6")), "v8/deno-2.9.6");
        assert_eq!(engine_name(B256::repeat_byte(0xff)), B256::repeat_byte(0xff).to_string());
    }
}
