//! The side-effect-free core of the KiviCare Zoom telemedicine addon.
//!
//! The core decides; the host performs. Nothing here reads a clock, a random source, the
//! network or a database: the host passes `now` (Unix seconds) and random bytes, sends the
//! requests the core returns, and hands Zoom's answers back for the core to interpret.
//!
//! Domain modules know nothing of hosts; `abi` is the JSON face every host uses (the PHP
//! bridge through the import-free .wasm, tests through [`abi::dispatch`]).

pub mod abi;
pub mod api;
pub mod app_setup;
pub mod connection;
pub mod error;
pub mod http;
pub mod json;
pub mod lifecycle;
pub mod mapping;
pub mod meeting;
pub mod oauth;
pub mod policy;
pub mod random;
pub mod reconcile;
pub mod secret;
pub mod timefmt;
pub mod token;
pub mod validation;
pub mod visit;
pub mod webhook;
pub mod weburl;

pub use error::CoreError;
