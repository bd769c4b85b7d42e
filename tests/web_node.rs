//! The browser face, run in Node by wasm-bindgen-test-runner (see `make test-pkg`).
#![cfg(all(target_arch = "wasm32", feature = "browser"))]
include!("web/shared.rs");
