#!/usr/bin/env bash
# Builds kube-apiserver, kube-controller-manager, kubectl and etcd from their Go modules (pinned in
# test/e2e/controlplane/go.mod) into a cache directory outside the clone, keyed by
# version, and prints that directory. A second run with the binaries present is a no-op.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
module="$here/controlplane"
k8s_version="$(awk '$1=="k8s.io/kubernetes"{print $2}' "$module/go.mod")"
etcd_version="$(awk '$1=="go.etcd.io/etcd/server/v3"{print $2}' "$module/go.mod")"
if [[ -z "$k8s_version" || -z "$etcd_version" ]]; then
  echo "build-controlplane: could not read the pinned versions from $module/go.mod" >&2
  exit 2
fi
cache_root="${SIDECAR_GUARD_E2E_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/sidecar-guard-e2e}"
bin="$cache_root/k8s-$k8s_version-etcd-$etcd_version"
export GOTOOLCHAIN=local
export GOFLAGS="${GOFLAGS:-} -mod=readonly"

build() { # name package ldflags
  local name="$1" pkg="$2" ldflags="$3"
  if [[ -x "$bin/$name" ]]; then return 0; fi
  command -v go >/dev/null || PATH="$PATH:/usr/local/go/bin"
  if ! command -v go >/dev/null; then
    echo "build-controlplane: 'go' is not on PATH; install Go 1.24 or newer to build $name (README: Try it against a real API server)" >&2
    exit 2
  fi
  echo "build-controlplane: building $name ($pkg) into $bin (a cold build takes minutes)" >&2
  (cd "$module" && go build -trimpath -ldflags "$ldflags" -o "$bin/$name.tmp" "$pkg")
  mv "$bin/$name.tmp" "$bin/$name"
}

mkdir -p "$bin"
k8s_ldflags="-s -w -X k8s.io/component-base/version.gitVersion=$k8s_version -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$(echo "$k8s_version" | cut -d. -f2) -X k8s.io/client-go/pkg/version.gitVersion=$k8s_version"
build etcd go.etcd.io/etcd/server/v3 "-s -w"
build kube-apiserver k8s.io/kubernetes/cmd/kube-apiserver "$k8s_ldflags"
build kubectl k8s.io/kubernetes/cmd/kubectl "$k8s_ldflags"
build kube-controller-manager k8s.io/kubernetes/cmd/kube-controller-manager "$k8s_ldflags"
echo "$bin"
