#!/usr/bin/env bash
# Scan-speed measurement at growing input sizes.
#
#   benches/scale.sh [--format table|json|sarif] [N...]    (default: json; 1000 10000 50000)
#
# Builds release, generates N objects with examples/gen_manifests.rs into a temp dir, runs
# `posture scan -f DIR --format FORMAT -o /dev/null` under GNU time, and prints objects, wall
# seconds, CPU seconds (user + system; steadier than wall time on a busy machine), objects per
# second (by wall time) and peak RSS per N. Set RAYON_NUM_THREADS to pin the thread count.
# Exit code 2 from posture (errors: unreadable files, failing rules) fails the script; 0 and 1
# (findings) are normal.
#
# SCALE_DIR=DIR generates the inputs under DIR instead of $TMPDIR (a fresh subdirectory, removed
# at the end). The inputs take about 0.9 KB per object on disk (measured: 10,000 objects, 8.5 MB;
# 1M objects: about 0.9 GB); the script checks for twice that free before generating.
# The generator writes one N at a time and deletes it after its scan.
set -euo pipefail

cd "$(dirname "$0")/.."

format=json
while [ $# -gt 0 ]; do
    case $1 in
        --format) [ $# -ge 2 ] || { echo "scale.sh: --format needs a value" >&2; exit 2; }
            format=$2; shift 2 ;;
        --format=*) format=${1#--format=}; shift ;;
        --) shift; break ;;
        -*) echo "scale.sh: unknown option '$1'" >&2; exit 2 ;;
        *) break ;;
    esac
done
case $format in
    table | json | sarif) ;;
    *) echo "scale.sh: --format must be table, json or sarif, got '$format'" >&2; exit 2 ;;
esac

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

parent=${SCALE_DIR:-${TMPDIR:-/tmp}}
mkdir -p "$parent"
work=$(mktemp -d "$parent/posture-scale.XXXXXX")
trap 'rm -rf "$work"' EXIT

# Disk: the largest N's inputs, twice over for room to spare (measured: ~0.9 KB per object).
largest=0
for n in "$@"; do [ "$n" -gt "$largest" ] && largest=$n; done
need_kb=$((largest * 9 / 10 * 2))
free_kb=$(df -Pk "$work" | awk 'NR == 2 { print $4 }')
if [ "$need_kb" -gt "$free_kb" ]; then
    echo "scale.sh: $largest objects need about $((need_kb / 1024)) MB free under $parent, only $((free_kb / 1024)) MB are; set SCALE_DIR to a larger disk" >&2
    exit 2
fi

threads=${RAYON_NUM_THREADS:-$(nproc) (all cores)}
echo "threads: $threads"
echo "format: $format"
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
        "$posture" scan -f "$dir" --format "$format" -o /dev/null 2>"$work/stderr.txt" || status=$?
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
