#!/usr/bin/env bash
# `npm start`: builds the toolchain if it is missing, then brings up the local stack.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/toolchain.sh
stack=${HC_STACK:-local}
if ! bash scripts/pulumi stack select "$stack" >/dev/null 2>&1; then
  bash scripts/pulumi stack init "$stack"
fi
bash scripts/pulumi up --yes --skip-preview -s "$stack"
