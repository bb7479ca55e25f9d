// What a control-plane node holds and serves, reported after each sync for a CA rotation's gates: the machine
// running `pulumi up` cannot dial nodes in private subnets, so each node writes its own report to a String
// parameter only its role may write, and the gates read them (components/pki/ca-rotation-reports.ts). The report
// holds fingerprints of public certificates and unit names, nothing secret. One plan per node decides both what
// the script looks at and what the gate expects to find in its report.
import { flags } from "../../components/backup";
import { kubeadmLayout, pkiPair, urlHostPort } from "../../components/common";
import { CA_SPECS, CaName } from "../../components/pki/certlist";
import type { NodeReportExpectation } from "../../components/pki/ca-rotation-reports";
import { fileEnding, type NodeSoftware } from "./node-software";
import { PENDING_RESTARTS, REPORTS_SCOPE, shellWord } from "./secrets";

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

export interface NodeReportPlan {
    node: string;
    trust: { domain: CaName; path: string }[];
    served: ReportEndpoint[];
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

/** What the gate requires of the node's report: the same files and endpoints the script looks at. */
export function reportExpectation(p: NodeReportPlan): NodeReportExpectation {
    const by = <T extends { domain: CaName }>(xs: T[], f: (x: T) => string) =>
        Object.fromEntries(CA_SPECS.map((c) => [c.name, xs.filter((x) => x.domain === c.name).map(f)])) as Record<CaName, string[]>;
    return { node: p.node, trust: by(p.trust, (t) => t.path), served: by(p.served, (s) => s.name) };
}

const word = (s: string) => shellWord(s, "the report script");

/**
 * The script the sync service runs after every sync, whether it succeeded or not (ExecStopPost): it puts the
 * node's report when it differs from the last one put. It verifies each served leaf with openssl against each
 * certificate of the trust file alone, so the report names the CA that signed it, not just that one did.
 */
export function renderReportScript(region: string, parameter: string, p: NodeReportPlan): string {
    const trustLines = p.trust.map((t) => `trust ${word(t.path)}`);
    const servedLines = p.served.map((e) => ["served", word(e.name), word(e.host), String(e.port), word(e.trustFile),
        ...(e.clientPair ? [word(e.clientPair.cert), word(e.clientPair.key)] : [])].join(" "));
    return `#!/bin/bash
# Reports what this node (${word(p.node)}) holds and serves to ${word(parameter)}, for the CA rotation's gates.
set -euo pipefail
umask 077
work=$(mktemp -d)
trap 'rm -rf -- "$work"' EXIT
n=0
# split_certs FILE DIR: each certificate of FILE as DIR/<n>.pem.
split_certs() {
  mkdir -p -- "$2"
  awk -v d="$2" '/-----BEGIN CERTIFICATE-----/ { f = d "/" ++c ".pem" } f { print > f } /-----END CERTIFICATE-----/ { close(f); f = "" }' "$1"
}
fingerprint() { openssl x509 -noout -fingerprint -sha256 -in "$1" | sed 's/^[^=]*=//'; }
trust_json=
# trust FILE: the fingerprint of every certificate it holds (none when it is missing).
trust() {
  local d=$work/t$((++n)) f list=
  [ -f "$1" ] && split_certs "$1" "$d"
  for f in "$d"/*.pem; do [ -e "$f" ] && list+="\${list:+,}\\"$(fingerprint "$f")\\""; done
  trust_json+="\${trust_json:+,}\\"$1\\":[$list]"
}
served_json=
# served NAME HOST PORT TRUST_FILE [CERT KEY]: the fingerprint of TRUST_FILE's certificate that verifies the leaf served.
served() {
  local d=$work/s$((++n)) f result='{"error":"presents no certificate"}'
  mkdir -p -- "$d"
  # A bounded wait: a unit that hangs in its handshake must not hold the sync's service.
  if { timeout 10 openssl s_client -connect "$2:$3" \${5:+-cert "$5" -key "$6"} </dev/null 2>/dev/null || true; } | openssl x509 -out "$d/leaf.pem" 2>/dev/null; then
    result='{"error":"serves a leaf no certificate of its trust file verifies"}'
    [ -f "$4" ] && split_certs "$4" "$d/ca"
    for f in "$d"/ca/*.pem; do
      if [ -e "$f" ] && openssl verify -no_check_time -partial_chain -CAfile "$f" "$d/leaf.pem" >/dev/null 2>&1; then
        result="{\\"ca\\":\\"$(fingerprint "$f")\\"}"
        break
      fi
    done
  fi
  served_json+="\${served_json:+,}\\"$1\\":$result"
}
${[...trustLines, ...servedLines].join("\n")}
pending=
if [ -f ${PENDING_RESTARTS} ]; then
  for u in $(cat -- ${PENDING_RESTARTS}); do [[ "$u" =~ ^[A-Za-z0-9_.@-]+$ ]] && pending+="\${pending:+,}\\"$u\\""; done
fi
report="{\\"node\\":\\"${p.node}\\",\\"trust\\":{$trust_json},\\"served\\":{$served_json},\\"pending\\":[$pending]}"
(( \${#report} <= ${REPORT_LIMIT} )) || { echo "hardened-cluster-report: the report is \${#report} bytes, over SSM's ${REPORT_LIMIT}" >&2; exit 1; }
last=${LAST_REPORT}
if [ -f "$last" ] && [ ! -L "$last" ] && [ "$(cat -- "$last")" = "$report" ]; then
  echo "hardened-cluster-report: unchanged since the last report"
  exit 0
fi
aws ssm put-parameter --region ${word(region)} --name ${word(parameter)} --type String --overwrite --value "$report" >/dev/null
# Kept only where root alone may write, as the sync keeps its versions.
dir=$(dirname -- "$last")
if [ -d "$dir" ] && [ ! -L "$dir" ] && [ "$(stat -c %u -- "$dir")" = 0 ] && (( (8#$(stat -c %a -- "$dir") & 8#022) == 0 )); then
  printf '%s' "$report" > "$last.new"
  mv -f -- "$last.new" "$last"
fi
echo "hardened-cluster-report: reported to ${parameter}"
`;
}
