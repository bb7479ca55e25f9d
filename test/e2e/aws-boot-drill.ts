// The boot drill's shared setup: the staging stack rendered by the real program on the mock monitor (real keys
// from openssl), its parameters and binary objects created in moto exactly as declared, and the calls every part
// of the drill makes against them. aws-boot.spec.ts registers the cases, which take this object.
import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import { decodeUserData } from "../../platforms/aws/userdata";
import { engineConfig, ROOT, runInChild } from "../unit/program/program-child";
import { unwrapSecret } from "../unit/program/mock-engine";
import type { StackRun } from "../unit/program/run-stack";
import { requireBinary } from "../unit/aws/host-tools";
import { AccessKey, Moto, startMoto } from "./moto";
import { Toolchain, toolchain } from "./harness";
import { CloudConfig, fetchScript, nodeEtc, nodeMountLines, prepareNodeEtc, StagedBinary } from "./aws-node";
import { E2E_PORTS } from "./ports";

export const ports = E2E_PORTS.awsBoot;
export const STACK = "staging";
export const CLUSTER = "hc-staging";
// The directories a node's secret files live in (README: "Users and files"); the sandbox binds both.
const BOUND = ["/etc/kubernetes", "/etc/etcd"];
// How the mock monitor marks a secret value.
export const ANYONE: AccessKey = { id: "AKIAEXAMPLEDRILL0000", secret: "drill" };
const FIRST_SYSTEM_UID = 980;

interface Param { name: string; type: string; value: string; keyId: string; tier: string }
interface BinaryObject { bucket: string; key: string; file: string; kmsKeyId: string; sse: string; checksum: string }
interface BinaryOnDisk { path: string; size: number; mode: number; uid: number; gid: number; ino: number }
export interface OnDisk { path: string; content: string; mode: number; uid: number; gid: number }
export interface Boot { status: number | null; stdout: string; stderr: string }
// SSM calls made by the drill itself, in one boto3 process per step (the AWS CLI takes a second or two to start).
const SSM_CALLS = "import boto3, json, sys\nssm = boto3.client('ssm')\ncalls = json.load(sys.stdin)\nfor c in calls: getattr(ssm, c.pop('call'))(**c)\nprint(len(calls))";
const STORED = "import boto3, json, sys\nssm = boto3.client('ssm')\nout = {}\nfor page in ssm.get_paginator('get_parameters_by_path').paginate(Path=sys.stdin.read(), Recursive=True, WithDecryption=True):\n" +
    "    for p in page['Parameters']: out[p['Name']] = p['Value']\nprint(json.dumps(out))";
// S3 calls the same way; a "Body" names a file whose bytes are sent ("BodyText": the bytes themselves).
const S3_CALLS = "import boto3, json, sys\ns3 = boto3.client('s3')\ncalls = json.load(sys.stdin)\nfor c in calls:\n" +
    "    if 'Body' in c: c['Body'] = open(c['Body'], 'rb')\n    if 'BodyText' in c: c['Body'] = c.pop('BodyText').encode()\n    getattr(s3, c.pop('call'))(**c)\nprint(len(calls))";
export const BIN = "/usr/local/bin";
/** Where a worker's containerd finds the CNI plugins the stack publishes; the toolchain keeps them in cni/. */
export const CNI_BIN = "/opt/cni/bin";
/** Where a worker keeps the image archives it imports (README); the toolchain keeps them in images/. */
export const IMAGES = "/var/lib/hardened-cluster/images";

export function sha256sum(file: string): string {
    const r = spawnSync("sha256sum", [file], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    return r.stdout.split(" ")[0];
}

/** The node's /usr/local/bin, /opt/cni/bin and image directory as stat sees them (no hashing: inode and size tell whether a file was replaced). */
export function binariesOn(root: string): BinaryOnDisk[] {
    return [CNI_BIN, BIN, IMAGES].filter((d) => fs.existsSync(root + d)).flatMap((d) => fs.readdirSync(root + d).sort().map((name) => {
        const st = fs.lstatSync(path.join(root + d, name));
        return { path: path.join(d, name), size: st.size, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, ino: st.ino };
    }));
}

/** Whether an IPv4 address lies in a CIDR range. */
export function inCidr(ip: string, cidr: string): boolean {
    const n = (a: string) => a.split(".").reduce((x, o) => x * 256 + Number(o), 0);
    const [base, bits] = cidr.split("/");
    const size = 2 ** (32 - Number(bits));
    return Math.floor(n(ip) / size) === Math.floor(n(base) / size);
}

/** The toolchain's file a node path was published from. */
export function publishedFrom(bin: string, nodePath: string): string {
    const sub = { [CNI_BIN]: "cni", [IMAGES]: "images" }[path.dirname(nodePath)] ?? ".";
    return path.join(bin, sub, path.basename(nodePath));
}


/** A node's cloud-config from its launch template, as EC2 hands it to cloud-init. */
export function cloudConfigOf(run: StackRun, template: string): CloudConfig {
    const lt = run.resources.find((r) => r.type === "aws:ec2/launchTemplate:LaunchTemplate" && r.name === template);
    assert.ok(lt, `no launch template ${template}`);
    const text = decodeUserData(lt.inputs.userData);
    assert.ok(text.startsWith("#cloud-config\n"), template);
    return parse(text);
}

/** Every regular file under the node's bound directories, with what stat says. */
export function filesOn(root: string): OnDisk[] {
    const out: OnDisk[] = [];
    const walk = (dir: string) => {
        for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
            const p = path.join(dir, e.name);
            if (e.isDirectory()) walk(p);
            else {
                const st = fs.lstatSync(p);
                out.push({ path: p.slice(root.length), content: fs.readFileSync(p, "utf8"), mode: st.mode & 0o7777, uid: st.uid, gid: st.gid });
            }
        }
    };
    for (const d of BOUND) if (fs.existsSync(root + d)) walk(root + d);
    return out.sort((a, b) => a.path.localeCompare(b.path));
}

/** The rendered stack, the emulator and the drill's own calls; set up once for every case. */
export class BootDrill {
    tmp!: string;
    run!: StackRun;
    params!: Param[];
    objects!: BinaryObject[];
    tc!: Toolchain;
    moto!: Moto;
    clusterKey!: string;
    otherKey!: string;
    mockClusterKey!: string;
    readonly gids = new Map<string, number>();

    readonly awsCli = (args: string[]) => this.moto.aws(ANYONE, args);
    /** Runs SSM calls ({ call: "put_parameter", Name, ... }) as the operator, in order. */
    readonly ssm = (calls: Record<string, unknown>[]) => {
        const r = spawnSync("python3", ["-c", SSM_CALLS], { input: JSON.stringify(calls), env: { ...process.env, ...this.moto.env(ANYONE) }, encoding: "utf8" });
        assert.equal(r.status, 0, r.stderr);
        assert.equal(r.stdout.trim(), String(calls.length));
    };
    /** Every parameter of the cluster but the nodes' reports, as the emulator holds it now (decrypted): name -> value. */
    readonly stored = (): Map<string, string> => {
        const r = spawnSync("python3", ["-c", STORED], { input: `/${CLUSTER}/`, env: { ...process.env, ...this.moto.env(ANYONE) }, encoding: "utf8" });
        assert.equal(r.status, 0, r.stderr);
        return new Map(Object.entries(JSON.parse(r.stdout) as Record<string, string>).filter(([name]) => !name.startsWith(`/${CLUSTER}/reports/`)));
    };
    /** A parameter as the program declares it, or changed as `over` says. */
    readonly put = (p: Param, over: Record<string, unknown> = {}) => ({ call: "put_parameter", Name: p.name, Type: p.type, Value: p.value, KeyId: this.clusterKey, Tier: p.tier, ...over });
    readonly remove = (p: Param) => ({ call: "delete_parameter", Name: p.name });
    readonly s3 = (calls: Record<string, unknown>[]) => {
        const r = spawnSync("python3", ["-c", S3_CALLS], { input: JSON.stringify(calls), env: { ...process.env, ...this.moto.env(ANYONE) }, encoding: "utf8" });
        assert.equal(r.status, 0, r.stderr);
        assert.equal(r.stdout.trim(), String(calls.length));
    };
    /** A binary object as the program declares it (SSE-KMS by the cluster key), or with other bytes. */
    readonly upload = (o: BinaryObject, bodyText?: string) => ({
        call: "put_object", Bucket: o.bucket, Key: o.key, ...(bodyText === undefined ? { Body: o.file } : { BodyText: bodyText }),
        ServerSideEncryption: "aws:kms", SSEKMSKeyId: this.clusterKey, ChecksumAlgorithm: "SHA256",
    });
    readonly objectOf = (b: StagedBinary) => this.objects.find((o) => o.key === b.key)!;
    readonly param = (name: string) => this.params.find((p) => p.name === name)!;
    /** The node's fetch script with the emulator's cluster key where the mock's stands. */
    readonly scriptOf = (cc: CloudConfig) => {
        const s = fetchScript(cc);
        assert.ok(s.includes(`key_arn=${this.mockClusterKey}\n`), "the script names the cluster key the parameters use");
        return s.replace(`key_arn=${this.mockClusterKey}\n`, `key_arn=${this.clusterKey}\n`);
    };

    /** A node's root with its write_files under BOUND, and its /etc with the cloud-config's system users. */
    prepareNode(node: string, cc: CloudConfig): string {
        const root = path.join(this.tmp, "nodes", node);
        fs.mkdirSync(root, { recursive: true, mode: 0o700 });
        const users = (cc.users ?? []).filter((u): u is { name: string } => typeof u === "object");
        // The node's own users replace any of the same name this machine has (a local stack's etcd user, say).
        const own = (line: string) => users.some((u) => line.startsWith(`${u.name}:`));
        const keep = (file: string) => fs.readFileSync(file, "utf8").split("\n").filter((l) => l && !own(l)).join("\n") + "\n";
        let passwd = keep("/etc/passwd");
        let group = keep("/etc/group");
        users.forEach((u, i) => {
            const id = FIRST_SYSTEM_UID + i;
            passwd += `${u.name}:x:${id}:${id}::/nonexistent:/sbin/nologin\n`;
            group += `${u.name}:x:${id}:\n`;
            this.gids.set(u.name, id);
        });
        prepareNodeEtc(root, passwd, group);
        for (const f of cc.write_files.filter((w) => BOUND.some((d) => w.path.startsWith(`${d}/`)))) {
            const p = root + f.path;
            fs.mkdirSync(path.dirname(p), { recursive: true, mode: 0o755 });
            fs.writeFileSync(p, f.content, { mode: parseInt(f.permissions, 8) });
            fs.chmodSync(p, parseInt(f.permissions, 8));
            const [u, g] = f.owner.split(":");
            fs.chownSync(p, u === "root" ? 0 : this.gids.get(u)!, g === "root" ? 0 : this.gids.get(g)!);
        }
        // The bound directories as a fresh machine has them: root's, 0755; a stock AMI's /usr/local/bin and /opt are empty.
        for (const d of [...BOUND, BIN, "/opt", "/var/lib"]) fs.mkdirSync(root + d, { recursive: true, mode: 0o755 });
        return root;
    }

    /**
     * Runs a fetch script as root with the node's directories and users in a mount namespace of its own; `args` and
     * `path` (directories put first on PATH) for the sync, whose systemctl is a stand-in.
     */
    boot(root: string, script: string, args: string[] = [], prepend: string[] = []): Boot {
        const file = path.join(root, "fetch");
        fs.writeFileSync(file, script, { mode: 0o700 });
        const inner = [
            "set -euo pipefail",
            ...nodeMountLines(BOUND),
            "exec \"$NODE_ROOT/fetch\" \"$@\"",
        ].join("\n");
        const env = this.moto.env(ANYONE);
        const r = spawnSync("unshare", ["--mount", "--propagation", "private", "bash", "-c", inner, "fetch", ...args], {
            env: { ...env, PATH: [...prepend, env.PATH].join(":"), NODE_ROOT: root, NODE_ETC: nodeEtc(root), NODE_BIN: root + BIN }, encoding: "utf8", timeout: 300_000,
        });
        return { status: r.status, stdout: r.stdout, stderr: r.stderr };
    }

    /**
     * A node's sync timer's service: its fetch script with --sync, with a stand-in systemctl that records its
     * calls, which are returned with the sync's outcome (the caller does what systemd would for each).
     */
    sync(root: string, cc: CloudConfig): Boot & { calls: string[] } {
        const systemctl = this.standInSystemctl();
        const r = this.boot(root, this.scriptOf(cc), ["--sync"], [systemctl.bin]);
        return { ...r, calls: systemctl.calls() };
    }

    /** A directory holding a systemctl that records its calls instead of making them, and those calls so far. */
    standInSystemctl(): { bin: string; calls: () => string[] } {
        const bin = path.join(this.tmp, "sync-bin");
        const calls = path.join(this.tmp, "systemctl-calls");
        fs.mkdirSync(bin, { recursive: true });
        fs.writeFileSync(path.join(bin, "systemctl"), `#!/bin/bash\necho "$*" >> ${calls}\n`, { mode: 0o755 });
        fs.rmSync(calls, { force: true });
        return { bin, calls: () => (fs.existsSync(calls) ? fs.readFileSync(calls, "utf8").trim().split("\n") : []) };
    }

    async setUp(): Promise<void> {
    if (process.getuid?.() !== 0 || !process.env.HC_SANDBOXED) {
        throw new Error("the boot drill writes a node's files to /etc/kubernetes and /etc/etcd as root: run it as root through scripts/sandbox.sh (npm test does)");
    }
    requireBinary("unshare");
    this.tc = toolchain("etcd", "etcdctl", "etcdutl", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "hc-aws-kms-plugin", "hc-csr-approver", "kubelet", "kube-proxy", "kube-router", "flanneld",
        "cni/bridge", "cni/host-local", "cni/loopback", "cni/portmap", "kubectl", "kube-bench", "containerd", "ctr");
    this.tmp = fs.mkdtempSync("/tmp/hc-aws-boot-");
    fs.mkdirSync(path.join(this.tmp, "tls"), { mode: 0o700 });
    // Real keys and certificates (openssl from the same inputs), so the nodes' etcd members can start below;
    // the real toolchain, whose binaries the stack publishes and the nodes run.
    this.run = runInChild<StackRun>(`stack ${STACK}`, path.join(ROOT, "test/unit/program/run-stack.ts"), engineConfig(path.join(ROOT, `stacks/Pulumi.${STACK}.yaml`)), this.tmp, path.join(this.tmp, "run.json"),
        { HC_TEST_STACK: STACK, HC_TEST_REAL_TLS: path.join(this.tmp, "tls"), HC_TOOLCHAIN_DIR: this.tc.dir });
    assert.deepEqual(this.run.errors, []);
    const all = this.run.resources.filter((r) => r.type === "aws:ssm/parameter:Parameter");
    // Each control-plane node's report (report.ts): a String the stack creates empty and the node overwrites.
    const reports = all.filter((r) => r.inputs.name.startsWith(`/${CLUSTER}/reports/`));
    assert.deepEqual(reports.map((r) => [r.inputs.name, r.inputs.type, unwrapSecret<string>(r.inputs.value), r.inputs.keyId]), ["cp-0", "cp-1", "cp-2"].map((n) => [`/${CLUSTER}/reports/${n}`, "String", "{}", undefined]));
    this.params = all.filter((r) => !reports.includes(r))
        .map((r) => ({ name: r.inputs.name, type: r.inputs.type, value: unwrapSecret<string>(r.inputs.value), keyId: r.inputs.keyId, tier: r.inputs.tier }));
    this.mockClusterKey = this.run.resources.find((r) => r.type === "aws:kms/key:Key" && r.name.endsWith("-cluster"))!.state.arn;
    this.moto = await startMoto(ports.apiServer, path.join(this.tmp, "moto"));
    this.clusterKey = JSON.parse(this.awsCli(["kms", "create-key", "--description", `${CLUSTER} cluster key`])).KeyMetadata.Arn;
    this.otherKey = JSON.parse(this.awsCli(["kms", "create-key", "--description", "someone else's key"])).KeyMetadata.Arn;
    // As the program declares them: every parameter a SecureString under the cluster key (one boto3 process
    // for all of them; the nodes' own calls below go through the AWS CLI, as on EC2).
    for (const p of this.params) assert.deepEqual([p.type, p.keyId], ["SecureString", this.mockClusterKey], p.name);
    this.ssm([...this.params.map((p) => this.put(p)), ...reports.map((r) => ({ call: "put_parameter", Name: r.inputs.name, Type: "String", Value: "{}" }))]);
    this.objects = this.run.resources.filter((r) => r.type === "aws:s3/bucketObjectv2:BucketObjectv2").map((r) => ({
        bucket: r.inputs.bucket, key: r.inputs.key, file: r.inputs.source?.path, kmsKeyId: r.inputs.kmsKeyId, sse: r.inputs.serverSideEncryption, checksum: r.inputs.checksumAlgorithm,
    }));
    for (const o of this.objects) {
        assert.deepEqual([o.kmsKeyId, o.sse, o.checksum], [this.mockClusterKey, "aws:kms", "SHA256"], o.key);
        assert.ok([this.tc.bin, path.join(this.tc.bin, "cni"), path.join(this.tc.bin, "images")].includes(path.dirname(o.file)), o.file);
    }
    const buckets = [...new Set(this.objects.map((o) => o.bucket))];
    assert.equal(buckets.length, 1, buckets.join(" "));
    this.s3([{ call: "create_bucket", Bucket: buckets[0], CreateBucketConfiguration: { LocationConstraint: "eu-west-1" } }, ...this.objects.map((o) => this.upload(o))]);
    }

    async tearDown(): Promise<void> {
    await this.moto?.stop();
    if (this.tmp) fs.rmSync(this.tmp, { recursive: true, force: true });
    }
}
