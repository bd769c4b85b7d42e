#!/usr/bin/env bash
# `make dist`: dist/kivicare-telemed-zoom-<version>.zip, the plugin a clinic installs. The
# runtime library for x86_64 and aarch64 (cross-built with Debian's gcc-aarch64-linux-gnu),
# the core .wasm, the browser package, languages/ and readme.txt; no tests or dev files.
# Expects `make wasm runtime pkg` done (the Makefile's dist target does them).
set -euo pipefail
cd "$(dirname "$0")/.."
SLUG=kivicare-telemed-zoom
VERSION=$(sed -n "s/^ \* Version: *//p" php-bridge/$SLUG.php)
STAGE=dist/stage/$SLUG
ZIP=dist/$SLUG-$VERSION.zip

rustup target list --installed | grep -qx aarch64-unknown-linux-gnu || rustup target add aarch64-unknown-linux-gnu
# x86_64's library is `make runtime`'s profile-guided build. aarch64's is a plain one: its profile
# would have to be trained on an aarch64 machine, and this one cannot run it to measure the gain.
CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc \
  cargo build -q --profile runtime -p kct-runtime --target aarch64-unknown-linux-gnu

rm -rf dist/stage "$ZIP"
mkdir -p "$STAGE/lib/x86_64" "$STAGE/lib/aarch64"
cp -r php-bridge/app php-bridge/assets php-bridge/languages "$STAGE/"
cp php-bridge/$SLUG.php php-bridge/uninstall.php php-bridge/preload.php php-bridge/readme.txt "$STAGE/"
cp php-bridge/lib/kc_telemed.wasm "$STAGE/lib/"
cp target/pgo/use/runtime/libkct_wasm_runtime.so "$STAGE/lib/x86_64/"
cp target/aarch64-unknown-linux-gnu/runtime/libkct_wasm_runtime.so "$STAGE/lib/aarch64/"
# What each binary is, checked here rather than found out on a clinic's server.
file "$STAGE/lib/x86_64/libkct_wasm_runtime.so" | grep -q 'x86-64' || { echo "dist: lib/x86_64 is not x86-64" >&2; exit 1; }
file "$STAGE/lib/aarch64/libkct_wasm_runtime.so" | grep -q 'ARM aarch64' || { echo "dist: lib/aarch64 is not aarch64" >&2; exit 1; }
# Both export the same C API (the one kct_runtime.h declares).
syms() { "$1" -D --defined-only "$2" | awk '$2 == "T" {print $3}' | grep -E '^(wasm|wasmi|kct)_' | LC_ALL=C sort; }
if ! diff -q <(syms nm "$STAGE/lib/x86_64/libkct_wasm_runtime.so") \
  <(syms aarch64-linux-gnu-nm "$STAGE/lib/aarch64/libkct_wasm_runtime.so") >/dev/null; then
  echo "dist: the two runtime libraries export different functions" >&2; exit 1
fi
[ -f "$STAGE/assets/pkg/kc_telemed_bg.wasm" ] || { echo "dist: the browser package is missing (make pkg)" >&2; exit 1; }

# Fixed times and order, so the same sources give the same zip.
find dist/stage -exec touch -d "@${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct)}" {} +
(cd dist/stage && find $SLUG -type f | LC_ALL=C sort | zip -q -X -9 "../../$ZIP" -@)
echo "dist: $ZIP ($(du -k "$ZIP" | cut -f1) KB, $(unzip -Z1 "$ZIP" | wc -l) files)"
