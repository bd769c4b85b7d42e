#!/usr/bin/env bash
# Writes php-bridge/lib/kct_runtime.preload.h: the bridge's header with the FFI_SCOPE and
# the absolute FFI_LIB that `ffi.preload=` needs (PHP resolves no relative paths there).
# The same command a clinic runs on its own install (readme.txt, FAQ).
set -euo pipefail
cd "$(dirname "$0")/.."
php php-bridge/preload.php header > php-bridge/lib/kct_runtime.preload.h.tmp
mv php-bridge/lib/kct_runtime.preload.h.tmp php-bridge/lib/kct_runtime.preload.h
