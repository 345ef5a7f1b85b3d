#![doc = include_str!("../README.md")]

pub mod chain;
pub mod cid;
pub mod config;
pub mod demo;
pub mod devnet;
pub mod exec;
pub mod keys;
pub mod market;
pub mod report;
pub mod roles;
pub mod state;
pub mod store;
pub mod tools;
