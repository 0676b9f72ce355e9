#!/usr/bin/env bash
# Builds Istio's sidecar injector (test/e2e/injector: istio.io/istio/pkg/kube/inject served on its
# own, pinned in test/e2e/injector/go.mod) into a cache directory outside the clone, keyed by the
# pinned version, next to a copy of the istio-discovery chart of the same module version (its
# injection templates, mesh config and MutatingWebhookConfiguration). Prints that directory.
# A second run with both present is a no-op.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
module="$here/injector"
istio_version="$(awk '{for (i = 1; i < NF; i++) if ($i == "istio.io/istio") print $(i + 1)}' "$module/go.mod")"
if [[ -z "$istio_version" ]]; then
  echo "build-injector: could not read the pinned istio.io/istio version from $module/go.mod" >&2
  exit 2
fi
cache_root="${SIDECAR_GUARD_E2E_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/sidecar-guard-e2e}"
out="$cache_root/istio-$istio_version"
export GOTOOLCHAIN=local
export GOFLAGS="${GOFLAGS:-} -mod=readonly"
command -v go >/dev/null || PATH="$PATH:/usr/local/go/bin"
if [[ -x "$out/istio-injector" && -f "$out/istio-discovery/Chart.yaml" ]]; then
  echo "$out"
  exit 0
fi
if ! command -v go >/dev/null; then
  echo "build-injector: 'go' is not on PATH; install Go 1.24 or newer to build Istio's injector (README: Try it against a real API server)" >&2
  exit 2
fi
mkdir -p "$out"
if [[ ! -x "$out/istio-injector" ]]; then
  echo "build-injector: building Istio's injector (istio.io/istio $istio_version) into $out (a cold build takes minutes)" >&2
  (cd "$module" && go build -trimpath -ldflags "-s -w" -o "$out/istio-injector.tmp" .)
  mv "$out/istio-injector.tmp" "$out/istio-injector"
fi
# The chart ships in the same module: copy it out of the read-only module cache.
src="$(cd "$module" && go list -m -f '{{.Dir}}' istio.io/istio)/manifests/charts/istio-control/istio-discovery"
rm -rf "$out/istio-discovery.tmp"
cp -r "$src" "$out/istio-discovery.tmp"
chmod -R u+w "$out/istio-discovery.tmp"
rm -rf "$out/istio-discovery"
mv "$out/istio-discovery.tmp" "$out/istio-discovery"
echo "$out"
