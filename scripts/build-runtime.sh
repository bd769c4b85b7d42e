#!/usr/bin/env bash
# `make runtime`: the runtime library PHP FFI loads, built with profile-guided optimisation.
# wasmi is an interpreter, and where its branches go and what it inlines decide its speed: a
# build told by a profile which op handlers run, and how, makes every core call 4 to 10 % faster
# and the first call in a new process about a quarter faster (README, "Cost of the bridge").
#
#   1. an instrumented build (target/pgo/gen) counts what runs;
#   2. it runs every golden vector ten times through PHP (scripts/pgo/train.php);
#   3. llvm-profdata (rustup's llvm-tools) merges the counts into target/pgo/<hash>.profdata;
#   4. the build that ships (target/pgo/use) is compiled with that profile.
# Steps 2 and 3 are skipped while the instrumented build is unchanged (the profile is named by
# its hash), so only a change to the runtime's own code or dependencies trains again.
# Needs `make wasm` (the training loads the core) and PHP (make setup).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
out=target/pgo
mkdir -p "$out"

sysroot=$(rustc --print sysroot)
host=$(rustc -vV | sed -n 's/^host: //p')
profdata="$sysroot/lib/rustlib/$host/bin/llvm-profdata"
[ -x "$profdata" ] || { echo "runtime: llvm-profdata not found at $profdata (rustup component add llvm-tools; make setup does it)" >&2; exit 1; }

# 1. The instrumented build. Its own target dir: other RUSTFLAGS in target/ would rebuild
# everything there each time the two alternate.
CARGO_TARGET_DIR=$out/gen RUSTFLAGS="-Cprofile-generate=$root/$out/gen/raw -Cllvm-args=-vp-counters-per-site=8" \
  cargo build -q --profile runtime -p kct-runtime
gen=$out/gen/runtime/libkct_wasm_runtime.so
key=$(sha256sum "$gen" | cut -c1-16)
profile=$out/$key.profdata

if [ ! -s "$profile" ]; then
  # 2. Training. The instrumented handlers are no longer sibling calls, so each op the guest
  # runs takes a stack frame until the call returns: hundreds of megabytes for a long call,
  # hence the unlimited stack here (the shipped build keeps a flat stack; a bridge test holds it).
  rm -rf "$out/gen/raw"
  if ! (
    ulimit -s unlimited 2>/dev/null || ulimit -s "$(ulimit -H -s)"
    KCT_WASM_RUNTIME_LIB="$root/$gen" LLVM_PROFILE_FILE="$root/$out/gen/raw/%p-%m.profraw" \
      php -d ffi.enable=1 scripts/pgo/train.php
  ); then
    echo "runtime: training the profile failed. If PHP died of a segmentation fault, the stack was" \
      "too small for the instrumented build: raise the hard limit (ulimit -H -s, $(ulimit -H -s) here)." >&2
    exit 1
  fi
  # 3. The counts merged; a profile that names no function would teach the build nothing.
  "$profdata" merge -o "$profile.tmp" "$out/gen/raw"
  functions=$("$profdata" show "$profile.tmp" | sed -n 's/^Total functions: //p')
  [ "${functions:-0}" -gt 1000 ] || { echo "runtime: the profile counts only ${functions:-0} functions" >&2; exit 1; }
  mv "$profile.tmp" "$profile"
  find "$out" -maxdepth 1 -name '*.profdata' ! -name "$key.profdata" -delete
fi

# 4. The build that ships. The profile's name changes with the instrumented build, so a new
# profile rebuilds it and an unchanged one does not.
CARGO_TARGET_DIR=$out/use RUSTFLAGS="-Cprofile-use=$root/$profile" \
  cargo build -q --profile runtime -p kct-runtime
echo "runtime: $out/use/runtime/libkct_wasm_runtime.so (profile-guided, profile $key)"
