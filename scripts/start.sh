#!/usr/bin/env bash
# `npm start`: builds the toolchain if it is missing, brings up the local stack (a hardened control plane as
# processes on this machine) and prints how to use it. Run it again at any time: a second run changes nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/toolchain.sh
stack=${HC_STACK:-local}
if ! bash scripts/pulumi stack select -s "$stack" >/dev/null 2>&1; then
  bash scripts/pulumi stack init -s "$stack" </dev/null
fi
# A bad key stops here, named once, before the engine starts (its display would print the error twice).
bash scripts/pulumi config --json --show-secrets -s "$stack" </dev/null |
  TS_NODE_TRANSPILE_ONLY=true node -r ts-node/register scripts/check-config.ts "$stack"
bash scripts/pulumi up --yes --skip-preview -s "$stack"

bin=$(bash scripts/toolchain.sh --bin-dir)
kubeconfig=$(bash scripts/pulumi stack output kubeconfigPath -s "$stack" 2>/dev/null || true)
endpoint=$(bash scripts/pulumi stack output endpoint -s "$stack")
cat <<USAGE

hardened-cluster: stack "$stack" is up at $endpoint

  kubectl:      $bin/kubectl --kubeconfig ${kubeconfig:-<kubeconfig>} get namespaces
  kubeconfig:   (umask 077; scripts/pulumi stack output --show-secrets kubeconfig -s $stack > kubeconfig)
  posture:      npm run pulumi -- stack output posture -s $stack
  kube-bench:   $bin/kube-bench run --config-dir $(dirname "$bin")/kube-bench/cfg --config $(bash scripts/pulumi stack output kubeBenchConfigPath -s "$stack" 2>/dev/null) --benchmark cis-1.12 --targets master,etcd
  recover:      npm run pulumi -- up --refresh --run-program -s $stack   (restarts a process its supervisor gave up on)
  tear down:    npm run pulumi -- destroy -s $stack
USAGE
