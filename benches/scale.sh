#!/usr/bin/env bash
# Scan-speed measurement at growing input sizes.
#
#   benches/scale.sh [N...]        (default: 1000 10000 50000)
#
# Builds release, generates N objects with examples/gen_manifests.rs into a temp dir, runs
# `posture scan -f DIR --format json -o /dev/null` under GNU time, and prints objects, wall
# seconds, CPU seconds (user + system; steadier than wall time on a busy machine), objects per
# second (by wall time) and peak RSS per N. Set RAYON_NUM_THREADS to pin the thread count.
# Exit code 2 from posture (errors: unreadable files, failing rules) fails the script; 0 and 1
# (findings) are normal.
set -euo pipefail

cd "$(dirname "$0")/.."

if [ $# -eq 0 ]; then
    set -- 1000 10000 50000
fi
for n in "$@"; do
    case $n in
        '' | *[!0-9]*) echo "scale.sh: N must be a positive integer, got '$n'" >&2; exit 2 ;;
    esac
done

if [ ! -x /usr/bin/time ]; then
    echo "scale.sh: needs GNU time at /usr/bin/time (apt-get install time)" >&2
    exit 2
fi

cargo build --quiet --release --bin posture --example gen_manifests
target_dir=$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
posture="$target_dir/release/posture"
gen="$target_dir/release/examples/gen_manifests"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

threads=${RAYON_NUM_THREADS:-$(nproc) (all cores)}
echo "threads: $threads"
# posture turns off library backtraces itself unless RUST_LIB_BACKTRACE asks for them.
if [ -n "${RUST_LIB_BACKTRACE:-}" ] && [ "${RUST_LIB_BACKTRACE}" != 0 ]; then
    echo "note: RUST_LIB_BACKTRACE=${RUST_LIB_BACKTRACE}: errors inside the engine capture backtraces, which slows scans"
fi
printf '%10s %10s %10s %12s %14s\n' objects wall_s cpu_s objects/s peak_rss_mb

for n in "$@"; do
    dir="$work/n$n"
    "$gen" "$n" "$dir" 2>/dev/null
    status=0
    /usr/bin/time -v -o "$work/time.txt" \
        "$posture" scan -f "$dir" --format json -o /dev/null 2>"$work/stderr.txt" || status=$?
    if [ "$status" -ge 2 ]; then
        echo "scale.sh: posture exited $status on $n objects:" >&2
        head -n 20 "$work/stderr.txt" >&2
        exit 1
    fi
    # "Elapsed (wall clock) time (h:mm:ss or m:ss): 0:01.23"
    wall=$(awk '/Elapsed \(wall clock\)/ { print $NF }' "$work/time.txt" |
        awk -F: '{ s = 0; for (i = 1; i <= NF; i++) s = s * 60 + $i; print s }')
    cpu=$(awk '/(User|System) time \(seconds\)/ { s += $NF } END { print s }' "$work/time.txt")
    rss_kb=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$work/time.txt")
    awk -v n="$n" -v w="$wall" -v c="$cpu" -v r="$rss_kb" \
        'BEGIN { printf "%10d %10.2f %10.2f %12.0f %14.1f\n", n, w, c, (w > 0 ? n / w : 0), r / 1024 }'
    rm -rf "$dir"
done
