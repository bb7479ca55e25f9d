// The binaries a node runs, on a stock AMI: the stack publishes each one it needs from a local directory (the
// toolchain's by default) to a bucket of the cluster's, under a name made of its SHA-256, and every boot fetches
// them and checks that digest (from user data, so from the stack) before anything starts. An object someone
// replaced in the bucket is refused by the node, not run. `source: "ami"` keeps the old way: the AMI has them.
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, fail, isPlainObject, key } from "../../components/common";
import { backupBucketPolicy, S3_BUCKET_NAME, s3Arn } from "./backup";
import type { ArnContext, PolicyDocument, Statement } from "./iam";

/** Where the stack puts the binaries it provides; anything a unit runs from elsewhere is the AMI's. */
export const AWS_BIN_DIR = "/usr/local/bin";
/** Where it puts the CNI plugins, which containerd looks up by name in a directory of their own. */
export const AWS_CNI_BIN_DIR = "/opt/cni/bin";
/** Where it puts the node images (node-images.ts), which containerd imports from there. */
export const AWS_IMAGE_DIR = "/var/lib/hardened-cluster/images";
/**
 * Each node directory the stack provides: where its files are found under aws.binaries.directory, and their mode
 * on the node (a program is executable; an image archive is data).
 */
const PROVIDED_DIRS: Readonly<Record<string, { local: string; mode: number }>> = {
    [AWS_BIN_DIR]: { local: ".", mode: 0o755 },
    [AWS_CNI_BIN_DIR]: { local: "cni", mode: 0o755 },
    [AWS_IMAGE_DIR]: { local: "images", mode: 0o644 },
};
/** Object keys: binaries/<sha256>/<name>. A digest names exactly one content, so an object is never overwritten. */
export const BINARY_PREFIX = "binaries";
export const BINARY_SOURCES = ["bucket", "ami"] as const;
export type BinarySource = (typeof BINARY_SOURCES)[number];

export interface BinariesOptions {
    /** "bucket" (default): published by the stack and verified at boot. "ami": the AMI has them in /usr/local/bin. */
    source?: BinarySource;
    /** Where `pulumi up` reads them; default the toolchain's bin directory (scripts/toolchain.sh --bin-dir). */
    directory?: string;
}

export type ResolvedBinaries = { source: "bucket"; directory?: string } | { source: "ami" };

export function resolveBinaries(k: string, v: unknown): ResolvedBinaries {
    if (v === undefined) return { source: "bucket" };
    if (!isPlainObject(v)) fail(k, v, "use { source, directory }");
    const o = v as Record<string, unknown>;
    for (const name of Object.keys(o)) if (name !== "source" && name !== "directory") fail(key(k, name), describe(name), "unknown key; use source or directory");
    const source = o.source ?? "bucket";
    if (!BINARY_SOURCES.includes(source as BinarySource)) fail(key(k, "source"), source, `use one of: ${BINARY_SOURCES.join(", ")}`);
    if (source === "ami") {
        if (o.directory !== undefined) fail(key(k, "directory"), o.directory, "the AMI provides the binaries with source \"ami\"; remove it");
        return { source: "ami" };
    }
    if (o.directory === undefined) return { source: "bucket" };
    if (typeof o.directory !== "string" || !path.isAbsolute(o.directory)) fail(key(k, "directory"), o.directory, "use an absolute directory path");
    return { source: "bucket", directory: path.resolve(o.directory as string) };
}

/** One binary the stack publishes: where it lands on nodes, its local file, digest and object key. */
export interface PublishedBinary {
    name: string;
    nodePath: string;
    localPath: string;
    sha256: string;
    key: string;
    /** Its mode on the node: 0755, or 0644 for an image archive. */
    mode: number;
    /** From its ELF header; undefined for anything else (a script runs on either). */
    arch?: Arch;
}

export type Arch = "x86_64" | "arm64";
// e_machine values from the ELF specification (EM_X86_64, EM_AARCH64).
const ELF_MACHINES: Record<number, Arch> = { 62: "x86_64", 183: "arm64" };

/** The architecture an ELF file was built for, from its header; undefined if it is not a little-endian ELF. */
export function elfArch(file: string): Arch | undefined {
    const head = Buffer.alloc(20);
    const fd = fs.openSync(file, "r");
    try {
        if (fs.readSync(fd, head, 0, 20, 0) < 20) return undefined;
    } finally {
        fs.closeSync(fd);
    }
    if (head.readUInt32BE(0) !== 0x7f454c46 || head[5] !== 1) return undefined;
    return ELF_MACHINES[head.readUInt16LE(18)] ?? undefined;
}

/** Graviton (and A1) instance families are arm64: a "g" among the letters after the generation, e.g. m7g, c6gn, is4gen. */
export function instanceArch(instanceType: string): Arch {
    const family = instanceType.split(".")[0];
    return family === "a1" || /^[a-z]+\d+[a-z]*g[a-z]*$/.test(family) ? "arm64" : "x86_64";
}

/** What a node's boot fetches: the binary's node path, object key and digest. */
export interface FetchedBinary {
    path: string;
    key: string;
    sha256: string;
    mode: number;
}

/** What the stack published and where: the bucket's name (a plain string once known, an Input before). */
export interface PublishedBinaries<B = string> {
    bucket: B;
    published: readonly PublishedBinary[];
}

/** The stack's binaries one node fetches from the cluster's bucket (the boot fetch's input). */
export interface FetchedBinaries {
    bucket: string;
    files: FetchedBinary[];
}

export function binaryKey(sha256: string, name: string): string {
    return `${BINARY_PREFIX}/${sha256}/${name}`;
}

/** The node paths in a directory the stack provides among these, once each, sorted. */
export function providedPaths(paths: readonly string[]): string[] {
    return [...new Set(paths.filter((p) => Object.hasOwn(PROVIDED_DIRS, path.dirname(p))))].sort();
}

/** A provided node path's file under the directory: a binary's name, a CNI plugin's cni/<name>, an image's images/<name>. */
function localName(nodePath: string): string {
    return path.join(PROVIDED_DIRS[path.dirname(nodePath)].local, path.basename(nodePath));
}

// Hashing a few hundred megabytes takes a second; a program plans the cluster more than once.
const digests = new Map<string, string>();
function sha256Of(file: string, st: fs.Stats): string {
    const id = `${file}\0${st.ino}\0${st.size}\0${st.mtimeMs}`;
    let d = digests.get(id);
    if (d === undefined) {
        d = createHash("sha256").update(fs.readFileSync(file)).digest("hex");
        digests.set(id, d);
    }
    return d;
}

/**
 * The files behind these node paths, read from the directory: each must be a regular file there, executable
 * unless it is an image archive.
 * Every missing one is named in one error on `<k>.directory`, before any resource exists.
 */
export function publishedBinaries(k: string, b: ResolvedBinaries, nodePaths: readonly string[]): PublishedBinary[] {
    if (b.source !== "bucket") return [];
    const paths = providedPaths(nodePaths);
    const dk = key(k, "directory");
    if (b.directory === undefined) {
        fail(dk, undefined, `name the directory holding ${paths.map(localName).join(", ")} (the toolchain's: scripts/toolchain.sh --bin-dir), or set ${key(k, "source")}: "ami" if the AMI has them`);
    }
    const dir = b.directory;
    const found: PublishedBinary[] = [];
    const missing: string[] = [];
    for (const nodePath of paths) {
        const name = path.basename(nodePath);
        const localPath = path.join(dir, localName(nodePath));
        const mode = PROVIDED_DIRS[path.dirname(nodePath)].mode;
        const mustExecute = (mode & 0o100) !== 0;
        const st = fs.statSync(localPath, { throwIfNoEntry: false });
        if (!st || !st.isFile() || (mustExecute && (st.mode & 0o100) === 0)) {
            missing.push(localName(nodePath));
            continue;
        }
        const sha256 = sha256Of(localPath, st);
        const arch = elfArch(localPath);
        found.push({ name, nodePath, localPath, sha256, key: binaryKey(sha256, name), mode, ...(arch ? { arch } : {}) });
    }
    if (missing.length > 0) {
        fail(dk, dir, `it has no ${missing.join(", ")} (the nodes run binaries from ${AWS_BIN_DIR}, CNI plugins from ${AWS_CNI_BIN_DIR} and import images from ${AWS_IMAGE_DIR}; a binary must be executable): build the toolchain (npm run toolchain) or name another directory`);
    }
    return found;
}

/**
 * Each role's binaries must be built for its instance type's architecture: an x86_64 kubelet on a Graviton worker
 * would fail at boot with "exec format error", after the stack reported success.
 */
export function checkArchitectures(k: string, published: readonly PublishedBinary[], roles: readonly { key: string; instanceType: string; nodePaths: readonly string[] }[]): void {
    for (const role of roles) {
        const want = instanceArch(role.instanceType);
        const wrong = binariesFor(published, role.nodePaths).filter((p) => p.arch !== undefined && p.arch !== want);
        if (wrong.length > 0) {
            fail(key(k, "directory"), wrong.map((w) => w.localPath), `${wrong.map((w) => `${w.name} is ${w.arch}`).join(", ")}, but ${role.key} ${role.instanceType} is ${want}: name a directory of ${want} builds, or choose an instance type of their architecture`);
        }
    }
}

/** The published binaries behind these node paths. */
function binariesFor(published: readonly PublishedBinary[], nodePaths: readonly string[]): PublishedBinary[] {
    const wanted = new Set(providedPaths(nodePaths));
    return published.filter((p) => wanted.has(p.nodePath));
}

/** What a node with these paths fetches, in the published (sorted) order; undefined when nothing is published. */
export function fetchedBinaries(b: PublishedBinaries | undefined, nodePaths: readonly string[]): FetchedBinaries | undefined {
    if (!b) return undefined;
    return { bucket: b.bucket, files: binariesFor(b.published, nodePaths).map((p) => ({ path: p.nodePath, key: p.key, sha256: p.sha256, mode: p.mode })) };
}

export function binaryObjectArns(ctx: ArnContext, bucket: string): string {
    return s3Arn(ctx, `${bucket}/${BINARY_PREFIX}/*`);
}

/** A node may read the published binaries and nothing else of the bucket; S3 decrypts each with the object's ARN as context. */
export function binaryReadStatements(ctx: ArnContext, bucket: string, clusterKeyArn: string): Statement[] {
    return [
        { Sid: "ReadBinaries", Effect: "Allow", Action: ["s3:GetObject"], Resource: binaryObjectArns(ctx, bucket) },
        {
            Sid: "DecryptBinaries",
            Effect: "Allow",
            Action: ["kms:Decrypt"],
            Resource: clusterKeyArn,
            Condition: {
                StringEquals: { "kms:ViaService": `s3.${ctx.region}.${ctx.dnsSuffix}` },
                StringLike: { "kms:EncryptionContext:aws:s3:arn": binaryObjectArns(ctx, bucket) },
            },
        },
    ];
}

/**
 * TLS only and SSE-KMS by the cluster key only (as for backups), and only the deploying principal may write or
 * delete: a node role, or anyone else the account's IAM lets near S3, cannot plant a binary. The digest check at
 * boot would refuse one anyway; this keeps the bucket from serving it at all.
 */
export function binaryBucketPolicy(ctx: ArnContext, bucket: string, clusterKeyArn: string, deployerArns: readonly string[]): PolicyDocument {
    const base = backupBucketPolicy(ctx, bucket, clusterKeyArn);
    return {
        ...base,
        Statement: [
            ...base.Statement,
            {
                Sid: "DeployerWritesOnly",
                Effect: "Deny",
                Principal: { AWS: "*" },
                Action: ["s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion", "s3:PutObjectAcl", "s3:RestoreObject"],
                Resource: s3Arn(ctx, `${bucket}/*`),
                Condition: { ArnNotLike: { "aws:PrincipalArn": [...deployerArns] } },
            },
        ],
    };
}

const SHA256 = /^[0-9a-f]{64}$/;
const KEY = /^[A-Za-z0-9_./-]+$/;

/** The boot fetch's part for binaries: a bash function that stages one, and one call per binary. */
export function binaryFetchLines(bucket: string, files: readonly FetchedBinary[]): string[] {
    if (files.length === 0) return [];
    if (!S3_BUCKET_NAME.test(bucket)) throw new Error(`binaries: not an S3 bucket name: ${JSON.stringify(bucket)}`);
    for (const f of files) {
        if (!SHA256.test(f.sha256) || !KEY.test(f.key) || !KEY.test(f.path) || !f.path.startsWith("/") || (f.mode !== 0o755 && f.mode !== 0o644)) {
            throw new Error(`binaries: refusing ${JSON.stringify(f)} in the boot script`);
        }
    }
    const fn = `bucket=${bucket}
# stage_binary KEY PATH SHA256 MODE: the object, checked against the digest the stack published, in a file beside
# PATH. A file already in place with that digest, root's and of that mode, is kept: a reboot downloads nothing.
stage_binary() {
  local key=$1 path=$2 sum=$3 mode=$4 tmp err got
  (umask 022; mkdir -p -- "$(dirname -- "$path")")
  root_only "$(dirname -- "$path")"
  if [ -f "$path" ] && [ ! -L "$path" ] && [ "$(stat -c '%u:%g %a' -- "$path")" = "0:0 \${mode#0}" ] && [ "$(sha256sum < "$path" | cut -d' ' -f1)" = "$sum" ]; then
    return 0
  fi
  tmp=$(mktemp -- "$(dirname -- "$path")/.fetch.XXXXXX")
  staged+=("$tmp")
  targets+=("$path")
  err=$(aws s3api get-object --region "$region" --bucket "$bucket" --key "$key" "$tmp" 2>&1 >/dev/null) || stop "cannot read s3://$bucket/$key: \${err//$'\\n'/ }"
  got=$(sha256sum < "$tmp" | cut -d' ' -f1)
  [ "$got" = "$sum" ] || stop "s3://$bucket/$key has SHA-256 $got, not $sum as the stack published it"
  chown -- root:root "$tmp"
  chmod -- "$mode" "$tmp"
}`;
    return [...fn.split("\n"), ...files.map((f) => `stage_binary ${f.key} ${f.path} ${f.sha256} 0${f.mode.toString(8)}`)];
}
