// Shared inputs for the AWS specs: options, the units and files the AWS program would hand each node, and Pulumi
// mocks that record every registered resource with fake but well-formed outputs.
import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { AwsClusterArgs, AwsOptions, ControlPlaneNode, NodeSoftware, secretParameters } from "../../../platforms/aws";
import { decodeUserData } from "../../../platforms/aws/userdata";

export const CLUSTER = "prod1";
export const REGION = "eu-west-1";
export const ACCOUNT = "123456789012";
export const AMI = "ami-0123456789abcdef0";
/** The workers EC2 lists as running, for the cluster CA's gates. */
export const WORKER_IPS = ["10.0.64.21", "10.0.0.20"];
/** Every data-source call the mocks answered, in order. */
export const calls: { token: string; inputs: Record<string, any> }[] = [];
/** Stands for key material; the specs check it never reaches user data. */
export const FAKE_KEY = "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIFAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKE\n-----END EC PRIVATE KEY-----\n";
export const FAKE_CA = "-----BEGIN CERTIFICATE-----\nMIIBFAKECERTIFICATE\n-----END CERTIFICATE-----\n";

/** The first fixed address of the default VPC's internal NLB: what the program plan makes the server. */
export const API_SERVER_URL = "https://10.0.0.5:6443";

/** What the nodes run from /usr/local/bin, each a small executable whose content names it (so digests differ). */
export const PUBLISHED = ["etcd", "etcdctl", "etcdutl", "hc-aws-kms-plugin", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubelet"];
/** What the AWS program adds to the nodes' planned processes (serving-approver.ts, the workers' kube-proxy and enforcer); the fixtures' own software lacks them. */
export const PROGRAM_ADDED = ["hc-csr-approver", "kube-proxy", "kube-router", "flanneld"];
/** The CNI plugins the workers' containerd calls, which AwsCluster publishes from the directory's cni/. */
export const CNI_PUBLISHED = ["bridge", "host-local", "loopback", "portmap"];
/** The node images the workers import, which AwsCluster publishes from the directory's images/. */
export const IMAGES_PUBLISHED = ["pause", "coredns"];
export const imageName = (image: string) => `localhost/hardened-cluster/${image}:0123456789ab`;
let binDir: string | undefined;

/**
 * A stand-in OCI image archive as the toolchain's mkimage writes one: an index naming its one image with the
 * annotation `ctr images import` names it by (the blobs are not read by the program).
 */
export function writeImageArchive(file: string, name: string): void {
    const dir = mkdtempSync(path.join(tmpdir(), "hc-image-"));
    try {
        writeFileSync(path.join(dir, "oci-layout"), JSON.stringify({ imageLayoutVersion: "1.0.0" }));
        writeFileSync(path.join(dir, "index.json"), JSON.stringify({
            schemaVersion: 2, mediaType: "application/vnd.oci.image.index.v1+json",
            manifests: [{ mediaType: "application/vnd.oci.image.manifest.v1+json", digest: `sha256:${"0".repeat(64)}`, size: 1, annotations: { "io.containerd.image.name": name } }],
        }));
        const r = spawnSync("tar", ["-cf", file, "-C", dir, "oci-layout", "index.json"], { encoding: "utf8" });
        assert.equal(r.status, 0, r.stderr);
    } finally {
        rmSync(dir, { recursive: true, force: true });
    }
}

/** A directory of stand-ins for the toolchain's binaries, made once per process. */
export function fakeBinDir(): string {
    if (binDir === undefined) {
        const dir = mkdtempSync(path.join(tmpdir(), "hc-aws-bin-"));
        binDir = dir;
        process.once("exit", () => rmSync(dir, { recursive: true, force: true }));
        mkdirSync(path.join(dir, "cni"));
        for (const b of [...PUBLISHED, ...PROGRAM_ADDED, ...CNI_PUBLISHED.map((p) => `cni/${p}`)]) {
            writeFileSync(path.join(dir, b), `#!/bin/sh\necho ${b}\n`);
            chmodSync(path.join(dir, b), 0o755);
        }
        mkdirSync(path.join(dir, "images"));
        for (const i of IMAGES_PUBLISHED) writeImageArchive(path.join(dir, "images", `${i}.tar`), imageName(i));
    }
    return binDir;
}

export function baseOptions(extra: Partial<AwsOptions> = {}): AwsOptions {
    return { clusterName: CLUSTER, region: REGION, apiAllowedCidrs: ["198.51.100.0/24"], binaries: { directory: fakeBinDir() }, ...extra };
}

export const NODE_NAMES = ["cp-0", "cp-1", "cp-2"];

export function plannedSecrets(nodes = NODE_NAMES) {
    return secretParameters(CLUSTER, nodes, [
        ...nodes.map((node) => ({ fileId: "etcd-peer.key", scope: { node } })),
        { fileId: "sa.key", scope: "control-plane" as const },
        { fileId: "etcd-healthcheck-client.key", scope: "control-plane" as const },
    ]);
}

export function cpSoftware(node: ControlPlaneNode): NodeSoftware {
    return {
        units: [
            { name: "etcd", description: "etcd member", user: "etcd", execStart: ["/usr/local/bin/etcd", `--name=${node.name}`, "--data-dir=/var/lib/etcd", `--listen-client-urls=https://127.0.0.1:2379,https://${node.privateIp}:2379`, `--listen-peer-urls=https://${node.privateIp}:2380`] },
            {
                name: "kube-apiserver",
                description: "Kubernetes API server",
                user: "kube-apiserver",
                after: ["etcd.service", "aws-encryption-provider.service"],
                execStart: ["/usr/local/bin/kube-apiserver", "--encryption-provider-config=/etc/kubernetes/encryption-config.yaml", "--tls-cipher-suites=TLS_AES_128_GCM_SHA256,TLS_AES_256_GCM_SHA384", "--event-ttl=1h0m0s"],
            },
            { name: "kube-controller-manager", description: "Kubernetes controller manager", user: "kube-controller-manager", execStart: ["/usr/local/bin/kube-controller-manager", "--profiling=false"] },
            { name: "kube-scheduler", description: "Kubernetes scheduler", user: "kube-scheduler", execStart: ["/usr/local/bin/kube-scheduler", "--profiling=false"] },
        ],
        files: [
            { path: "/etc/kubernetes/pki/ca.crt", content: FAKE_CA, mode: 0o644 },
            { path: "/etc/kubernetes/pki/etcd/peer.key", ssmParameter: `/${CLUSTER}/${node.name}/etcd-peer.key`, mode: 0o600, owner: "etcd" },
            { path: "/etc/kubernetes/pki/sa.key", ssmParameter: `/${CLUSTER}/control-plane/sa.key`, mode: 0o600, owner: "kube-controller-manager" },
            // What the etcd backup reads: the etcd client pair and CA, and the CAs a bundle records.
            { path: "/etc/kubernetes/pki/etcd/ca.crt", content: FAKE_CA, mode: 0o644 },
            { path: "/etc/kubernetes/pki/front-proxy-ca.crt", content: FAKE_CA, mode: 0o644 },
            { path: "/etc/kubernetes/pki/etcd/healthcheck-client.crt", content: FAKE_CA, mode: 0o644 },
            { path: "/etc/kubernetes/pki/etcd/healthcheck-client.key", ssmParameter: `/${CLUSTER}/control-plane/etcd-healthcheck-client.key`, mode: 0o600 },
        ],
    };
}

export function kubeletConfiguration(): Record<string, unknown> {
    return {
        apiVersion: "kubelet.config.k8s.io/v1beta1",
        kind: "KubeletConfiguration",
        authentication: { anonymous: { enabled: false }, webhook: { enabled: true, cacheTTL: "2m0s" }, x509: { clientCAFile: "/etc/kubernetes/pki/ca.crt" } },
        authorization: { mode: "Webhook" },
        readOnlyPort: 0,
        serverTLSBootstrap: true,
        rotateCertificates: true,
        protectKernelDefaults: true,
    };
}

export function clusterArgs(extra: Partial<AwsClusterArgs> = {}): AwsClusterArgs {
    return {
        options: baseOptions(),
        controlPlane: cpSoftware,
        workers: {
            units: [{
                name: "kubelet",
                description: "Kubernetes node agent",
                execStart: ["/usr/local/bin/kubelet", "--config=/etc/kubernetes/kubelet-config.yaml", "--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf", "--kubeconfig=/etc/kubernetes/kubelet.conf"],
            }],
            files: [],
            kubeletConfiguration: kubeletConfiguration(),
        },
        secrets: plannedSecrets().map((p) => ({ name: p.name, value: pulumi.secret(FAKE_KEY) })),
        clusterCaPem: FAKE_CA,
        clusterSigningCaPem: FAKE_CA,
        apiServerUrl: API_SERVER_URL,
        nowMs: Date.UTC(2030, 0, 1, 12),
        ...extra,
    };
}

export interface Registered {
    type: string;
    name: string;
    inputs: any;
}

export const registered: Registered[] = [];

function fakeRandom(name: string, length: number): string {
    let s = "";
    for (let i = 0; s.length < length; i++) s += ((name.charCodeAt(i % name.length) * (i + 7)) % 36).toString(36);
    return s;
}

/** A PEM block whose body is the base64 of `name`. */
export function fakePem(label: string, name: string): string {
    return `-----BEGIN ${label}-----\n${Buffer.from(name).toString("base64")}\n-----END ${label}-----\n`;
}

export function setAwsMocks(): Promise<void> {
    return pulumi.runtime.setMocks({
        newResource(args: pulumi.runtime.MockResourceArgs) {
            registered.push({ type: args.type, name: args.name, inputs: args.inputs });
            const state: Record<string, unknown> = { ...args.inputs, arn: `arn:aws:mock:${REGION}:${ACCOUNT}:${args.type.split(":").pop()}/${args.name}` };
            if (state.name === undefined) state.name = args.name;
            if (args.type === "aws:ec2/launchTemplate:LaunchTemplate") state.latestVersion = 1;
            if (args.type === "aws:lb/loadBalancer:LoadBalancer") state.dnsName = `${args.name}.elb.${REGION}.amazonaws.com`;
            if (args.type === "aws:kms/key:Key") state.keyId = `key-${args.name}`;
            // What AWS does with a bucketPrefix: the prefix and a generated suffix.
            if (args.type === "aws:s3/bucket:Bucket") state.bucket = `${args.inputs.bucketPrefix}20261203abcdef`;
            if (args.type === "random:index/randomString:RandomString") state.result = fakeRandom(args.name, args.inputs.length);
            // tls: well-formed PEM blocks that carry the resource name, so a spec can trace any key it finds.
            if (args.type === "tls:index/privateKey:PrivateKey") {
                state.privateKeyPem = fakePem("EC PRIVATE KEY", args.name);
                state.publicKeyPem = fakePem("PUBLIC KEY", args.name);
            }
            if (args.type === "tls:index/selfSignedCert:SelfSignedCert" || args.type === "tls:index/locallySignedCert:LocallySignedCert") {
                state.certPem = fakePem("CERTIFICATE", args.name);
            }
            if (args.type === "tls:index/certRequest:CertRequest") state.certRequestPem = fakePem("CERTIFICATE REQUEST", args.name);
            return { id: `${args.name}-id`, state };
        },
        call(args: pulumi.runtime.MockCallArgs) {
            calls.push({ token: args.token, inputs: args.inputs });
            switch (args.token) {
                case "aws:index/getCallerIdentity:getCallerIdentity":
                    return { accountId: ACCOUNT, arn: `arn:aws:iam::${ACCOUNT}:user/deployer`, userId: "AIDAEXAMPLE", id: ACCOUNT };
                case "aws:index/getPartition:getPartition":
                    return { partition: "aws", dnsSuffix: "amazonaws.com", id: "aws" };
                case "aws:index/getAvailabilityZones:getAvailabilityZones":
                    return { names: [`${REGION}a`, `${REGION}b`, `${REGION}c`], id: REGION };
                case "aws:ssm/getParameter:getParameter":
                    return { value: AMI, name: args.inputs.name, id: args.inputs.name };
                // One node reported: the CA rotation gates' reports.
                case "aws:ssm/getParametersByPath:getParametersByPath":
                    return { names: [`${args.inputs.path}/cp-0`], values: ['{"node":"cp-0"}'], types: ["String"], arns: [], id: args.inputs.path };
                // Two running workers, listed as EC2 lists them (in no particular order).
                case "aws:ec2/getInstances:getInstances":
                    return { ids: ["i-0b", "i-0a"], privateIps: WORKER_IPS, publicIps: [], ipv6Addresses: [], id: REGION };
                default:
                    return args.inputs;
            }
        },
    }, "hardened-cluster", "unit", false);
}

/** Waits until no resource has been registered for a while: inputs resolve asynchronously. */
export async function settle(): Promise<void> {
    let quiet = 0;
    let last = -1;
    while (quiet < 5) {
        await new Promise((r) => setTimeout(r, 20));
        quiet = registered.length === last ? quiet + 1 : 0;
        last = registered.length;
    }
}

export function valueOf<T>(o: pulumi.Output<T>): Promise<T> {
    return new Promise((resolve) => o.apply((v) => resolve(v)));
}

export function byType(type: string): Registered[] {
    return registered.filter((r) => r.type === type);
}

/** The resources of one bucket named `name` (the bucket itself and its `<name>-*` settings), of a type. */
export function bucketResources(name: string): (type: string) => Registered[] {
    return (type) => byType(type).filter((x) => x.name === name || x.name.startsWith(`${name}-`));
}

/**
 * What every cluster bucket has (clusterBucketSettings): SSE-KMS by the cluster key with no bucket key, public
 * access blocked, versioned, owner-enforced, noncurrent versions kept 7 days and unfinished uploads 1.
 */
export function assertClusterBucket(mine: (type: string) => Registered[], clusterKeyArn: string): void {
    const [sse] = mine("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration");
    assert.deepEqual(sse.inputs.rules, [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: clusterKeyArn }, bucketKeyEnabled: false }]);
    const [pab] = mine("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock");
    for (const k of ["blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"]) assert.equal(pab.inputs[k], true, k);
    assert.equal(mine("aws:s3/bucketVersioning:BucketVersioning")[0].inputs.versioningConfiguration.status, "Enabled");
    assert.equal(mine("aws:s3/bucketOwnershipControls:BucketOwnershipControls")[0].inputs.rule.objectOwnership, "BucketOwnerEnforced");
    const [rule] = mine("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration")[0].inputs.rules;
    assert.equal(rule.noncurrentVersionExpiration.noncurrentDays, 7);
    assert.equal(rule.abortIncompleteMultipartUpload.daysAfterInitiation, 1);
}

export function userDataOf(lt: Registered): string {
    return decodeUserData(lt.inputs.userData);
}
