// A worker's kubelet holds certificates the controller manager signed when it joined (its client certificate,
// and its serving certificate through serverTLSBootstrap), and renews them itself only near their expiry. After a
// cluster CA rotation's issue-new the controller manager signs with the new CA, and at distrust-old the
// apiservers stop trusting the old one: a kubelet still presenting an old-CA certificate would lose the API. So
// after every successful sync the worker compares its kubelet's certificates with the CA the cluster signs with
// now (a workers' parameter, as the control plane's --cluster-signing-cert-file holds it), and makes the kubelet
// ask again for each that is not from it: a serving certificate by removing it (the kubelet files a new CSR at
// start, which the approvers check), a client certificate by removing it with the kubeconfig that names it (the
// kubelet joins again with its bootstrap kubeconfig). Until the controller manager signs with the new CA, a new
// certificate is still from the old one and the next sync asks again.
import { kubeadmLayout, pkiFiles, pkiPair } from "../../components/common";
import { shellWord } from "./secrets";

export const KUBELET_REJOIN_SCRIPT = "/usr/local/libexec/hardened-cluster/kubelet-rejoin";
/** The CA the controller manager signs kubelet certificates with: the control plane's file, and the worker's copy. */
export const CLUSTER_SIGNING_CA_PATH = pkiPair(kubeadmLayout(), pkiFiles.clusterSigningCa).cert;
export const CLUSTER_SIGNING_CA_FILE_ID = "cluster-signing-ca.crt";
/** The kubelet's default --cert-dir: where it keeps the pairs it was issued, as kubelet-{client,server}-current.pem. */
export const KUBELET_CERT_DIR = "/var/lib/kubelet/pki";
/** The client pair the kubelet presents now (a link to the dated file it was issued). */
export const KUBELET_CLIENT_CERT = `${KUBELET_CERT_DIR}/kubelet-client-current.pem`;

export interface KubeletRejoinPlan {
    /** The kubelet's unit (restarted through systemctl). */
    unit: string;
    /** Its --kubeconfig, which it writes once joined and which names its client certificate. */
    kubeconfig: string;
    /** Its --bootstrap-kubeconfig: the server and CA file a join dials, and the token it presents. */
    bootstrapKubeconfig: string;
}

const word = (s: string) => shellWord(s, "the kubelet rejoin script");

/**
 * Run by the workers' sync service after each sync that succeeded (ExecStartPost). Before it removes a client
 * certificate it checks that the bootstrap token is still accepted (it may list CSRs), so a worker never gives up
 * a working credential for a join that cannot happen; the token reaches curl through a file, not argv.
 */
export function renderKubeletRejoinScript(p: KubeletRejoinPlan): string {
    return `#!/bin/bash
# Makes the kubelet ask again for each certificate that the CA the cluster signs with now (${CLUSTER_SIGNING_CA_PATH}) did not issue.
set -euo pipefail
umask 077
signer=${CLUSTER_SIGNING_CA_PATH}
dir=${KUBELET_CERT_DIR}
kubeconfig=${word(p.kubeconfig)}
bootstrap=${word(p.bootstrapKubeconfig)}
[ -s "$signer" ] || { echo "hardened-cluster-kubelet-rejoin: $signer is missing" >&2; exit 1; }
from_signer() { openssl x509 -in "$1" 2>/dev/null | openssl verify -no_check_time -partial_chain -CAfile "$signer" >/dev/null 2>&1; }
stale=()
for f in kubelet-server-current.pem kubelet-client-current.pem; do
  if [ -e "$dir/$f" ] && ! from_signer "$dir/$f"; then stale+=("$f"); fi
done
if (( \${#stale[@]} == 0 )); then
  echo "hardened-cluster-kubelet-rejoin: the kubelet's certificates are from the signing CA"
  exit 0
fi
if [[ " \${stale[*]} " == *" kubelet-client-current.pem "* ]]; then
  # The join dials what the bootstrap kubeconfig names (the platform writes one cluster, one user).
  server=$(sed -n 's/^ *server: *//p' "$bootstrap" | head -n 1)
  ca=$(sed -n 's/^ *certificate-authority: *//p' "$bootstrap" | head -n 1)
  work=$(mktemp -d)
  trap 'rm -rf -- "$work"' EXIT
  printf 'Authorization: Bearer %s\\n' "$(sed -n 's/^ *token[:] *//p' "$bootstrap" | head -n 1)" > "$work/header"
  status=$(curl -sS -o /dev/null -w '%{http_code}' --max-time 10 --cacert "$ca" -H @"$work/header" "$server/apis/certificates.k8s.io/v1/certificatesigningrequests?limit=1" || true)
  if [ "$status" != 200 ]; then
    echo "hardened-cluster-kubelet-rejoin: the kubelet's client certificate is not from the signing CA, but the bootstrap token is not accepted (HTTP $status); keeping it until pulumi up renews the token" >&2
    exit 1
  fi
  stale+=("$kubeconfig")
fi
for f in "\${stale[@]}"; do
  case "$f" in /*) rm -f -- "$f" ;; *) rm -f -- "$dir/$f" ;; esac
  echo "hardened-cluster-kubelet-rejoin: removed $f"
done
systemctl try-restart -- ${word(p.unit)}.service
`;
}
