#!/usr/bin/env bash
# `posture watch` under load: N objects and a steady stream of changes, against the release
# binary; prints event-to-finding latency (p50/p99/max) and peak RSS. Linux (reads /proc).
#
#   benches/watch.sh [OBJECTS] [RATE] [SECONDS]     (default: 10000 10 60)
#
# WATCH_BENCHMARK=none leaves the CIS benchmark out (default: auto, as posture watch runs).
set -euo pipefail
cd "$(dirname "$0")/.."
export WATCH_OBJECTS=${1:-10000} WATCH_RATE=${2:-10} WATCH_SECONDS=${3:-60}
cargo build --quiet --release --bin posture
target_dir=$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
export POSTURE_BIN="$target_dir/release/posture"
cargo bench --quiet --bench watch
