// Secret files (PKI keys, kubeconfigs, the EncryptionConfiguration, the worker join kubeconfig) never go into
// user data, which anyone with ec2:DescribeInstanceAttribute can read. They are SSM SecureString parameters
// encrypted with the cluster key, under a path per node, and a boot unit fetches them with the node's own
// role, which may read only its own prefixes (iam.ts); the key's encryption context repeats that fence.
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { fail, key } from "../../components/common";
import { binaryFetchLines, FetchedBinaries } from "./binaries";

/** Cluster-wide secrets every control-plane node may read (service-account key, CA keys, the encryption config). */
export const CONTROL_PLANE_SCOPE = "control-plane";
/** Secrets every worker may read (only the join kubeconfig). */
export const WORKERS_SCOPE = "workers";
/** Each control-plane node's report for the CA rotation's gates (report.ts): /<cluster>/reports/<node>, a String. */
export const REPORTS_SCOPE = "reports";
const RESERVED = [CONTROL_PLANE_SCOPE, WORKERS_SCOPE, REPORTS_SCOPE];

export type SecretScope = { node: string } | typeof CONTROL_PLANE_SCOPE | typeof WORKERS_SCOPE;

export interface SecretSpec {
    /** Names the file within its scope, e.g. "etcd-peer.key"; becomes the last path segment. */
    fileId: string;
    scope: SecretScope;
}

export interface PlannedParameter {
    fileId: string;
    scope: SecretScope;
    /** SSM parameter name: /<cluster>/<node-name|control-plane|workers>/<file-id>. */
    name: string;
    /** Node names (or "workers") whose role may read it. */
    readers: string[];
}

const FILE_ID = /^[a-z0-9][a-z0-9._-]{0,62}$/;

export function scopeSegment(scope: SecretScope): string {
    return typeof scope === "string" ? scope : scope.node;
}

export function parameterName(clusterName: string, scope: SecretScope, fileId: string): string {
    return `/${clusterName}/${scopeSegment(scope)}/${fileId}`;
}

/** Path prefixes (no trailing slash) a control-plane node's role may read. */
export function controlPlaneReadPrefixes(clusterName: string, node: string): string[] {
    return [`/${clusterName}/${node}`, `/${clusterName}/${CONTROL_PLANE_SCOPE}`];
}

export function workerReadPrefixes(clusterName: string): string[] {
    return [`/${clusterName}/${WORKERS_SCOPE}`];
}

/**
 * Maps secret files to SSM parameters and says who may read each. Pure, so the PKI wiring can name the
 * parameters (and the files that reference them) before anything exists.
 */
export function secretParameters(clusterName: string, nodeNames: readonly string[], specs: readonly SecretSpec[], configKey = "aws"): PlannedParameter[] {
    const seen = new Map<string, number>();
    return specs.map((s, i) => {
        const k = key(configKey, "secrets", i);
        if (typeof s.fileId !== "string" || !FILE_ID.test(s.fileId)) {
            fail(key(k, "fileId"), s.fileId, "use lower-case letters, digits, '.', '_' or '-', starting with a letter or digit (at most 63)");
        }
        let readers: string[];
        if (s.scope === CONTROL_PLANE_SCOPE) readers = [...nodeNames];
        else if (s.scope === WORKERS_SCOPE) readers = [WORKERS_SCOPE];
        else if (s.scope && typeof s.scope === "object" && nodeNames.includes(s.scope.node)) readers = [s.scope.node];
        else fail(key(k, "scope"), s.scope, `use "${CONTROL_PLANE_SCOPE}", "${WORKERS_SCOPE}" or { node } with one of: ${nodeNames.join(", ")}`);
        const name = parameterName(clusterName, s.scope, s.fileId);
        if (seen.has(name)) fail(key(k, "fileId"), s.fileId, `${name} is already planned by ${key(configKey, "secrets", seen.get(name)!)}`);
        seen.set(name, i);
        return { fileId: s.fileId, scope: s.scope, name, readers };
    });
}

/** The spec behind a parameter name the caller supplies, so its value lands where secretParameters() said. */
export function specFromName(clusterName: string, nodeNames: readonly string[], name: unknown, k: string): SecretSpec {
    const m = typeof name === "string" ? /^\/([^/]+)\/([^/]+)\/([^/]+)$/.exec(name) : null;
    const scopes = [CONTROL_PLANE_SCOPE, WORKERS_SCOPE, ...nodeNames];
    if (!m || m[1] !== clusterName || !scopes.includes(m[2])) {
        fail(k, name, `use /${clusterName}/<${scopes.join("|")}>/<file-id>, as planned by secretParameters()`);
    }
    const scope: SecretScope = m[2] === CONTROL_PLANE_SCOPE || m[2] === WORKERS_SCOPE ? m[2] : { node: m[2] };
    return { fileId: m[3], scope };
}

/** Whether a node with these read prefixes may fetch the parameter (the check IAM will make, done early). */
export function mayRead(prefixes: readonly string[], name: string): boolean {
    return prefixes.some((p) => name.startsWith(`${p}/`));
}

/** Node names are RFC 1123 labels that must not shadow the shared scopes. */
export function checkNodeName(k: string, name: string): void {
    if (RESERVED.includes(name)) fail(k, name, `"${name}" is a shared parameter path, not a node name`);
}

export interface FetchedFile {
    path: string;
    parameter: string;
    mode: number;
    owner?: string;
    /** A certificate or trust bundle: fetched like a secret so a new version reaches a running node, but may be 0644. */
    public?: boolean;
    /** Units restarted when a sync replaces the file (its readers that do not reload it themselves). */
    restarts?: string[];
}

const SAFE_WORD = /^[A-Za-z0-9_./:@-]+$/;

/** A word a node's script takes as it is (no quoting needed), or a refusal naming the script. */
export function shellWord(s: string, script = "the boot script"): string {
    if (!SAFE_WORD.test(s)) throw new Error(`refusing ${JSON.stringify(s)} in ${script}`);
    return s;
}

export const FETCH_SCRIPT_PATH = "/usr/local/sbin/hardened-cluster-fetch";
export const FETCH_UNIT = "hardened-cluster-fetch.service";
/** The script's argument for a running node: replace only what changed and restart only its readers. */
export const SYNC_ARG = "--sync";
/** The version of each parameter the last fetch put in place: a sync with nothing newer stops after listing them. */
export const FETCHED_VERSIONS = "/var/lib/hardened-cluster/fetched-versions";
/** Units a sync replaced files for and could not restart yet: the next sync restarts them first. */
export const PENDING_RESTARTS = "/var/lib/hardened-cluster/pending-restarts";
/** SSM GetParameters takes at most ten names per call. */
const NAMES_PER_CALL = 10;

/** The most a fetched file may allow: owner read/write and group read; any other bit is refused. */
export const MAX_SECRET_MODE = 0o640;
/** The most a fetched public file (a certificate) may allow: readable by everyone, writable by its owner only. */
export const MAX_PUBLIC_MODE = 0o644;
const UNIT_NAME = /^[A-Za-z0-9][A-Za-z0-9_.@-]*$/;

function maxMode(f: Pick<FetchedFile, "public">): number {
    return f.public ? MAX_PUBLIC_MODE : MAX_SECRET_MODE;
}

/**
 * The boot script: names, paths and digests only, never values. It runs on every boot (not once, as
 * cloud-init's runcmd would), and with --sync from the sync timer on a running node, where it replaces only the
 * files whose content, mode or owner changed and then restarts the units that read them (`restartOrder` is the
 * order, the node's unit order: etcd before the apiserver). It replaces all of the node's
 * binaries and secret files or none: each binary must have the digest the stack published, each parameter must
 * be a SecureString under the cluster key (a parameter someone re-created under a key they hold would otherwise
 * hand them the node's secrets' next version), every target directory must be writable by root alone (chown
 * follows a planted link), and everything is staged beside its target before the first rename, so a failure
 * leaves the previous files and the units that require this one never start.
 */
export function renderFetchScript(region: string, keyArn: string, files: readonly FetchedFile[], binaries?: FetchedBinaries, restartOrder: readonly string[] = []): string {
    for (const f of files) {
        if ((f.mode & ~maxMode(f)) !== 0) {
            throw new Error(`secrets: ${f.path} would be mode 0${f.mode.toString(8)}; a ${f.public ? "public file may be 0644" : "secret file may be 0600 or 0640"} at most`);
        }
        const unknown = (f.restarts ?? []).filter((u) => !restartOrder.includes(u));
        if (unknown.length > 0) throw new Error(`secrets: ${f.path} names units the node does not run: ${unknown.join(", ")}`);
    }
    for (const u of restartOrder) if (!UNIT_NAME.test(u)) throw new Error(`secrets: refusing unit name ${JSON.stringify(u)} in the boot script`);
    const head = `#!/bin/bash
# Fetches this node's binaries from S3 and its secret files from SSM Parameter Store with the instance role:
# all of them, or none.
set -euo pipefail
umask 077
case "\${1:-}" in
  "") sync= ;;
  ${SYNC_ARG}) sync=1 ;;
  *) echo "hardened-cluster-fetch: unknown argument $1 (none at boot, ${SYNC_ARG} on a running node)" >&2; exit 2 ;;
esac
region=${shellWord(region)}
key_arn=${shellWord(keyArn)}
versions_file=${FETCHED_VERSIONS}
pending_file=${PENDING_RESTARTS}
staged=()
targets=()
declare -A restart_of=()
declare -A version_of=()
trap 'rm -f -- "\${staged[@]}"' EXIT
stop() {
  if [ -n "$sync" ]; then echo "hardened-cluster-fetch: $*; no file was replaced and nothing restarted" >&2
  else echo "hardened-cluster-fetch: $*; no file was replaced and nothing that needs them will start" >&2; fi
  exit 1
}
# root_only DIR: DIR and each directory above it belong to root and no one else may write them.
root_only() {
  local d uid perm
  d=$(realpath -e -- "$1")
  while :; do
    read -r uid perm < <(stat -c '%u %a' -- "$d")
    [ "$uid" = 0 ] && (( (8#$perm & 8#022) == 0 )) || stop "$d is owned by uid $uid with mode $perm; the directories of what this fetches must be root's alone"
    [ "$d" = / ] && return 0
    d=$(dirname -- "$d")
  done
}
# stage NAME PATH MODE OWNER KIND RESTARTS: the parameter's current version, checked, in a file beside PATH. KIND is
# secret or public (a certificate, which may be 0644); RESTARTS the units a sync restarts when it changes (- for none).
stage() {
  local name=$1 path=$2 mode=$3 owner=$4 kind=$5 restarts=$6 max=${MAX_SECRET_MODE.toString(8)} allowed="0600 or 0640" meta err version type key tmp
  [ "$kind" = public ] && max=${MAX_PUBLIC_MODE.toString(8)} allowed=0644
  (( (8#$mode & ~8#$max) == 0 )) || stop "$path would be mode $mode; a $kind file may be $allowed at most"
  # Missing directories are made 0755 (etcd reaches its keys through them); existing ones are checked, never changed.
  (umask 022; mkdir -p -- "$(dirname -- "$path")")
  root_only "$(dirname -- "$path")"
  if in_place "$name" "$path" "$mode" "$owner"; then
    version_of[$name]=\${recorded[$name]}
    return 0
  fi
  # The history (values left encrypted) names each version's type and key; the value is then read at that version.
  meta=$(aws ssm get-parameter-history --region "$region" --name "$name" --output json \\
    --query "Parameters[-1].join(' ', [to_string(Version), Type, KeyId || 'none'])" 2>&1) || stop "cannot read $name: \${meta//$'\\n'/ }"
  read -r version type key <<<"\${meta//\\"/}"
  version_of[$name]=$version
  [ "$type" = SecureString ] || stop "$name is a $type parameter, not a SecureString"
  [ "$key" = "$key_arn" ] || [ "$key" = "\${key_arn##*/}" ] || stop "$name is encrypted with $key, not the cluster key $key_arn"
  tmp=$(mktemp -- "$(dirname -- "$path")/.fetch.XXXXXX")
  staged+=("$tmp")
  targets+=("$path")
  restart_of[$path]=$restarts
  err=$(aws ssm get-parameter --region "$region" --with-decryption --name "$name:$version" --query Parameter.Value --output text 2>&1 >"$tmp") || stop "cannot read $name version $version: \${err//$'\\n'/ }"
  chown -- "$owner" "$tmp"
  chmod -- "$mode" "$tmp"
}
`;
    const stageLine = (f: FetchedFile) => ["stage", shellWord(f.parameter), shellWord(f.path), f.mode.toString(8).padStart(4, "0"), shellWord(f.owner ?? "root"),
        f.public ? "public" : "secret", (f.restarts ?? []).length > 0 ? f.restarts!.join(",") : "-"].join(" ");
    const names = files.map((f) => shellWord(f.parameter));
    const lines = [
        ...head.split("\n").slice(0, -1),
        ...FILE_OK.split("\n"),
        "# The node's parameters: one line each, staged after the binaries.",
        "stages() {",
        "  :",
        ...files.map(stageLine),
        "}",
        ...SYNC_HEAD.replace("@NAMES@", names.join(" ")).split("\n"),
        ...(binaries ? binaryFetchLines(binaries.bucket, binaries.files) : []),
        "stages",
        ...SYNC_TAIL.replace("@ORDER@", restartOrder.join(" ")).split("\n"),
        `echo "hardened-cluster-fetch: ${files.length} files and $(( \${#targets[@]} - ${files.length} )) of ${binaries?.files.length ?? 0} binaries in place (the other binaries were current)"`,
        "",
    ];
    return lines.join("\n");
}

// A sync first lists the current version of every parameter (ten per call, values left out) and stops when each
// is the one the last fetch put in place: idle, a node makes a few calls per interval instead of two per file.
// Otherwise it reads and checks only the parameters with a new version (and any file whose mode or owner
// drifted); a file kept was checked when its version was fetched, and a value at a version never checked is
// never used.
const SYNC_HEAD = `# versions_now NAME...: "NAME VERSION" per parameter, sorted.
versions_now() {
  local out all=
  while [ $# -gt 0 ]; do
    out=$(aws ssm get-parameters --region "$region" --names "\${@:1:${NAMES_PER_CALL}}" --query 'Parameters[].[Name,Version]' --output text 2>&1) || { echo "\${out//$'\\n'/ }"; return 1; }
    all+="$out"$'\\n'
    shift $(( $# < ${NAMES_PER_CALL} ? $# : ${NAMES_PER_CALL} ))
  done
  printf '%s' "$all" | tr '\\t' ' ' | sed '/^$/d' | sort
}
declare -A recorded=()
declare -A current=()
if [ -n "$sync" ] && [ -f "$versions_file" ] && [ ! -L "$versions_file" ]; then
  now=$(versions_now @NAMES@) || stop "cannot list the parameters' versions: $now"
  if [ ! -e "$pending_file" ] && [ "$now" = "$(cat -- "$versions_file")" ] && all_in_place; then
    echo "hardened-cluster-fetch: sync found no new parameter version; nothing replaced or restarted"
    exit 0
  fi
  while read -r n v; do [ -n "$n" ] && recorded[$n]=$v; done < "$versions_file"
  while read -r n v; do [ -n "$n" ] && current[$n]=$v; done <<< "$now"
fi
# in_place NAME PATH MODE OWNER: a sync may keep the file as it is: its parameter's version is the one it was
# fetched at, and the file still has its mode and owner (one that drifted is fetched and put right again).
in_place() {
  [ -n "$sync" ] && [ -n "\${recorded[$1]:-}" ] && [ "\${recorded[$1]}" = "\${current[$1]:-}" ] && file_ok "$2" "$3" "$4"
}`;

// Before the versions are listed, since a sync that finds nothing new stops there.
const FILE_OK = `# file_ok PATH MODE OWNER: the file is there, no link, with that mode and owner.
file_ok() {
  local want_uid want_gid=0 uid gid perm
  [ -f "$1" ] && [ ! -L "$1" ] || return 1
  want_uid=$(id -u -- "\${3%%:*}") || return 1
  if [[ $3 == *:* ]]; then want_gid=$(getent group -- "\${3#*:}" | cut -d: -f3) || return 1; fi
  read -r uid gid perm < <(stat -c '%u %g %a' -- "$1")
  [ "$uid" = "$want_uid" ] && [ "$gid" = "$want_gid" ] && (( 8#$perm == 8#$2 ))
}
# Every stage line again, each checking only that its file is in place (a subshell, so stage stays as it is).
all_in_place() (
  stage() { file_ok "$2" "$3" "$4" || exit 1; }
  stages
)`;

// A running node keeps what did not change: a staged file equal to its target, owner and mode included, is
// dropped before the renames, so its readers keep running. After the renames a sync restarts, in the node's
// unit order, every unit a replaced file names (try-restart: a unit not running stays stopped).
const SYNC_TAIL = `# The directory of what the sync keeps, root's alone like everything this writes.
state_dir() {
  (umask 022; mkdir -p -- "$(dirname -- "$versions_file")")
  root_only "$(dirname -- "$versions_file")"
}
# What is in place, for the next sync; written last, so a sync that failed is tried again.
record_versions() {
  state_dir
  for n in "\${!version_of[@]}"; do echo "$n \${version_of[$n]}"; done | sort > "$versions_file.new"
  mv -f -- "$versions_file.new" "$versions_file"
}
if [ -n "$sync" ]; then
  kept_staged=()
  kept_targets=()
  for i in "\${!staged[@]}"; do
    if [ -f "\${targets[i]}" ] && [ ! -L "\${targets[i]}" ] && [ "$(stat -c '%u:%g %a' -- "\${staged[i]}")" = "$(stat -c '%u:%g %a' -- "\${targets[i]}")" ] && cmp -s -- "\${staged[i]}" "\${targets[i]}"; then
      rm -f -- "\${staged[i]}"
    else
      kept_staged+=("\${staged[i]}")
      kept_targets+=("\${targets[i]}")
    fi
  done
  staged=("\${kept_staged[@]}")
  targets=("\${kept_targets[@]}")
  # The units to restart: those a failed sync left (their files are in place, so nothing else would restart
  # them) and this sync's. Listed before the first rename, so a sync killed between its renames and its restarts
  # leaves them for the next one, which finds the files already equal; kept until every restart succeeded.
  declare -A wanted=()
  for t in "\${targets[@]}"; do
    r=\${restart_of[$t]:--}
    [ "$r" = - ] && continue
    for u in \${r//,/ }; do wanted[$u]=1; done
  done
  state_dir
  if [ -f "$pending_file" ] && [ ! -L "$pending_file" ]; then
    for u in $(cat -- "$pending_file"); do wanted[$u]=1; done
  fi
  if [ \${#wanted[@]} -gt 0 ]; then
    printf '%s\\n' "\${!wanted[@]}" > "$pending_file.new"
    mv -f -- "$pending_file.new" "$pending_file"
  fi
fi
# Everything is in place beside its target: only renames remain.
for i in "\${!staged[@]}"; do mv -f -- "\${staged[i]}" "\${targets[i]}"; done
staged=()
if [ -n "$sync" ]; then
  for t in "\${targets[@]}"; do echo "hardened-cluster-fetch: replaced $t"; done
  restarted=()
  for u in @ORDER@; do
    [ -n "\${wanted[$u]:-}" ] || continue
    systemctl try-restart -- "$u.service" || { echo "hardened-cluster-fetch: $u.service did not restart; its new files are in place" >&2; exit 1; }
    restarted+=("$u")
  done
  rm -f -- "$pending_file"
  record_versions
  echo "hardened-cluster-fetch: sync replaced \${#targets[@]} files and restarted \${#restarted[@]} units: \${restarted[*]:-none}"
  exit 0
fi
# At boot every unit starts after this, with what is in place now.
rm -f -- "$pending_file"
record_versions`;

export interface SecretValue {
    name: string;
    value: pulumi.Input<string>;
}

/** One SecureString per secret. Intelligent-Tiering: kubeconfigs with embedded keys can exceed the 4 KB standard tier. */
export function createSecretParameters(
    name: string,
    secrets: readonly SecretValue[],
    keyArn: pulumi.Input<string>,
    tags: Record<string, string>,
    opts: pulumi.CustomResourceOptions,
): aws.ssm.Parameter[] {
    return secrets.map((s) => new aws.ssm.Parameter(`${name}${s.name.replace(/\//g, "-")}`, {
        name: s.name,
        type: "SecureString",
        tier: "Intelligent-Tiering",
        keyId: keyArn,
        value: pulumi.secret(s.value),
        tags,
    }, opts));
}
