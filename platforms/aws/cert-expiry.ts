// Certificate expiry, watched from the nodes: a timer on each control-plane node publishes the days left on the
// earliest-expiring certificate it holds as a CloudWatch metric, and an alarm fires 30 days ahead. Renewal is a
// `pulumi up` inside the early-renewal window (README: Certificate renewal); the alarm is what says nobody ran one.
// Each value goes out twice: without dimensions (the alarm's metric, whose Minimum is the earliest over every
// node) and with the node's name (to find which one).
import { CONFINED_SERVICE, execLine, type UnitFile } from "./systemd";

export const CERT_EXPIRY_UNIT = "hardened-cluster-cert-expiry";
export const CERT_EXPIRY_SCRIPT = "/usr/local/libexec/hardened-cluster/cert-expiry";
export const CERT_EXPIRY_METRIC = "CertificateDaysLeft";
/** Alarm when the earliest certificate has fewer days left than this. */
export const CERT_EXPIRY_ALARM_DAYS = 30;
/** How often each node publishes. */
export const CERT_EXPIRY_INTERVAL_SECONDS = 900;
/** The alarm's period: several publishes of every node fall in it, so only a node silent for an hour leaves it empty. */
export const CERT_EXPIRY_ALARM_PERIOD_SECONDS = 3600;

const PATH = /^\/[A-Za-z0-9._/-]+$/;

export interface CertExpiryInput {
    region: string;
    namespace: string;
    node: string;
    /** Every certificate file the node holds (trust bundles included: each certificate in them counts). */
    certFiles: string[];
}

/**
 * The script the timer runs. It fails, publishing nothing, when a file is missing or holds no certificate:
 * a gap in the metric then reaches the alarm (missing data counts as breaching) instead of a partial minimum.
 */
export function certExpiryScript(i: CertExpiryInput): string {
    if (i.certFiles.length === 0) throw new Error("certExpiryScript: no certificate files");
    for (const f of i.certFiles) if (!PATH.test(f)) throw new Error(`certExpiryScript: not a plain absolute path: ${JSON.stringify(f)}`);
    for (const v of [i.region, i.namespace, i.node]) if (!/^[A-Za-z0-9/._-]+$/.test(v)) throw new Error(`certExpiryScript: unexpected characters in ${JSON.stringify(v)}`);
    return `#!/bin/bash
# Publishes the days left on the earliest-expiring certificate of this node (${i.node}) to CloudWatch.
set -euo pipefail
now=$(date -u +%s)
earliest=
earliest_file=
for f in ${i.certFiles.join(" ")}; do
  [ -r "$f" ] || { echo "cert-expiry: cannot read $f" >&2; exit 1; }
  ends=$(openssl crl2pkcs7 -nocrl -certfile "$f" | openssl pkcs7 -print_certs -noout -text | sed -n 's/^ *Not After *: *//p')
  [ -n "$ends" ] || { echo "cert-expiry: no certificate in $f" >&2; exit 1; }
  while IFS= read -r end; do
    t=$(date -u -d "$end" +%s)
    if [ -z "$earliest" ] || [ "$t" -lt "$earliest" ]; then earliest=$t; earliest_file=$f; fi
  done <<< "$ends"
done
days=$(awk -v s=$((earliest - now)) 'BEGIN { printf "%.3f", s / 86400 }')
echo "cert-expiry: earliest notAfter in $earliest_file, $days days left"
aws cloudwatch put-metric-data --region ${i.region} --namespace ${i.namespace} --metric-data \\
  "[{\\"MetricName\\":\\"${CERT_EXPIRY_METRIC}\\",\\"Value\\":$days,\\"Unit\\":\\"None\\"},{\\"MetricName\\":\\"${CERT_EXPIRY_METRIC}\\",\\"Dimensions\\":[{\\"Name\\":\\"Node\\",\\"Value\\":\\"${i.node}\\"}],\\"Value\\":$days,\\"Unit\\":\\"None\\"}]"
`;
}

/**
 * The oneshot service the timer starts: read-only everywhere, no capabilities. `requires`: units that must have
 * started first (the secrets fetch): without them there is nothing to read.
 */
export function certExpiryService(requires: readonly string[]): UnitFile {
    return {
        Unit: {
            Description: "Publish the days left on this node's earliest-expiring certificate",
            Wants: ["network-online.target"], Requires: [...requires], After: ["network-online.target", ...requires],
        },
        Service: {
            Type: "oneshot",
            ExecStart: execLine([CERT_EXPIRY_SCRIPT]),
            ...CONFINED_SERVICE,
        },
    };
}

export function certExpiryTimer(): UnitFile {
    return {
        Unit: { Description: "Publish certificate expiry every 15 minutes" },
        Timer: { OnBootSec: "5min", OnUnitActiveSec: `${CERT_EXPIRY_INTERVAL_SECONDS}s`, RandomizedDelaySec: "60s" },
        Install: { WantedBy: "timers.target" },
    };
}
