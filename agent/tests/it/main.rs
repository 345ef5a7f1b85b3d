//! Integration tests, in one binary so that alloy is linked once: the agent against a real anvil and the
//! pinned Deno. Nothing is skipped: without the pinned tools (`npm ci`) these tests fail and say so.

mod anvil;
mod deno;
mod devnet;
mod https;
mod jury;
mod net;
mod roles;
mod tx;
mod watch;
