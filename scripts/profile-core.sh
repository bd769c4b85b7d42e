#!/usr/bin/env bash
# `make profile-core [REQUEST=file.json]`: where one core call's time goes, by function, in
# wasmi alone. Builds the core with its symbol names kept, instruments a copy with a probe
# at every function entry and loop turn (`wasm-opt --log-execution`), and lets
# tools/core-time attribute the time between probes. Default request: the create-meeting
# call that `make bench-bridge` times.
set -euo pipefail
cd "$(dirname "$0")/.."
out=target/profile-core
mkdir -p "$out"
request=${1:-}
if [ -z "$request" ]; then
    request=$out/create.json
    php -r 'require "scripts/bench/input.php"; echo json_encode(["op" => "meeting.create", "input" => ["random" => str_repeat("5a", 16)] + kct_bench_input()], JSON_UNESCAPED_SLASHES);' > "$request"
fi
CARGO_PROFILE_SERVER_STRIP=debuginfo CARGO_TARGET_DIR=target/named cargo build --quiet --profile server --target wasm32-unknown-unknown --lib
cargo build --quiet --release -p core-time
# Optimised exactly as the shipped core (the Makefile passes its wasm-opt flags), names kept;
# then the probes.
read -r -a flags <<< "${WASM_OPT_FLAGS:?run through make profile-core, which passes the shipped wasm-opt flags}"
node_modules/.bin/wasm-opt -g "${flags[@]}" target/named/wasm32-unknown-unknown/server/kc_telemed.wasm -o "$out/named.wasm"
node_modules/.bin/wasm-opt -g "${flags[@]}" --log-execution "$out/named.wasm" -o "$out/probed.wasm"
target/release/core-time --profile "$out/probed.wasm" "$out/named.wasm" "$request"
