#!/usr/bin/env bash
# The whole test suite, as the README and CI run it: formatting, lints, then every test.
# Installs Microsoft's SARIF validator from npm when it is missing (the SARIF test needs it).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x node_modules/@microsoft/sarif-multitool-linux/Sarif.Multitool ]; then
  npm install --no-save --no-audit --no-fund @microsoft/sarif-multitool@5.7.0 >/dev/null
  # npm 11 skips install scripts, and the package makes its binary executable in one.
  chmod u+x node_modules/@microsoft/sarif-multitool-linux/Sarif.Multitool
fi
cargo fmt --check
cargo clippy --all-targets -- -D warnings
cargo test
