//! The browser face, run in headless Chromium through chromedriver (see `make test-pkg`).
#![cfg(all(target_arch = "wasm32", feature = "browser"))]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);
include!("web/shared.rs");
