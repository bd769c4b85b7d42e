#!/usr/bin/env bash
# Installs what `make test` and `make demo` need on a fresh machine, and nothing twice.
set -euo pipefail
cd "$(dirname "$0")/.."
# rust-toolchain.toml pins the toolchain by version. Where the machine's one toolchain is that
# version under another name (stable), make the pinned name point at it instead of fetching.
pinned=$(sed -n 's/^channel = "\(.*\)"/\1/p' rust-toolchain.toml)
if ! RUSTUP_TOOLCHAIN=stable rustup toolchain list | grep -q "^$pinned"; then
  if RUSTUP_TOOLCHAIN=stable rustc --version | grep -q "^rustc $pinned "; then
    rustup toolchain link "$pinned" "$(RUSTUP_TOOLCHAIN=stable rustc --print sysroot)"
  fi
fi
need_apt=()
command -v wasm-objdump >/dev/null || need_apt+=(wabt)
for pkg in "$@"; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need_apt+=("$pkg")
done
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "setup: installing ${need_apt[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi
rustup target list --installed | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown
rustup component list --installed | grep -q '^clippy' || rustup component add clippy rustfmt
# llvm-profdata, for the runtime library's profile-guided build (scripts/build-runtime.sh).
rustup component list --installed | grep -q '^llvm-tools' || rustup component add llvm-tools
