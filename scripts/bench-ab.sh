#!/usr/bin/env bash
# `make bench-ab [BASE=rev]`: this checkout's core against another revision's, side by side
# (default: HEAD, so uncommitted work against the last commit). The base's core is built from
# `git archive` under target/ab with the shipped core's flags; then both are timed in turns,
# the booking's two steps in wasmi alone (tools/core-time, warm and from cold caches) and
# through PHP's facade (scripts/bench/ab-steps.php). Prints figures; writes nothing else.
set -euo pipefail
cd "$(dirname "$0")/.."
base=${1:-HEAD}
rev=$(git rev-parse --verify --quiet "$base^{commit}") || {
    echo "bench-ab: no revision named '$base' (BASE=<a commit, branch or tag>)" >&2
    exit 2
}
short=${rev:0:12}
out=target/ab
src=$out/src-$short
wasm=$out/base-$short.wasm
read -r -a flags <<< "${WASM_OPT_FLAGS:?run through make bench-ab, which passes the shipped wasm-opt flags}"
if [ ! -f "$wasm" ]; then
    rm -rf "$src" && mkdir -p "$src"
    # Extracted files dated now (`-m`), not at their commit: cargo reuses a build whose
    # sources look older than it, and the last base's build would pass for this one.
    git archive "$rev" | tar -x -m -C "$src"
    # Its own target dir: sharing the checkout's would rebuild each side in turn.
    (cd "$src" && CARGO_TARGET_DIR="$PWD/../target" cargo build --quiet --profile server --target wasm32-unknown-unknown --lib)
    node_modules/.bin/wasm-opt "${flags[@]}" "$out/target/wasm32-unknown-unknown/server/kc_telemed.wasm" -o "$wasm"
    rm -rf "$src"
fi
# Named for what they are in the figures below.
ln -sf "$PWD/$wasm" "$out/base.wasm"
ln -sf "$PWD/php-bridge/lib/kc_telemed.wasm" "$out/this.wasm"
echo "base: $base ($short), $(stat -L -c %s "$out/base.wasm") bytes; this checkout: $(stat -L -c %s "$out/this.wasm") bytes"
echo
requests=$out/requests
mkdir -p "$requests"
php -r 'require "scripts/bench/input.php";
    file_put_contents($argv[1] . "/first.json", kct_bench_vector_request("lifecycle.step", "new-booking-request-built"));
    file_put_contents($argv[1] . "/second.bin", kct_bench_vector_request("lifecycle.step", "create-answered-as-sent"));
    file_put_contents($argv[1] . "/second-full.bin", kct_bench_vector_request("lifecycle.step", "create-answered-in-full-as-sent"));' "$requests"
echo "wasmi alone (tools/core-time), µs per call, the builds in turns:"
echo "request	build	warm"
target/runtime/core-time "$out/base.wasm" "$out/this.wasm" -- "$requests/first.json" "$requests/second.bin" "$requests/second-full.bin"
echo "request	build	from cold caches"
target/runtime/core-time --cold "$out/base.wasm" "$out/this.wasm" -- "$requests/first.json" "$requests/second.bin" "$requests/second-full.bin"
echo
php scripts/bench/ab-steps.php "$out/base.wasm" "$out/this.wasm"
