# The two commands users need: `make demo` and `make test`. Both work on a fresh machine.
SHELL := /bin/bash
WASM_RAW := target/wasm32-unknown-unknown/release/kc_telemed.wasm
WASM := build/kc_telemed.wasm
WASM_OPT_FLAGS := -Oz --enable-bulk-memory --enable-sign-ext --enable-nontrapping-float-to-int --enable-mutable-globals

.PHONY: test demo setup lint wasm size unit down

test: setup lint unit wasm
	@scripts/wasm-size.sh
	@echo "make test: all checks passed"

setup:
	@scripts/setup.sh

lint:
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings

unit:
	cargo test --workspace

wasm:
	cargo build --release --target wasm32-unknown-unknown --lib
	@mkdir -p build
	wasm-opt $(WASM_OPT_FLAGS) $(WASM_RAW) -o $(WASM)

size: wasm
	scripts/wasm-size.sh --readme

demo: setup
	cargo run --quiet --example walkthrough

down:
	@true
