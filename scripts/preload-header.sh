#!/usr/bin/env bash
# Writes php-bridge/lib/kct_runtime.preload.h: the bridge's header with the FFI_SCOPE and
# the absolute FFI_LIB that `ffi.preload=` needs (PHP resolves no relative paths there).
set -euo pipefail
cd "$(dirname "$0")/.."
lib="$(pwd)/php-bridge/lib/libkct_wasm_runtime.so"
{
  echo '#define FFI_SCOPE "KCT_WASM"'
  echo "#define FFI_LIB \"$lib\""
  cat php-bridge/app/wasm/kct_runtime.h
} > php-bridge/lib/kct_runtime.preload.h
