#!/usr/bin/env bash
# Scan speed against a scaled cluster: N objects (examples/gen_manifests.rs's mix plus their
# Namespaces) served by the store API server on 127.0.0.1 with paged lists, scanned by the
# release binary with `posture scan --kubeconfig K --format json -o /dev/null` under GNU time.
# Prints objects, served objects, wall seconds, CPU seconds (user + system), objects per second
# (by wall time), peak RSS and the paged list requests answered, per N.
#
#   benches/cluster_scale.sh [N...]     (default: 10000)
#
# Set RAYON_NUM_THREADS to pin posture's thread count.
set -euo pipefail
cd "$(dirname "$0")/.."
for n in "$@"; do
    case $n in
        '' | *[!0-9]*) echo "cluster_scale.sh: N must be a positive integer, got '$n'" >&2; exit 2 ;;
    esac
done
if [ ! -x /usr/bin/time ]; then
    echo "cluster_scale.sh: needs GNU time at /usr/bin/time (apt-get install time)" >&2
    exit 2
fi
cargo build --quiet --release --bin posture
target_dir=$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
export POSTURE_BIN="$target_dir/release/posture"
echo "threads: ${RAYON_NUM_THREADS:-$(nproc) (all cores)}"
cargo bench --quiet --bench cluster_scale -- "$@"
