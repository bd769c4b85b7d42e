# The two commands users need: `make demo` and `make test`. Both work on a fresh machine.
SHELL := /bin/bash
WASM_RAW := target/wasm32-unknown-unknown/server/kc_telemed.wasm
WASM := build/kc_telemed.wasm
# cargo builds the core for speed (profile `server`, opt-level 3); wasm-opt then optimises for the
# interpreter: in wasmi a call costs as much as several instructions, so small functions are
# inlined (README, "Cost of the bridge").
WASM_OPT_FEATURES := --enable-bulk-memory --enable-sign-ext --enable-nontrapping-float-to-int --enable-mutable-globals
WASM_OPT_FLAGS := -O3 --always-inline-max-function-size 10 --flexible-inline-max-function-size 40 $(WASM_OPT_FEATURES)
LIB := php-bridge/lib
PHPUNIT := phpunit --do-not-cache-result

TESTBED_PACKAGES := php8.2-cli phpunit mariadb-server wordpress php8.2-mysql php8.2-curl php8.2-mbstring php8.2-xml curl chromium chromium-driver php-codesniffer gettext gcc-aarch64-linux-gnu libc6-dev-arm64-cross zip unzip file

.PHONY: bench test checks demo setup lint php-lint pot dist test-dist unit wasm runtime pkg runtime-wasmtime test-bridge test-wp test-soak soak test-fuzz test-pkg test-wasmtime bench-bridge bench-ab profile-core size down

test:
	@start=$$(date +%s); $(MAKE) --no-print-directory checks; rc=$$?; \
	  echo "make test took $$(( $$(date +%s) - start )) s"; exit $$rc

checks: setup lint unit wasm test-fuzz runtime pkg php-lint test-bridge test-wp test-soak test-pkg test-dist
	@scripts/wasm-size.sh
	@echo "make test: all checks passed"

setup:
	@scripts/setup.sh $(TESTBED_PACKAGES)
	@[ -d node_modules/playwright-core ] && [ -d node_modules/typescript ] && [ -d node_modules/binaryen ] || npm ci --no-audit --no-fund

lint:
	phpcs
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings
	CARGO_TARGET_DIR=target/browser cargo clippy --target wasm32-unknown-unknown --features browser --lib --test web_node --test web_browser -- -D warnings

php-lint:
	@find php-bridge scripts -name '*.php' -print0 | xargs -0 -n1 php -l >/dev/null
	@echo "php -l: no syntax errors"
	@scripts/make-pot.sh --check

# languages/kivicare-telemed-zoom.pot from the PHP and the screens' JavaScript.
pot:
	scripts/make-pot.sh

# Property tests run from a fixed seed here, so a run is repeatable (failures found are kept
# as regressions); make soak explores with random seeds.
unit:
	PROPTEST_RNG_SEED=20261201 cargo test
	cargo run --quiet --example walkthrough > /dev/null

# The core, import-free, built for speed; shipped inside the plugin's lib/.
# One binaryen for both builds: npm's, pinned in package-lock.json (Debian's 108 corrupts
# wasm-bindgen's externref table, see scripts/build-pkg.sh).
WASM_OPT := node_modules/.bin/wasm-opt

wasm: $(WASM_OPT)
	cargo build --profile server --target wasm32-unknown-unknown --lib
	@mkdir -p build $(LIB)
	$(WASM_OPT) $(WASM_OPT_FLAGS) $(WASM_RAW) -o $(WASM)
	cp $(WASM) $(LIB)/kc_telemed.wasm

# The runtime library PHP FFI loads, built with profile-guided optimisation (wasmi: two builds of
# about a minute each, the training between them a few seconds; scripts/build-runtime.sh). The
# training loads the core, hence wasm first.
RUNTIME_LIB := target/pgo/use/runtime/libkct_wasm_runtime.so
runtime: wasm
	scripts/build-runtime.sh
	@mkdir -p $(LIB)
	cp $(RUNTIME_LIB) $(LIB)/
	@scripts/preload-header.sh

test-bridge: wasm runtime
	cd php-bridge && $(PHPUNIT) -c phpunit-bridge.xml

# pkg/: the core for the browser (wasm-bindgen, pinned CLI, wasm-opt); a copy ships in the plugin.
pkg:
	scripts/build-pkg.sh

WASM_TEST := CARGO_TARGET_DIR=target/browser CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
	cargo test --target wasm32-unknown-unknown --features browser

# The browser package in Node and in headless Chromium, its TypeScript declarations, its
# parity with the server, and the settings pages end to end in Chromium on the test bed.
test-pkg: pkg
	$(WASM_TEST) --test web_node
	CHROMEDRIVER=/usr/bin/chromedriver WASM_BINDGEN_TEST_WEBDRIVER_JSON=$(CURDIR)/tests/browser/webdriver.json $(WASM_TEST) --test web_browser
	node --test tests/browser/parity.test.mjs
	node_modules/.bin/tsc -p tests/browser
	scripts/testbed.sh run test tests/browser/e2e.sh

# Real WordPress + MariaDB + the fake Zoom, stood up and torn down around the suite; then a
# subdirectory network of two sites with the plugin network-activated.
test-wp: wasm runtime
	scripts/testbed.sh run test bash -c 'cd php-bridge && $(PHPUNIT) -c phpunit-wp.xml'
	scripts/testbed.sh run multisite bash -c 'cd php-bridge && $(PHPUNIT) -c phpunit-multisite.xml'

# Every operation of the shipped .wasm, in wasmi, fed random and hostile inputs (tools/core-fuzz):
# an answer every time, never a trap. make soak runs a million.
FUZZ ?= 50000
test-fuzz: wasm
	cargo build --release -q -p core-fuzz
	./target/release/core-fuzz $(WASM) tests/vectors $(FUZZ)

# The fault soak on two web servers sharing one database (scripts/soak/run.php): faults at
# the fake Zoom, concurrent KiviCare actions, then the queue to idle and the count.
ROUNDS ?= 200
test-soak: wasm runtime
	KCT_WEB_SERVERS=2 scripts/testbed.sh run test php scripts/soak/run.php 24 20261201

soak: wasm runtime
	cargo test --release --test lifecycle_model --test properties
	$(MAKE) --no-print-directory test-fuzz FUZZ=1000000
	KCT_WEB_SERVERS=2 scripts/testbed.sh run test php scripts/soak/run.php $(ROUNDS)

# Opt-in JIT runtime (wasmtime + cranelift; about 10 minutes to build here).
runtime-wasmtime:
	@scripts/setup.sh cmake
	CARGO_TARGET_DIR=target/wasmtime cargo build --profile runtime -p kct-runtime --no-default-features --features wasmtime

test-wasmtime: wasm runtime runtime-wasmtime
	cd php-bridge && KCT_WASM_RUNTIME_LIB=$(CURDIR)/target/wasmtime/runtime/libkct_wasm_runtime.so $(PHPUNIT) -c phpunit-bridge.xml

# A booking end to end on the test bed, the addon against a stand-in provider (and a page
# with the plugin active against inactive); writes the figures into README.md.
bench: setup wasm runtime
	scripts/testbed.sh run test php scripts/bench/booking.php --readme

# Also builds tools/core-time, and a plain build of the runtime library (target/runtime) to set
# the shipped, profile-guided one against (one package per build: cargo unifies the features of
# packages built together, and the plain build must be the shipped one's source and features).
bench-bridge: setup wasm runtime
	cargo build --profile runtime -p core-time
	cargo build --profile runtime -p kct-runtime
	php scripts/bench-bridge.php --readme

# This checkout's core against another revision's (BASE=rev, default HEAD), side by side in
# one process: the way to tell a change's gain on a noisy machine. Prints; writes nothing.
bench-ab: setup wasm runtime
	cargo build --profile runtime -p core-time
	WASM_OPT_FLAGS="$(WASM_OPT_FLAGS)" scripts/bench-ab.sh $(BASE)

# Where one core call's time goes, by function (REQUEST=file.json; default: the bench's create).
profile-core:
	WASM_OPT_FLAGS="$(WASM_OPT_FLAGS)" scripts/profile-core.sh $(REQUEST)

# The release zip (scripts/dist.sh), and the proof it installs: a fresh test-bed WordPress gets
# it through WordPress's own upgrader, activates it, and the demo's walk runs on it.
DIST_ZIP = dist/kivicare-telemed-zoom-$(shell sed -n 's/^ \* Version: *//p' php-bridge/kivicare-telemed-zoom.php).zip
dist: wasm runtime pkg
	scripts/dist.sh

test-dist: dist
	KCT_DIST_ZIP=$(DIST_ZIP) scripts/testbed.sh run dist php scripts/wp/demo.php
	@echo "test-dist: $(DIST_ZIP) installed by the upgrader, activated, demo walk passed"

$(WASM_OPT):
	npm ci --no-audit --no-fund

size: wasm pkg
	scripts/wasm-size.sh --readme
	scripts/build-pkg.sh --readme

demo: setup wasm runtime
	scripts/demo.sh

# The core alone, without WordPress: one appointment's requests printed.
walkthrough:
	cargo run --quiet --example walkthrough

down:
	scripts/testbed.sh down demo
