// The binaries an AWS stack publishes for its nodes: the option, the digests and keys, the bucket and its
// grants, and what each node's boot fetches. The boot drill (test/e2e/aws-boot.spec.ts) runs the fetch for real.
import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync as makeTemp, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { parse } from "yaml";
import { ConfigError } from "../../../components/common";
import { AwsCluster, awsPosture, planAwsCluster } from "../../../platforms/aws";
import { elfArch, instanceArch, publishedBinaries, resolveBinaries } from "../../../platforms/aws/binaries";
import { nodeImageNames, nodeImagePaths } from "../../../platforms/aws/node-images";
import { controlPlaneNodePolicy, workerNodePolicy } from "../../../platforms/aws/iam";
import { planAwsProgram } from "../../../platforms/aws/program-plan";
import { FETCH_SCRIPT_PATH, renderFetchScript } from "../../../platforms/aws/secrets";
import { assertClusterBucket, baseOptions, bucketResources, byType, CLUSTER, clusterArgs, CNI_PUBLISHED, fakeBinDir, imageName, IMAGES_PUBLISHED, PUBLISHED, registered, setAwsMocks, settle, userDataOf, writeImageArchive } from "./fixtures";

const CLUSTER_KEY_ARN = "arn:aws:mock:eu-west-1:123456789012:Key/t-keys-cluster";
const BUCKET = `${CLUSTER}-binaries-20261203abcdef`;
const OBJECT = "aws:s3/bucketObjectv2:BucketObjectv2";
const LT = "aws:ec2/launchTemplate:LaunchTemplate";

function failsAt(fn: () => unknown, key: string, message?: RegExp): void {
    assert.throws(fn, (e: unknown) => e instanceof ConfigError && e.key === key && (!message || message.test(e.message)));
}

/** The digest as coreutils computes it, not as the code under test does. */
function sha256sum(file: string): string {
    return execFileSync("sha256sum", [file], { encoding: "utf8" }).split(" ")[0];
}

function fetchScriptOf(lt: { inputs: { userData: string } }): string {
    const doc = parse(userDataOf(lt as never).replace(/^#cloud-config\n/, ""));
    return doc.write_files.find((f: { path: string }) => f.path === FETCH_SCRIPT_PATH).content;
}

/** [key, path, sha256] of every stage_binary call in a fetch script. */
function stagedBinaries(script: string): string[][] {
    return [...script.matchAll(/^stage_binary (\S+) (\S+) (\S+) (\S+)$/gm)].map((m) => [m[1], m[2], m[3], m[4]]);
}

/** Temporary directories of this file, removed when it is done. */
const temps: string[] = [];
const mkdtempSync = (prefix: string) => {
    const dir = makeTemp(prefix);
    temps.push(dir);
    return dir;
};
after(() => temps.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe("aws: binaries the stack publishes", function () {
    this.timeout(60000);

    describe("aws.binaries", () => {
        it("defaults to the bucket, with the directory left to the toolchain", () => {
            assert.deepEqual(resolveBinaries("aws.binaries", undefined), { source: "bucket" });
            assert.deepEqual(resolveBinaries("aws.binaries", { directory: "/opt/bin/" }), { source: "bucket", directory: "/opt/bin" });
            assert.deepEqual(resolveBinaries("aws.binaries", { source: "ami" }), { source: "ami" });
        });

        it("refuses a relative directory, a directory with source ami, an unknown source or key", () => {
            failsAt(() => resolveBinaries("aws.binaries", { directory: "bin" }), "aws.binaries.directory");
            failsAt(() => resolveBinaries("aws.binaries", { source: "ami", directory: "/opt/bin" }), "aws.binaries.directory", /AMI provides/);
            failsAt(() => resolveBinaries("aws.binaries", { source: "http" }), "aws.binaries.source", /bucket, ami/);
            failsAt(() => resolveBinaries("aws.binaries", { sha256: {} }), "aws.binaries.sha256");
            failsAt(() => resolveBinaries("aws.binaries", "bucket"), "aws.binaries");
        });
    });

    describe("the program's default directory", () => {
        const { clusterName, region, apiAllowedCidrs } = baseOptions();
        const plain = { clusterName, region, apiAllowedCidrs };
        let asked = 0;
        const toolchainBin = () => {
            asked++;
            return "/opt/toolchain/bin";
        };

        it("is the toolchain's bin, asked for only when the stack publishes binaries and names no directory", () => {
            asked = 0;
            assert.deepEqual(planAwsProgram({ stack: "s", aws: plain, toolchainBin }).r.binaries, { source: "bucket", directory: "/opt/toolchain/bin" });
            assert.equal(asked, 1);
            assert.deepEqual(planAwsProgram({ stack: "s", aws: { ...plain, binaries: { directory: "/srv/bin" } }, toolchainBin }).r.binaries, { source: "bucket", directory: "/srv/bin" });
            assert.deepEqual(planAwsProgram({ stack: "s", aws: { ...plain, binaries: { source: "ami" } }, toolchainBin }).r.binaries, { source: "ami" });
            assert.equal(asked, 1);
        });
    });

    describe("publishedBinaries", () => {
        it("names every binary the directory lacks or cannot execute in one error on aws.binaries.directory", () => {
            const dir = mkdtempSync(path.join(tmpdir(), "hc-bin-partial-"));
            writeFileSync(path.join(dir, "etcd"), "etcd");
            chmodSync(path.join(dir, "etcd"), 0o755);
            writeFileSync(path.join(dir, "kubelet"), "not executable");
            chmodSync(path.join(dir, "kubelet"), 0o644);
            failsAt(
                () => publishedBinaries("aws.binaries", { source: "bucket", directory: dir }, ["/usr/local/bin/etcd", "/usr/local/bin/kubelet", "/usr/local/bin/kube-apiserver"]),
                "aws.binaries.directory",
                /no kube-apiserver, kubelet .*a binary must be executable.*npm run toolchain/,
            );
        });

        it("asks for a directory when none is set, naming the binaries and the ami alternative", () => {
            failsAt(() => publishedBinaries("aws.binaries", { source: "bucket" }, ["/usr/local/bin/etcd"]), "aws.binaries.directory", /etcd .*source: "ami"/);
        });

        it("keys each binary by the SHA-256 sha256sum computes, and publishes only what nodes run from /usr/local/bin and the CNI plugins of /opt/cni/bin, those from cni/", () => {
            const dir = fakeBinDir();
            const out = publishedBinaries("aws.binaries", { source: "bucket", directory: dir }, [
                "/usr/local/bin/kubelet", "/usr/local/bin/etcd", "/usr/local/bin/etcd", "/usr/bin/containerd", "/opt/aws-encryption-provider", "/opt/cni/bin/bridge", "/opt/cni/bridge",
            ]);
            assert.equal(out.length, 3);
            for (const b of out) {
                const local = b.nodePath.startsWith("/opt/cni/bin/") ? path.join(dir, "cni", b.name) : path.join(dir, b.name);
                const expected = sha256sum(local);
                assert.equal(b.sha256, expected);
                assert.equal(b.localPath, local);
                assert.equal(b.key, `binaries/${expected}/${b.name}`);
            }
            assert.deepEqual(out.map((b) => b.nodePath), ["/opt/cni/bin/bridge", "/usr/local/bin/etcd", "/usr/local/bin/kubelet"]);
            // The bridge plugin is not the kubelet's neighbour: a "bridge" beside the binaries is not taken for it.
            const flat = mkdtempSync(path.join(tmpdir(), "hc-bin-flat-"));
            writeFileSync(path.join(flat, "bridge"), "bridge");
            chmodSync(path.join(flat, "bridge"), 0o755);
            failsAt(() => publishedBinaries("aws.binaries", { source: "bucket", directory: flat }, ["/opt/cni/bin/bridge"]), "aws.binaries.directory", /no cni\/bridge .*CNI plugins from \/opt\/cni\/bin/);
            assert.deepEqual(publishedBinaries("aws.binaries", { source: "ami" }, ["/usr/local/bin/etcd"]), []);
        });

        it("publishes the node images from images/ as data (0644 on the node, no execute bit asked for), named as their archives name them", () => {
            const dir = fakeBinDir();
            const out = publishedBinaries("aws.binaries", { source: "bucket", directory: dir }, [...nodeImagePaths(), "/usr/local/bin/kubelet"]);
            assert.deepEqual(out.map((b) => [b.nodePath, b.localPath, b.mode]), [
                ["/usr/local/bin/kubelet", path.join(dir, "kubelet"), 0o755],
                ["/var/lib/hardened-cluster/images/coredns.tar", path.join(dir, "images", "coredns.tar"), 0o644],
                ["/var/lib/hardened-cluster/images/pause.tar", path.join(dir, "images", "pause.tar"), 0o644],
            ]);
            assert.deepEqual(nodeImageNames("aws.binaries.directory", out), { pause: imageName("pause"), coredns: imageName("coredns") });
            assert.equal(nodeImageNames("aws.binaries.directory", out.filter((b) => b.mode === 0o755)), undefined);
        });

        it("refuses an image file that is no OCI archive, or whose index names no single image, on aws.binaries.directory", () => {
            const dir = mkdtempSync(path.join(tmpdir(), "hc-bin-images-"));
            mkdirSync(path.join(dir, "images"));
            writeFileSync(path.join(dir, "images", "pause.tar"), "not a tar");
            writeImageArchive(path.join(dir, "images", "coredns.tar"), "Not A Name!");
            const out = publishedBinaries("aws.binaries", { source: "bucket", directory: dir }, nodeImagePaths());
            failsAt(() => nodeImageNames("aws.binaries.directory", out), "aws.binaries.directory", /pause\.tar is not an OCI image archive: it has no index\.json/);
            writeImageArchive(path.join(dir, "images", "pause.tar"), imageName("pause"));
            const again = publishedBinaries("aws.binaries", { source: "bucket", directory: dir }, nodeImagePaths());
            failsAt(() => nodeImageNames("aws.binaries.directory", again), "aws.binaries.directory", /coredns\.tar must hold one image named by io\.containerd\.image\.name/);
        });
    });

    describe("architectures", () => {
        /** The first 20 bytes of a 64-bit little-endian ELF executable for `machine` (EM_X86_64 62, EM_AARCH64 183). */
        const elf = (machine: number) => Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, machine & 0xff, machine >> 8, 0, 0, 0, 0]);
        const dirOf = (machine: number) => {
            const dir = mkdtempSync(path.join(tmpdir(), "hc-bin-elf-"));
            mkdirSync(path.join(dir, "cni"));
            for (const b of [...PUBLISHED, ...CNI_PUBLISHED.map((p) => `cni/${p}`)]) {
                writeFileSync(path.join(dir, b), Buffer.concat([elf(machine), Buffer.from(b)]));
                chmodSync(path.join(dir, b), 0o755);
            }
            mkdirSync(path.join(dir, "images"));
            for (const i of IMAGES_PUBLISHED) writeImageArchive(path.join(dir, "images", `${i}.tar`), imageName(i));
            return dir;
        };

        it("reads the architecture from the ELF header, and none from a script", () => {
            const x86 = dirOf(62);
            const arm = dirOf(183);
            assert.equal(elfArch(path.join(x86, "kubelet")), "x86_64");
            assert.equal(elfArch(path.join(arm, "kubelet")), "arm64");
            assert.equal(elfArch(path.join(fakeBinDir(), "kubelet")), undefined);
        });

        it("knows Graviton instance types as arm64 and the others as x86_64 (AWS's instance type names)", () => {
            for (const t of ["m7g.large", "c6gn.xlarge", "is4gen.large", "a1.medium", "g5g.xlarge", "t4g.small", "r8g.2xlarge", "x2gd.medium"]) assert.equal(instanceArch(t), "arm64", t);
            for (const t of ["m6i.large", "g4dn.xlarge", "c7i-flex.large", "t3.large", "m7a.large", "inf2.xlarge", "m5zn.large"]) assert.equal(instanceArch(t), "x86_64", t);
        });

        it("refuses binaries of another architecture than a role's instance type, naming each, before anything exists", () => {
            const x86 = dirOf(62);
            const opts = (workers: string, cp: string) => baseOptions({ binaries: { directory: x86 }, workers: { instanceType: workers }, controlPlane: { instanceType: cp } });
            // The plan AwsCluster makes before registering anything.
            assert.throws(() => planAwsCluster(clusterArgs({ options: opts("m7g.large", "m6i.large") })),
                (e: unknown) => e instanceof ConfigError && e.key === "aws.binaries.directory" && /kubelet is x86_64, but aws\.workers\.instanceType m7g\.large is arm64/.test(e.message));
            assert.throws(() => planAwsCluster(clusterArgs({ options: opts("m6i.large", "c7g.large") })),
                (e: unknown) => e instanceof ConfigError && /etcd is x86_64, .*kube-apiserver is x86_64, .*aws\.controlPlane\.instanceType c7g\.large is arm64/.test(e.message));
            assert.equal(planAwsCluster(clusterArgs({ options: opts("m6i.large", "m6i.large") })).binaries.length, PUBLISHED.length + CNI_PUBLISHED.length + IMAGES_PUBLISHED.length);
        });
    });

    describe("AwsCluster (mocked engine)", () => {
        before(async () => {
            await setAwsMocks();
            registered.splice(0);
            new AwsCluster("t", clusterArgs());
            await settle();
        });

        it("publishes each binary once, under its digest, SSE-KMS by the cluster key, with S3 checking the SHA-256 on upload", () => {
            const objects = byType(OBJECT);
            const images = IMAGES_PUBLISHED.map((i) => `${i}.tar`);
            assert.equal(objects.length, PUBLISHED.length + CNI_PUBLISHED.length + images.length);
            assert.deepEqual(objects.map((o) => o.inputs.key.split("/").pop()).sort(), [...PUBLISHED, ...CNI_PUBLISHED, ...images].sort());
            for (const o of objects) {
                const name = o.inputs.key.split("/").pop();
                const local = CNI_PUBLISHED.includes(name) ? `cni/${name}` : images.includes(name) ? `images/${name}` : name;
                assert.equal(o.inputs.key, `binaries/${sha256sum(path.join(fakeBinDir(), local))}/${name}`);
                assert.equal(o.inputs.bucket, BUCKET);
                assert.equal(o.inputs.serverSideEncryption, "aws:kms");
                assert.equal(o.inputs.kmsKeyId, CLUSTER_KEY_ARN);
                assert.equal(o.inputs.checksumAlgorithm, "SHA256");
            }
        });

        it("keeps them in a private, versioned, owner-enforced, TLS-only bucket that only the deployer may write", () => {
            const mine = bucketResources("t-binaries");
            const [bucket] = mine("aws:s3/bucket:Bucket");
            assert.ok(bucket.inputs.bucketPrefix.startsWith(`${CLUSTER}-binaries-`));
            assertClusterBucket(mine, CLUSTER_KEY_ARN);
            const policy = JSON.parse(mine("aws:s3/bucketPolicy:BucketPolicy")[0].inputs.policy).Statement;
            assert.deepEqual(policy.map((x: any) => [x.Sid, x.Effect]), [["TlsOnly", "Deny"], ["ClusterKeyOnly", "Deny"], ["KmsOnly", "Deny"], ["DeployerWritesOnly", "Deny"]]);
            const writes = policy[3];
            assert.ok(writes.Action.includes("s3:PutObject") && writes.Action.includes("s3:DeleteObject"));
            assert.deepEqual(writes.Condition, { ArnNotLike: { "aws:PrincipalArn": ["arn:aws:iam::123456789012:user/deployer"] } });
        });

        it("lets every node role read the binaries, decrypting through S3 only, and write none", () => {
            const objects = `arn:aws:s3:::${BUCKET}/binaries/*`;
            const policies = byType("aws:iam/rolePolicy:RolePolicy").filter((p) => /^t-(cp-\d|workers)$/.test(p.name));
            assert.equal(policies.length, 4);
            for (const p of policies) {
                const st = JSON.parse(p.inputs.policy).Statement;
                const onBucket = st.filter((x: any) => String(x.Resource).includes(BUCKET));
                assert.deepEqual(onBucket.map((x: any) => [x.Action, x.Resource]), [[["s3:GetObject"], objects]], p.name);
                const decrypt = st.find((x: any) => x.Sid === "DecryptBinaries");
                assert.deepEqual(decrypt.Condition, { StringEquals: { "kms:ViaService": "s3.eu-west-1.amazonaws.com" }, StringLike: { "kms:EncryptionContext:aws:s3:arn": objects } });
            }
            const key = JSON.parse(byType("aws:kms/key:Key").find((k) => k.name === "t-keys-cluster")!.inputs.policy).Statement;
            const readers = key.find((x: any) => x.Sid === "NodesReadBinaries");
            assert.equal(readers.Principal.AWS.length, 4);
            assert.deepEqual(readers.Action, ["kms:Decrypt"]);
            const deployer = key.find((x: any) => x.Sid === "DeployerPublishesBinaries");
            assert.deepEqual(deployer.Condition.ArnLike, { "aws:PrincipalArn": ["arn:aws:iam::123456789012:user/deployer"] });
            assert.equal(deployer.Condition.StringLike["kms:EncryptionContext:aws:s3:arn"], objects);
        });

        it("has each node's boot fetch exactly what it runs from /usr/local/bin, and a worker the CNI plugins containerd calls from /opt/cni/bin and the images it imports, with the published digests and modes", () => {
            const digest = (local: string) => sha256sum(path.join(fakeBinDir(), local));
            const entry = (local: string, node: string, mode = "0755") => [`binaries/${digest(local)}/${path.basename(node)}`, node, digest(local), mode];
            const cni = CNI_PUBLISHED.map((p) => entry(`cni/${p}`, `/opt/cni/bin/${p}`));
            const images = ["coredns", "pause"].map((i) => entry(`images/${i}.tar`, `/var/lib/hardened-cluster/images/${i}.tar`, "0644"));
            const expect = (names: string[]) => names.sort().map((n) => entry(n, `/usr/local/bin/${n}`));
            const lts = byType(LT);
            assert.equal(lts.length, 4);
            for (const lt of lts) {
                const script = fetchScriptOf(lt);
                assert.match(script, new RegExp(`^bucket=${BUCKET}$`, "m"));
                const worker = lt.name === "t-workers";
                const cp = ["etcd", "etcdctl", "etcdutl", "hc-aws-kms-plugin", "kube-apiserver", "kube-controller-manager", "kube-scheduler"];
                assert.deepEqual(stagedBinaries(script), worker ? [...cni, ...expect(["kubelet"]), ...images] : expect(cp), lt.name);
                // Binaries before secrets (the stage lines are a function, called once): one rename loop after both.
                assert.ok(script.includes("\nstage_binary ") && script.lastIndexOf("\nstage_binary ") < script.indexOf("\nstages\n"), lt.name);
                assert.equal(script.split("\n").filter((l) => l === "stages").length, 1, lt.name);
            }
        });
    });

    it("gives both node roles every S3 action the boot script calls, and no other", () => {
        const ctx = { partition: "aws", region: "eu-west-1", accountId: "123456789012", dnsSuffix: "amazonaws.com" };
        const script = renderFetchScript("eu-west-1", CLUSTER_KEY_ARN, [], { bucket: BUCKET, files: [{ path: "/usr/local/bin/etcd", key: `binaries/${"a".repeat(64)}/etcd`, sha256: "a".repeat(64), mode: 0o755 }] });
        const pascal = (op: string) => op.split("-").map((w) => w[0].toUpperCase() + w.slice(1)).join("");
        const called = [...new Set([...script.matchAll(/\baws s3api ([a-z-]+)/g)].map((m) => `s3:${pascal(m[1])}`))];
        assert.deepEqual(called, ["s3:GetObject"]);
        assert.doesNotMatch(script, /\baws s3 /);
        const input = { clusterName: CLUSTER, node: "cp-0", clusterKeyArn: CLUSTER_KEY_ARN, secretsKeyArn: "k", auditLogGroupArn: "g", backup: { bucket: "b-etcd", prefix: "p" }, binaryBucket: BUCKET };
        for (const doc of [controlPlaneNodePolicy(ctx, input), workerNodePolicy(ctx, CLUSTER, CLUSTER_KEY_ARN, BUCKET)]) {
            const read = doc.Statement.find((x) => x.Sid === "ReadBinaries")!;
            assert.deepEqual(read.Action, called);
        }
    });

    it("refuses to put anything but a digest, a key, a path and a program's or a data file's mode into the boot script", () => {
        const ok = { path: "/usr/local/bin/etcd", key: `binaries/${"a".repeat(64)}/etcd`, sha256: "a".repeat(64), mode: 0o755 };
        for (const bad of [{ ...ok, sha256: "abc" }, { ...ok, key: "binaries/$(id)/etcd" }, { ...ok, path: "usr/local/bin/etcd" }, { ...ok, mode: 0o4755 }, { ...ok, mode: 0o777 }]) {
            assert.throws(() => renderFetchScript("eu-west-1", CLUSTER_KEY_ARN, [], { bucket: BUCKET, files: [bad] }), /refusing/);
        }
        assert.throws(() => renderFetchScript("eu-west-1", CLUSTER_KEY_ARN, [], { bucket: "Bad_Bucket", files: [ok] }), /bucket name/);
    });

    describe("source: ami", () => {
        before(async () => {
            await setAwsMocks();
            registered.splice(0);
            new AwsCluster("t", clusterArgs({ options: baseOptions({ binaries: { source: "ami" } }) }));
            await settle();
        });

        it("creates no binaries bucket or object, fetches none, and grants no read of one", () => {
            assert.equal(byType(OBJECT).length, 0);
            assert.ok(!byType("aws:s3/bucket:Bucket").some((b) => b.inputs.bucketPrefix.includes("-binaries-")));
            for (const lt of byType(LT)) assert.deepEqual(stagedBinaries(fetchScriptOf(lt)), [], lt.name);
            for (const p of byType("aws:iam/rolePolicy:RolePolicy")) assert.ok(!p.inputs.policy.includes("binaries"), p.name);
        });

        it("names the weakening in the posture", () => {
            const posture = awsPosture(baseOptions({ binaries: { source: "ami" } }));
            assert.equal(posture.binaries, "ami");
            assert.deepEqual(posture.weakenings.map((w) => w.option), ["aws.binaries.source"]);
            assert.equal(awsPosture(baseOptions()).binaries, "bucket");
            assert.deepEqual(awsPosture(baseOptions()).weakenings, []);
        });
    });
});
