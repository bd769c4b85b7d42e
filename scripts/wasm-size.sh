#!/usr/bin/env bash
# Prints the core .wasm's size (raw from cargo, after wasm-opt, gzipped), checks it has no
# imports, and with --readme writes the figures into README.md between the size markers.
set -euo pipefail
cd "$(dirname "$0")/.."
raw=target/wasm32-unknown-unknown/server/kc_telemed.wasm
# The file the plugin ships (make wasm copies the optimised build there).
opt=php-bridge/lib/kc_telemed.wasm
[ -f "$raw" ] && [ -f "$opt" ] || { echo "build the .wasm first (make wasm)" >&2; exit 1; }
if wasm-objdump -x -j Import "$opt" 2>/dev/null | grep -q '^Import\['; then
  echo "the core .wasm has imports:" >&2; wasm-objdump -x -j Import "$opt" >&2; exit 1
fi
# The guest's memory is capped (.cargo/config.toml): a runaway guest traps, never grows unbounded.
max_pages=$(wasm-objdump -x -j Memory "$opt" | sed -n 's/.*max=\([0-9]*\).*/\1/p')
[ -n "$max_pages" ] && [ "$max_pages" -le 1024 ] || { echo "the core .wasm's memory has no cap of at most 1024 pages (64 MiB)" >&2; exit 1; }
r=$(stat -c %s "$raw"); o=$(stat -c %s "$opt"); g=$(gzip -9c "$opt" | wc -c)
kb() { awk -v b="$1" 'BEGIN { printf "%.1f KiB", b/1024 }'; }
echo "core .wasm: raw $(kb "$r") ($r B), after wasm-opt $(kb "$o") ($o B), gzipped $(kb "$g") ($g B); imports: none; memory at most $max_pages pages"
# The guard (issue 14's decision: the 300 KB raw budget is retired for the server .wasm, whose
# size costs only through cold start): the shipped file at most 640 KB.
budget=640000
[ "$o" -le "$budget" ] || { echo "the shipped core .wasm is $o bytes: over the $budget-byte guard" >&2; exit 1; }
[ "$o" -le "$r" ] || { echo "wasm-opt made the core .wasm larger ($o > $r bytes)" >&2; exit 1; }
if [ "${1:-}" = "--readme" ]; then
  table="| build | bytes | KiB |\n|---|---|---|\n| cargo (profile server: opt-level 3, LTO, stripped) | $r | $(kb "$r") |\n| after \`wasm-opt -O3\`, small functions inlined (shipped) | $o | $(kb "$o") |\n| shipped, gzip -9 | $g | $(kb "$g") |"
  python3 - "$table" <<'PY'
import re, sys
table = sys.argv[1].replace("\\n", "\n")
s = open("README.md").read()
s = re.sub(r"(<!-- size:begin -->\n).*?(<!-- size:end -->)", lambda m: m.group(1) + table + "\n" + m.group(2), s, flags=re.S)
open("README.md", "w").write(s)
PY
  echo "README.md updated"
fi
