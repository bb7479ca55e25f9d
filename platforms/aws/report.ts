// What a control-plane node holds and serves, reported after each sync for a CA rotation's gates: the machine
// running `pulumi up` cannot dial nodes in private subnets, so each node writes its own report to a String
// parameter only its role may write, and the gates read them (components/pki/ca-rotation-reports.ts). The report
// holds fingerprints of public certificates and unit names, nothing secret. One plan per node decides both what
// the script looks at and what the gate expects to find in its report.
import { flags } from "../../components/backup";
import { kubeadmLayout, pkiPair, urlHostPort } from "../../components/common";
import { CA_SPECS, CaName } from "../../components/pki/certlist";
import type { NodeReportExpectation } from "../../components/pki/ca-rotation-reports";
import { CLUSTER_CA_PATH } from "../worker-join";
import { KUBELET_CLIENT_CERT } from "./kubelet-rejoin";
import { fileEnding, type NodeSoftware } from "./node-software";
import { PENDING_RESTARTS, REPORTS_SCOPE, shellWord } from "./secrets";
import { PORTS } from "./security-groups";

export const REPORT_SCRIPT = "/usr/local/libexec/hardened-cluster/report";
/** The last report put, so an unchanged one is not put again (each put is a parameter version). */
export const LAST_REPORT = "/var/lib/hardened-cluster/report";
/** SSM's standard tier holds 4 KB. */
const REPORT_LIMIT = 4096;

export function reportParameterName(clusterName: string, node: string): string {
    return `/${clusterName}/${REPORTS_SCOPE}/${node}`;
}

export interface ReportEndpoint {
    domain: CaName;
    /** How the report and a refusal name it, e.g. "etcd-client". */
    name: string;
    host: string;
    port: number;
    /** The domain's trust file on the node: one of its certificates should verify the served leaf. */
    trustFile: string;
    /** A client pair to present (etcd asks every client for one). */
    clientPair?: { cert: string; key: string };
}

/** A leaf the node holds in a file and presents as a client (a worker kubelet's client certificate). */
export interface HeldLeaf {
    domain: CaName;
    name: string;
    file: string;
    /** The domain's trust file on the node: one of its certificates should verify the leaf. */
    trustFile: string;
}

export interface NodeReportPlan {
    /** Its report's name under /<cluster>/reports/ (a worker's is known only on the instance: see renderReportScript). */
    node: string;
    /** `kubeconfig`: the CAs are its certificate-authority-data, not PEM blocks. */
    trust: { domain: CaName; path: string; kubeconfig?: boolean }[];
    served: ReportEndpoint[];
    held?: HeldLeaf[];
}

const hostPort = (url: string | undefined, what: string) => {
    if (!url) throw new Error(`report: ${what} has no URL`);
    return urlHostPort(url.split(",")[0]);
};

/** The flags that name a trust file, and the domain whose CAs it holds (a single-CA copy, the signing file, is none). */
const TRUST_FLAGS: Readonly<Record<string, CaName>> = {
    "trusted-ca-file": "etcd",
    "peer-trusted-ca-file": "etcd",
    "etcd-cafile": "etcd",
    "client-ca-file": "kubernetes",
    "root-ca-file": "kubernetes",
    "requestheader-client-ca-file": "frontProxy",
};

/**
 * The node's trust files (every file a unit's flag names as one, and each CA's kubeadm file the node holds, which
 * kubeconfigs reference) and its TLS endpoints that serve a leaf from a file.
 */
export function nodeReportPlan(node: string, software: NodeSoftware): NodeReportPlan {
    const layout = kubeadmLayout();
    const held = new Set(software.files.map((f) => f.path));
    const trust: NodeReportPlan["trust"] = [];
    const add = (domain: CaName, p: string) => {
        if (!held.has(p)) throw new Error(`report: ${node} names ${p} as a ${domain} trust file but does not hold it`);
        if (!trust.some((t) => t.path === p)) trust.push({ domain, path: p });
    };
    for (const c of CA_SPECS) {
        const p = pkiPair(layout, c.file.base, c.file.etcd).cert;
        if (held.has(p)) add(c.name, p);
    }
    const units = software.units.map((u) => ({ name: u.name, f: flags(u.execStart.slice(1)) }));
    for (const u of units) for (const [flag, domain] of Object.entries(TRUST_FLAGS)) if (u.f[flag] !== undefined) add(domain, u.f[flag]);
    const trustOf = (d: CaName, preferred?: string) => {
        const t = trust.find((x) => x.path === preferred) ?? trust.find((x) => x.domain === d);
        if (!t) throw new Error(`report: ${node} serves a ${d} leaf but holds no ${d} CA`);
        return t.path;
    };
    const served: ReportEndpoint[] = [];
    for (const { name, f } of units) {
        if (name === "etcd") {
            // The member's own trust file, and the platform's health-check pair, which etcd accepts from anyone holding it.
            const cert = fileEnding(node, software, "/pki/etcd/healthcheck-client.crt", "the report");
            const key = fileEnding(node, software, "/pki/etcd/healthcheck-client.key", "the report");
            const t = trustOf("etcd", f["trusted-ca-file"]);
            served.push({ domain: "etcd", name: "etcd-client", ...hostPort(f["listen-client-urls"], "etcd's clients"), trustFile: t, clientPair: { cert, key } });
            served.push({ domain: "etcd", name: "etcd-peer", ...hostPort(f["listen-peer-urls"], "etcd's peers"), trustFile: trustOf("etcd", f["peer-trusted-ca-file"]), clientPair: { cert, key } });
        } else if (f["tls-cert-file"] !== undefined && f["secure-port"] !== undefined) {
            // Listening on every address (or none named), the node's loopback reaches it.
            const bind = f["bind-address"];
            const host = bind === undefined || bind === "0.0.0.0" || bind === "::" ? "127.0.0.1" : bind;
            served.push({ domain: "kubernetes", name, host, port: Number(f["secure-port"]), trustFile: trustOf("kubernetes") });
        }
    }
    return { node, trust, served };
}

/**
 * A worker's: the cluster CA file and every kubeconfig embedding the bundle (kube-proxy's, the enforcer's), the
 * kubelet's serving certificate on its port, and the client certificate it joined with (kubelet-rejoin.ts). Its
 * name is known only on the instance, so `node` is the workers' directory until the gate names each instance.
 */
export function workerReportPlan(software: NodeSoftware): NodeReportPlan {
    if (!software.files.some((f) => f.path === CLUSTER_CA_PATH)) throw new Error(`report: the workers do not hold ${CLUSTER_CA_PATH}`);
    return {
        node: WORKER_REPORTS,
        trust: [
            { domain: "kubernetes", path: CLUSTER_CA_PATH },
            ...software.files.filter((f) => f.embedsClusterCa).map((f) => ({ domain: "kubernetes" as const, path: f.path, kubeconfig: true })),
        ],
        served: [{ domain: "kubernetes", name: "kubelet", host: "127.0.0.1", port: PORTS.kubelet, trustFile: CLUSTER_CA_PATH }],
        held: [{ domain: "kubernetes", name: "kubelet-client", file: KUBELET_CLIENT_CERT, trustFile: CLUSTER_CA_PATH }],
    };
}

/** What the gate requires of the node's report: the same files and endpoints the script looks at. */
export function reportExpectation(p: NodeReportPlan): NodeReportExpectation {
    const by = <T extends { domain: CaName }>(xs: T[], f: (x: T) => string) =>
        Object.fromEntries(CA_SPECS.map((c) => [c.name, xs.filter((x) => x.domain === c.name).map(f)])) as Record<CaName, string[]>;
    return {
        node: p.node, trust: by(p.trust, (t) => t.path), served: by(p.served, (s) => s.name),
        ...(p.held?.length ? { held: by(p.held, (h) => h.name) } : {}),
    };
}

const word = (s: string) => shellWord(s, "the report script");

/** Workers report under /<cluster>/reports/workers/, each by its primary private address. */
export const WORKER_REPORTS = "workers";
/** A worker's report name under /<cluster>/reports/. */
export const workerReportName = (address: string) => `${WORKER_REPORTS}/${address}`;

/**
 * Where the report goes. A control-plane node's parameter is known in advance. A worker's is not (an Auto
 * Scaling group's member): it asks the instance metadata service for its primary private address and puts
 * `<workersUnder>/<address>`, the one parameter its role may put (iam.ts keys that on the same address).
 */
export type ReportTarget = string | { workersUnder: string };

const IMDS = "http://169.254.169.254/latest";

/** How the script names the node and its parameter: literally, or (a worker) from shell variables its first lines set. */
function destination(target: ReportTarget, node: string): { lines: string[]; about: string; node: string; parameter: string; shown: string } {
    if (typeof target === "string") return { lines: [], about: `this node (${word(node)}) holds and serves to ${word(target)}`, node, parameter: word(target), shown: target };
    return {
        lines: [
            "# This instance's primary private address (IMDSv2; the session token reaches curl through a file, not argv).",
            `printf 'X-aws-ec2-metadata-token: %s\\n' "$(curl -sSf --max-time 5 -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 60' ${IMDS}/api/token)" > "$work/imds"`,
            `address=$(curl -sSf --max-time 5 -H @"$work/imds" ${IMDS}/meta-data/local-ipv4)`,
            `[[ "$address" =~ ^[0-9]{1,3}(\\.[0-9]{1,3}){3}$ ]] || { echo "hardened-cluster-report: the instance metadata service gave no IPv4 address" >&2; exit 1; }`,
            `node=${WORKER_REPORTS}/$address`,
            `parameter=${word(target.workersUnder)}/$address`,
        ],
        about: `this node (a worker, by its address) holds and serves to ${word(target.workersUnder)}/<address>`,
        node: "$node", parameter: '"$parameter"', shown: "$parameter",
    };
}

/**
 * The script the sync service runs after every sync, whether it succeeded or not (ExecStopPost): it puts the
 * node's report when it differs from the last one put. It verifies each served leaf with openssl against each
 * certificate of the trust file alone, so the report names the CA that signed it, not just that one did.
 */
export function renderReportScript(region: string, target: ReportTarget, p: NodeReportPlan): string {
    const trustLines = p.trust.map((t) => `trust ${word(t.path)}${t.kubeconfig ? " kubeconfig" : ""}`);
    const servedLines = p.served.map((e) => ["served", word(e.name), word(e.host), String(e.port), word(e.trustFile),
        ...(e.clientPair ? [word(e.clientPair.cert), word(e.clientPair.key)] : [])].join(" "));
    const heldLines = (p.held ?? []).map((h) => ["held", word(h.name), word(h.file), word(h.trustFile)].join(" "));
    const to = destination(target, p.node);
    return `#!/bin/bash
# Reports what ${to.about}, for the CA rotation's gates.
set -euo pipefail
umask 077
work=$(mktemp -d)
trap 'rm -rf -- "$work"' EXIT
${to.lines.map((l) => `${l}\n`).join("")}n=0
# split_certs FILE DIR: each certificate of FILE as DIR/<n>.pem.
split_certs() {
  mkdir -p -- "$2"
  awk -v d="$2" '/-----BEGIN CERTIFICATE-----/ { f = d "/" ++c ".pem" } f { print > f } /-----END CERTIFICATE-----/ { close(f); f = "" }' "$1"
}
fingerprint() { openssl x509 -noout -fingerprint -sha256 -in "$1" | sed 's/^[^=]*=//'; }
trust_json=
# trust FILE [kubeconfig]: the fingerprint of every certificate it holds (none when it is missing); a kubeconfig's
# are its certificate-authority-data.
trust() {
  local d=$work/t$((++n)) f list= src=$1
  if [ "\${2:-}" = kubeconfig ] && [ -f "$1" ]; then
    src=$d.bundle
    sed -n 's/^[[:space:]]*certificate-authority-data:[[:space:]]*//p' "$1" | base64 -d > "$src" 2>/dev/null || true
  fi
  [ -f "$src" ] && split_certs "$src" "$d"
  for f in "$d"/*.pem; do [ -e "$f" ] && list+="\${list:+,}\\"$(fingerprint "$f")\\""; done
  trust_json+="\${trust_json:+,}\\"$1\\":[$list]"
}
# verified_by LEAF TRUST_FILE DIR VERB: the fingerprint of TRUST_FILE's certificate that verifies LEAF, as JSON.
verified_by() {
  local f result="{\\"error\\":\\"$4 a leaf no certificate of its trust file verifies\\"}"
  [ -f "$2" ] && split_certs "$2" "$3/ca"
  for f in "$3"/ca/*.pem; do
    if [ -e "$f" ] && openssl verify -no_check_time -partial_chain -CAfile "$f" "$1" >/dev/null 2>&1; then
      result="{\\"ca\\":\\"$(fingerprint "$f")\\"}"
      break
    fi
  done
  printf '%s' "$result"
}
served_json=
# served NAME HOST PORT TRUST_FILE [CERT KEY]: the fingerprint of TRUST_FILE's certificate that verifies the leaf served.
served() {
  local d=$work/s$((++n)) result='{"error":"presents no certificate"}'
  mkdir -p -- "$d"
  # A bounded wait: a unit that hangs in its handshake must not hold the sync's service.
  if { timeout 10 openssl s_client -connect "$2:$3" \${5:+-cert "$5" -key "$6"} </dev/null 2>/dev/null || true; } | openssl x509 -out "$d/leaf.pem" 2>/dev/null; then
    result=$(verified_by "$d/leaf.pem" "$4" "$d" serves)
  fi
  served_json+="\${served_json:+,}\\"$1\\":$result"
}
${p.held?.length ? `held_json=
# held NAME FILE TRUST_FILE: the fingerprint of TRUST_FILE's certificate that verifies the leaf in FILE (its first certificate).
held() {
  local d=$work/h$((++n)) result='{"error":"holds no certificate"}'
  mkdir -p -- "$d"
  if [ -f "$2" ] && openssl x509 -in "$2" -out "$d/leaf.pem" 2>/dev/null; then
    result=$(verified_by "$d/leaf.pem" "$3" "$d" holds)
  fi
  held_json+="\${held_json:+,}\\"$1\\":$result"
}
` : ""}${[...trustLines, ...servedLines, ...heldLines].join("\n")}
pending=
if [ -f ${PENDING_RESTARTS} ]; then
  for u in $(cat -- ${PENDING_RESTARTS}); do [[ "$u" =~ ^[A-Za-z0-9_.@-]+$ ]] && pending+="\${pending:+,}\\"$u\\""; done
fi
report="{\\"node\\":\\"${to.node}\\",\\"trust\\":{$trust_json},\\"served\\":{$served_json},${p.held?.length ? '\\"held\\":{$held_json},' : ""}\\"pending\\":[$pending]}"
(( \${#report} <= ${REPORT_LIMIT} )) || { echo "hardened-cluster-report: the report is \${#report} bytes, over SSM's ${REPORT_LIMIT}" >&2; exit 1; }
last=${LAST_REPORT}
if [ -f "$last" ] && [ ! -L "$last" ] && [ "$(cat -- "$last")" = "$report" ]; then
  echo "hardened-cluster-report: unchanged since the last report"
  exit 0
fi
aws ssm put-parameter --region ${word(region)} --name ${to.parameter} --type String --overwrite --value "$report" >/dev/null
# Kept only where root alone may write, as the sync keeps its versions.
dir=$(dirname -- "$last")
if [ -d "$dir" ] && [ ! -L "$dir" ] && [ "$(stat -c %u -- "$dir")" = 0 ] && (( (8#$(stat -c %a -- "$dir") & 8#022) == 0 )); then
  printf '%s' "$report" > "$last.new"
  mv -f -- "$last.new" "$last"
fi
echo "hardened-cluster-report: reported to ${to.shown}"
`;
}
