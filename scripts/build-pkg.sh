#!/usr/bin/env bash
# Builds pkg/: the core with its wasm-bindgen face (feature "browser"), bound by the pinned
# wasm-bindgen-cli (the same version as the crate's wasm-bindgen), ESM for `--target web`
# with an explicit init, then wasm-opt. The plugin's settings pages ship a copy.
set -euo pipefail
cd "$(dirname "$0")/.."
want=$(grep -m1 -E '^wasm-bindgen = ' Cargo.toml | sed -E 's/.*"=([0-9.]+)".*/\1/')
have=$(wasm-bindgen --version 2>/dev/null | awk '{print $2}' || true)
if [ "$have" != "$want" ]; then
  echo "build-pkg: installing wasm-bindgen-cli $want (have: ${have:-none})"
  cargo install -q wasm-bindgen-cli --version "$want"
fi
CARGO_PROFILE_RELEASE_STRIP=false CARGO_TARGET_DIR=target/browser cargo build -q --release --target wasm32-unknown-unknown --lib --features browser
wasm-bindgen --target web --out-dir pkg --out-name kc_telemed target/browser/wasm32-unknown-unknown/release/kc_telemed.wasm
# wasm-bindgen keeps JS values in a second (externref) table; Debian's binaryen 108 corrupts
# it (Table.set fails at init), so this step uses the pinned binaryen from npm.
node_modules/.bin/wasm-opt -Oz --enable-bulk-memory --enable-sign-ext --enable-nontrapping-float-to-int --enable-mutable-globals \
  --enable-reference-types --enable-multivalue --strip-debug --strip-producers pkg/kc_telemed_bg.wasm -o pkg/kc_telemed_bg.wasm
mkdir -p php-bridge/assets/pkg
cp pkg/kc_telemed.js pkg/kc_telemed_bg.wasm php-bridge/assets/pkg/
js=$(stat -c %s pkg/kc_telemed.js); w=$(stat -c %s pkg/kc_telemed_bg.wasm)
gz=$(cat pkg/kc_telemed.js pkg/kc_telemed_bg.wasm | gzip -9 | wc -c)
echo "pkg: kc_telemed_bg.wasm $w B, kc_telemed.js $js B, both gzipped $gz B (budget 153600 B)"
[ "$gz" -le 153600 ] || { echo "pkg is over its 150 KB gzipped budget" >&2; exit 1; }
if [ "${1:-}" = "--readme" ]; then
  python3 - "$w" "$js" "$gz" <<'PY'
import re, sys
w, js, gz = (int(x) for x in sys.argv[1:])
table = f"| file | bytes |\n|---|---|\n| `kc_telemed_bg.wasm` (wasm-bindgen, wasm-opt -Oz) | {w} |\n| `kc_telemed.js` (glue) | {js} |\n| both, gzip -9 (budget 150 KB) | {gz} ({gz/1024:.1f} KiB) |"
s = open("README.md").read()
s = re.sub(r"(<!-- pkg-size:begin -->\n).*?(<!-- pkg-size:end -->)", lambda m: m.group(1) + table + "\n" + m.group(2), s, flags=re.S)
open("README.md", "w").write(s)
PY
fi
