#![doc = include_str!("../README.md")]

pub mod chain;
pub mod cid;
pub mod demo;
pub mod devnet;
pub mod exec;
pub mod store;
pub mod tools;
