// etcd backups on AWS, as data: the script each control-plane node's timer runs, its units, the bucket's and the
// node's policies and the alarm's terms. Every node runs the timer and only the member that leads etcd at that
// moment uploads, so backups go on while any quorum does, and the bucket receives one bundle per interval.
// The bundle is components/backup's S3 form (S3_BUNDLE_FORMAT); backup-store.ts creates the bucket.
import { BackupOptions, resolveBackup, ResolvedBackup, S3_BUNDLE_FILES, S3_BUNDLE_FORMAT } from "../../components/backup";
import { fail, key } from "../../components/common";
import type { ArnContext, PolicyDocument, Statement } from "./iam";
import { CONFINED_SERVICE, execLine, type UnitFile } from "./systemd";

export const BACKUP_UNIT = "hardened-cluster-etcd-backup";
export const BACKUP_SCRIPT = "/usr/local/libexec/hardened-cluster/etcd-backup";
/** Published once per uploaded bundle; the alarm sums it. */
export const BACKUP_METRIC = "EtcdBackups";
export const BACKUP_BYTES_METRIC = "EtcdBackupBytes";
/** kOps' etcd-manager backs up every 15 minutes. */
export const AWS_BACKUP_INTERVAL_MINUTES = 15;
/** Intervals without an uploaded bundle before the alarm fires. */
export const BACKUP_ALARM_INTERVALS = 2;
/** Versions a prune (or anyone with the node's role) removed stay recoverable this long. */
export const NONCURRENT_VERSION_DAYS = 7;

/** `hardened-cluster:backup` on AWS: bundles go to the stack's bucket, every 15 minutes unless set. */
export function resolveAwsBackup(options: BackupOptions | undefined, configKey: string): ResolvedBackup & { intervalMinutes: number } {
    const r = resolveBackup(options, configKey);
    if (r.directory !== undefined) {
        fail(key(configKey, "directory"), r.directory, "the AWS platform writes bundles to the stack's S3 bucket (output backupBucket); remove it");
    }
    return { ...r, intervalMinutes: r.intervalMinutes ?? AWS_BACKUP_INTERVAL_MINUTES };
}

/** Object keys of a cluster's bundles start with this (no slash at either end). */
export function backupPrefix(clusterName: string): string {
    return `${clusterName}/etcd`;
}

export interface BackupScriptInput {
    stack: string;
    clusterName: string;
    node: string;
    region: string;
    bucket: string;
    prefix: string;
    keyArn: string;
    namespace: string;
    retention: number;
    etcdctl: string;
    etcdutl: string;
    /** This node's own member, so the leader check asks the member on this node. */
    endpoint: string;
    /** The etcd client pair and its CA (the health-check client's on the nodes). */
    caFile: string;
    certFile: string;
    keyFile: string;
    /** CA name to certificate file, recorded by fingerprint. */
    caFiles: Record<string, string>;
}

const PLAIN = /^[A-Za-z0-9._/:@+=,-]+$/;

function check(i: BackupScriptInput): void {
    const values: Record<string, string> = {
        stack: i.stack, clusterName: i.clusterName, node: i.node, region: i.region, bucket: i.bucket, prefix: i.prefix, keyArn: i.keyArn,
        namespace: i.namespace, etcdctl: i.etcdctl, etcdutl: i.etcdutl, endpoint: i.endpoint, caFile: i.caFile, certFile: i.certFile, keyFile: i.keyFile,
        ...Object.fromEntries(Object.entries(i.caFiles).map(([n, f]) => [`caFiles.${n}`, f])),
        ...Object.fromEntries(Object.keys(i.caFiles).map((n) => [`caFiles name ${n}`, n])),
    };
    for (const [name, v] of Object.entries(values)) {
        if (typeof v !== "string" || !PLAIN.test(v)) throw new Error(`etcdBackupScript: ${name} has characters a shell word cannot carry plainly: ${JSON.stringify(v)}`);
    }
    if (!S3_BUCKET_NAME.test(i.bucket)) throw new Error(`etcdBackupScript: not an S3 bucket name: ${JSON.stringify(i.bucket)}`);
    if (i.prefix.startsWith("/") || i.prefix.endsWith("/")) throw new Error(`etcdBackupScript: the prefix takes no slash at either end: ${JSON.stringify(i.prefix)}`);
    if (!Number.isInteger(i.retention) || i.retention < 1) throw new Error(`etcdBackupScript: retention must be a whole number from 1: ${i.retention}`);
    if (Object.keys(i.caFiles).length === 0) throw new Error("etcdBackupScript: no CA files");
}

/**
 * The script the timer runs. It exits 0 without uploading when its member does not lead; any failure exits
 * non-zero before the manifest is uploaded and before the metric is published, so the alarm sees the gap.
 */
export function etcdBackupScript(i: BackupScriptInput): string {
    check(i);
    const cas = Object.entries(i.caFiles);
    const [snapshot, status, keys, casFile] = S3_BUNDLE_FILES;
    return `#!/bin/bash
# Backs up etcd to s3://${i.bucket}/${i.prefix}/ when the member on this node (${i.node}) leads the cluster.
set -euo pipefail
umask 077
etcdctl=(${i.etcdctl} --endpoints=${i.endpoint} --cacert=${i.caFile} --cert=${i.certFile} --key=${i.keyFile} --dial-timeout=10s --command-timeout=60s)
fail() { echo "etcd-backup: $*" >&2; exit 1; }

fields=$("\${etcdctl[@]}" --command-timeout=15s endpoint status -w fields) || fail "the local etcd member at ${i.endpoint} does not answer"
field() { sed -n "s/^\\"$1\\" : //p" <<< "$fields" | head -n 1; }
member=$(field MemberID)
leader=$(field Leader)
version=$(field Version | tr -d '"')
[ -n "$member" ] && [ -n "$version" ] || fail "endpoint status gave no member id or version"
if [ "$member" != "$leader" ]; then
  echo "etcd-backup: member $member does not lead (leader $leader); the leader's node uploads"
  exit 0
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
created=$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ)
# Names sort by time: 20261203T115100.123Z-cp-0.
bundle="$(tr -d ':-' <<< "$created")-${i.node}"
"\${etcdctl[@]}" snapshot save "$work/${snapshot}" > "$work/save.log" 2>&1 || fail "snapshot save failed: $(tail -n 2 "$work/save.log")"
${i.etcdutl} snapshot status "$work/${snapshot}" -w json > "$work/${status}" 2> /dev/null || fail "snapshot status failed: the snapshot is unreadable"
# The header the apiserver puts before each value it encrypts names the key. keys.json counts the current
# values, read just after the snapshot (as the local platform does); the manifest's list also takes every name
# found anywhere in the snapshot file, stale pages included, so it never leaves out a key the snapshot holds.
header='k8s:enc:[a-z0-9]+:v[0-9]+:[A-Za-z0-9._-]{1,200}:'
ref() { sed -E 's/^k8s:enc:([a-z0-9]+):v[0-9]+:([^:]+):$/\\1:\\2/'; }
{ "\${etcdctl[@]}" get /registry/ --prefix --print-value-only || fail "reading the current values failed"; } \\
  | { grep -aoE "^$header" || true; } | ref | sort | uniq -c \\
  | awk 'BEGIN { printf "{" } { printf "%s\\"%s\\":%d", (NR > 1 ? "," : ""), $2, $1 } END { printf "}" }' > "$work/${keys}"
names=$({ sed -E 's/"([^"]+)":[0-9]+/\\1\\n/g; s/[{},]//g' "$work/${keys}"; { grep -aoE "$header" "$work/${snapshot}" || true; } | ref; } \\
  | { grep . || true; } | sort -u | awk 'BEGIN { printf "[" } { printf "%s\\"%s\\"", (NR > 1 ? "," : ""), $0 } END { printf "]" }')
fp() { openssl x509 -in "$1" -noout -fingerprint -sha256 | sed 's/^[^=]*=//'; }
# Assignments, not arguments: a failing command substitution stops the script only here.
${cas.map(([, f], n) => `ca_${n}=$(fp ${f})`).join("\n")}
printf '{${cas.map(([n]) => `"${n}":"%s"`).join(",")}}' ${cas.map((_, n) => `"$ca_${n}"`).join(" ")} > "$work/${casFile}"
sum() { sha256sum "$work/$1" | cut -d' ' -f1; }
${S3_BUNDLE_FILES.map((f, n) => `sum_${n}=$(sum ${f})`).join("\n")}
printf '{"format":"${S3_BUNDLE_FORMAT}","stack":"${i.stack}","cluster":"${i.clusterName}","node":"${i.node}","member":"%s","createdAt":"%s","etcdVersion":"%s","files":{${S3_BUNDLE_FILES.map((f) => `"${f}":"%s"`).join(",")}},"snapshotSha256":"%s","encryptionKeys":%s}\\n' \\
  "$member" "$created" "$version" ${S3_BUNDLE_FILES.map((_, n) => `"$sum_${n}"`).join(" ")} "$sum_0" "$names" > "$work/manifest.json"

put() { aws s3 cp --only-show-errors --region ${i.region} --sse aws:kms --sse-kms-key-id ${i.keyArn} "$work/$1" "s3://${i.bucket}/${i.prefix}/$bundle/$1" || fail "upload of $1 failed"; }
${[...S3_BUNDLE_FILES, "manifest.json"].map((f) => `put ${f}`).join("\n")}
bytes=$(stat -c %s "$work/${snapshot}")
echo "etcd-backup: s3://${i.bucket}/${i.prefix}/$bundle (revision $(sed -nE 's/.*"revision":([0-9]+).*/\\1/p' "$work/${status}"), $bytes bytes)"

# Keep the newest ${i.retention} finished bundles; anything older goes, unfinished ones too. The bucket keeps
# removed versions for a while (its lifecycle), so a prune here is not the last copy.
finished=$(aws s3api list-objects-v2 --region ${i.region} --bucket ${i.bucket} --prefix "${i.prefix}/" --query 'Contents[].Key' --output text \\
  | tr '\\t' '\\n' | sed -n 's#^${i.prefix.replace(/\./g, "\\.")}/\\([^/]*\\)/manifest\\.json$#\\1#p' | sort)
count=$(grep -c . <<< "$finished" || true)
if [ "$count" -gt ${i.retention} ]; then
  oldest_kept=$(tail -n ${i.retention} <<< "$finished" | head -n 1)
  for b in $(aws s3api list-objects-v2 --region ${i.region} --bucket ${i.bucket} --prefix "${i.prefix}/" --delimiter / --query 'CommonPrefixes[].Prefix' --output text | tr '\\t' '\\n' | sed -n 's#^${i.prefix.replace(/\./g, "\\.")}/\\([^/]*\\)/$#\\1#p'); do
    if [[ "$b" < "$oldest_kept" ]]; then
      aws s3 rm --only-show-errors --region ${i.region} --recursive "s3://${i.bucket}/${i.prefix}/$b/" || fail "pruning $b failed"
      echo "etcd-backup: pruned $b"
    fi
  done
fi

aws cloudwatch put-metric-data --region ${i.region} --namespace ${i.namespace} --metric-data \\
  "[{\\"MetricName\\":\\"${BACKUP_METRIC}\\",\\"Value\\":1,\\"Unit\\":\\"Count\\"},{\\"MetricName\\":\\"${BACKUP_BYTES_METRIC}\\",\\"Value\\":$bytes,\\"Unit\\":\\"Bytes\\"}]" \\
  || fail "the bundle landed but the metric did not"
`;
}

/**
 * The oneshot service: read-only but for its private /tmp, no capabilities. `requires`: units that must have
 * started first (the secrets fetch, for the etcd client key).
 */
export function etcdBackupService(requires: readonly string[]): UnitFile {
    return {
        Unit: {
            Description: "Back up etcd to S3 when this node's member leads",
            Wants: ["network-online.target"], Requires: [...requires], After: ["network-online.target", "etcd.service", ...requires],
        },
        Service: { Type: "oneshot", ExecStart: execLine([BACKUP_SCRIPT]), ...CONFINED_SERVICE },
    };
}

export function etcdBackupTimer(intervalMinutes: number): UnitFile {
    return {
        Unit: { Description: `Back up etcd every ${intervalMinutes} minutes` },
        // No randomised delay: every node fires at about the same time and only the leader's run uploads.
        Timer: { OnBootSec: `${intervalMinutes}min`, OnUnitActiveSec: `${intervalMinutes}min`, AccuracySec: "10s" },
        Install: { WantedBy: "timers.target" },
    };
}

/** S3's bucket naming rule (3 to 63 lower-case letters, digits, dots and hyphens), for names put into scripts. */
export const S3_BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

export const s3Arn = (ctx: ArnContext, rest: string) => `arn:${ctx.partition}:s3:::${rest}`;

/** The ARN pattern of every object under the prefix: what the node policy and the cluster key's policy both name. */
export function backupObjectArns(ctx: ArnContext, bucket: string, prefix: string): string {
    return s3Arn(ctx, `${bucket}/${prefix}/*`);
}

/** What a control-plane node may do with backups: write, list and prune under the cluster's prefix, nothing else. */
export function backupNodeStatements(ctx: ArnContext, bucket: string, prefix: string, clusterKeyArn: string): Statement[] {
    return [
        {
            Sid: "WriteBackups",
            Effect: "Allow",
            Action: ["s3:PutObject", "s3:DeleteObject"],
            Resource: backupObjectArns(ctx, bucket, prefix),
        },
        {
            Sid: "ListBackups",
            Effect: "Allow",
            Action: ["s3:ListBucket"],
            Resource: s3Arn(ctx, bucket),
            Condition: { StringLike: { "s3:prefix": [`${prefix}/`, `${prefix}/*`] } },
        },
        {
            // S3 asks KMS for each object's data key with the object's ARN as context (no bucket key): only this prefix.
            Sid: "EncryptBackups",
            Effect: "Allow",
            Action: ["kms:GenerateDataKey", "kms:Decrypt"],
            Resource: clusterKeyArn,
            Condition: {
                StringEquals: { "kms:ViaService": `s3.${ctx.region}.${ctx.dnsSuffix}` },
                StringLike: { "kms:EncryptionContext:aws:s3:arn": backupObjectArns(ctx, bucket, prefix) },
            },
        },
    ];
}

/** The bucket refuses plain HTTP and any object not encrypted by the cluster key, whoever writes it. */
export function backupBucketPolicy(ctx: ArnContext, bucket: string, clusterKeyArn: string): PolicyDocument {
    const all = [s3Arn(ctx, bucket), s3Arn(ctx, `${bucket}/*`)];
    return {
        Version: "2012-10-17",
        Statement: [
            { Sid: "TlsOnly", Effect: "Deny", Principal: { AWS: "*" }, Action: "s3:*", Resource: all, Condition: { Bool: { "aws:SecureTransport": "false" } } },
            {
                Sid: "ClusterKeyOnly",
                Effect: "Deny",
                Principal: { AWS: "*" },
                Action: "s3:PutObject",
                Resource: s3Arn(ctx, `${bucket}/*`),
                Condition: { StringNotEqualsIfExists: { "s3:x-amz-server-side-encryption-aws-kms-key-id": clusterKeyArn } },
            },
            {
                Sid: "KmsOnly",
                Effect: "Deny",
                Principal: { AWS: "*" },
                Action: "s3:PutObject",
                Resource: s3Arn(ctx, `${bucket}/*`),
                // IfExists: multipart parts carry no encryption header; the bucket's default (the cluster key) covers them.
                Condition: { StringNotEqualsIfExists: { "s3:x-amz-server-side-encryption": "aws:kms" } },
            },
        ],
    };
}

/** The alarm's period and how many empty ones fire it: no bundle landed for BACKUP_ALARM_INTERVALS intervals. */
export function backupAlarmTerms(intervalMinutes: number): { period: number; evaluationPeriods: number } {
    return { period: intervalMinutes * 60, evaluationPeriods: BACKUP_ALARM_INTERVALS };
}
