//! The core's JSON, in one place: `parse` reads text into a lean tree ([`Json`]), `read` takes
//! each input type's fields out of it ([`FromJson`], derived from the type itself by
//! `#[derive(FromJson)]`), and `write` writes answers and request bodies, byte for byte what
//! serde_json writes. serde_json's `Value` remains only for what the core passes through
//! without reading (policies, Zoom's meeting records, the host's rows).

pub mod parse;
pub mod read;
pub mod write;

pub use read::{name, read, yes, FromJson, Json, Lenient, Obj, Path, SyntaxError};
