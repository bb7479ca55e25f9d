// The AWS program's in-cluster half (program.ts), applied by the real engine and the real Kubernetes provider to
// the boot drill's control plane: the readiness gate, AdminBootstrap and the pruning of what the apiservers
// publish as their client CAs, then a provider with the admin kubeconfig, then what the nodes need
// (applyNodeAccess: the workers' join, the serving-certificate approver's and the NetworkPolicy enforcer's
// roles; applyClusterDns) and the stack's baseline, the same components in the same order.
// Every value comes from the mock run of the AWS program (real keys and certificates), except the API server's
// address, which is where the drill relays it to.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import type * as auto from "@pulumi/pulumi/automation";
import { parse, stringify } from "yaml";
import { unwrapSecret } from "../unit/program/mock-engine";
import type { StackRun } from "../unit/program/run-stack";
import { programStack, ProgramStack, repoRoot } from "./harness";
import { Credential, request } from "./kube";
import { until } from "./processes";

export const IN_CLUSTER_BINARIES = ["pulumi-resource-pulumi-nodejs", "pulumi-resource-kubernetes"];

const PROGRAM = `
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { AdminBootstrap, AuthenticationTrust } from "./components/pki";
import { ClusterBaseline } from "./components/cluster-baseline";
import { applyClusterDns, applyNodeAccess } from ${JSON.stringify(path.join(repoRoot, "platforms/aws/in-cluster"))};
import { nodeImageRegistries } from ${JSON.stringify(path.join(repoRoot, "platforms/aws/node-images"))};
import { ApiServerReady } from ${JSON.stringify(path.join(repoRoot, "platforms/aws/api-ready"))};

const c = new pulumi.Config();
const ca = { server: c.require("server"), caCertPem: c.require("caCertPem"), caKeyPem: c.requireSecret("caKeyPem"), trustPem: c.require("trustPem") };
const ready = new ApiServerReady("aws-api-ready", { ...ca, timeoutSeconds: 120 });
const bootstrap = new AdminBootstrap("aws-admin-bootstrap", ca, { dependsOn: [ready] });
new AuthenticationTrust("aws-authentication-trust", {
    server: ca.server, signerCertPem: ca.caCertPem, signerKeyPem: ca.caKeyPem, clusterTrustPem: ca.trustPem, frontProxyTrustPem: c.require("frontProxyTrustPem"),
    adminGroup: "kubeadm:cluster-admins", positions: c.require("positions"),
}, { dependsOn: [bootstrap] });
const provider = new k8s.Provider("aws-k8s", { kubeconfig: c.requireSecret("kubeconfig"), enableServerSideApply: true, clusterIdentifier: c.require("clusterName") }, { dependsOn: [bootstrap] });
applyNodeAccess("aws", c.requireSecret("joinTokenSecret"), provider, {});
const dns = c.requireObject<{ image: string; clusterDNS: string[]; clusterDomain: string }>("clusterDns");
applyClusterDns("aws", dns, provider, {});
// The program allows the node images' registry in the baseline's admission policy (platforms/index.ts).
const platformRegistries = nodeImageRegistries([dns.image], "hardened-cluster:aws.binaries");
const baseline = new ClusterBaseline("baseline", { ...c.requireObject<Record<string, unknown>>("baseline"), configKey: "hardened-cluster:baseline", platformRegistries }, { provider });
export const posture = baseline.posture;
`;

/** A kubeconfig with every cluster's server replaced. */
export function withServer(kubeconfig: string, server: string): string {
    const kc = parse(kubeconfig);
    for (const c of kc.clusters) c.cluster.server = server;
    return stringify(kc);
}

/** The in-cluster half's configuration, from what the mock run registered and exported. */
export function inClusterConfig(run: StackRun, server: string, clusterName: string, baseline: unknown): auto.ConfigMap {
    const bootstrap = run.resources.find((r) => r.name === "aws-admin-bootstrap");
    const ready = run.resources.find((r) => r.name === "aws-api-ready");
    const secret = run.resources.find((r) => r.type === "kubernetes:core/v1:Secret" && r.name === "aws-join-token");
    if (!bootstrap || !ready || !secret) throw new Error("the mock run registered no readiness gate, AdminBootstrap or join-token Secret");
    // One set of CA inputs for both: the program gives the gate and AdminBootstrap the same.
    const ca = (r: typeof ready) => ["caCertPem", "caKeyPem", "trustPem"].map((k) => unwrapSecret<string>(r.inputs[k]));
    if (JSON.stringify(ca(ready)) !== JSON.stringify(ca(bootstrap))) throw new Error("the readiness gate and AdminBootstrap were given different CAs");
    const trust = run.resources.find((r) => r.name === "aws-authentication-trust");
    if (!trust) throw new Error("the mock run registered no AuthenticationTrust");
    const t = (k: string) => unwrapSecret<string>(trust.inputs[k]);
    if (JSON.stringify(["signerCertPem", "signerKeyPem", "clusterTrustPem"].map(t)) !== JSON.stringify(ca(bootstrap)) || t("adminGroup") !== "kubeadm:cluster-admins") {
        throw new Error("AuthenticationTrust was given another signer, trust or group than AdminBootstrap's");
    }
    // The cluster's DNS as the program declared it: its image, its Service's address and the Corefile's domain.
    const dns = (type: string) => run.resources.find((r) => r.type === type && r.name.startsWith("aws-dns-"));
    const [deployment, service, config] = ["kubernetes:apps/v1:Deployment", "kubernetes:core/v1:Service", "kubernetes:core/v1:ConfigMap"].map(dns);
    if (!deployment || !service || !config) throw new Error("the mock run registered no cluster DNS");
    const domain = /kubernetes (\S+) in-addr\.arpa/.exec(config.inputs.data.Corefile)?.[1];
    const clusterDns = { image: deployment.inputs.spec.template.spec.containers[0].image, clusterDNS: [service.inputs.spec.clusterIP], clusterDomain: domain };
    const metadata = unwrapSecret<Record<string, unknown>>(secret.inputs.metadata);
    const join = { apiVersion: "v1", kind: "Secret", metadata, type: unwrapSecret(secret.inputs.type), stringData: unwrapSecret(secret.inputs.stringData) };
    return {
        server: { value: server },
        clusterName: { value: clusterName },
        caCertPem: { value: unwrapSecret<string>(bootstrap.inputs.caCertPem) },
        caKeyPem: { value: unwrapSecret<string>(bootstrap.inputs.caKeyPem), secret: true },
        trustPem: { value: unwrapSecret<string>(bootstrap.inputs.trustPem) },
        frontProxyTrustPem: { value: t("frontProxyTrustPem") },
        positions: { value: t("positions") },
        kubeconfig: { value: withServer(unwrapSecret<string>(run.outputs.kubeconfig), server), secret: true },
        joinTokenSecret: { value: stringify(join), secret: true },
        baseline: { value: JSON.stringify(baseline) },
        clusterDns: { value: JSON.stringify(clusterDns) },
    };
}

export async function applyInCluster(config: auto.ConfigMap): Promise<{ ps: ProgramStack; result: auto.UpResult }> {
    const ps = await programStack({ name: "aws-in-cluster", program: PROGRAM, config, binaries: IN_CLUSTER_BINARIES });
    const result = await ps.stack.up({ onOutput: (o) => process.env.HC_E2E_VERBOSE && process.stdout.write(o) });
    return { ps, result };
}

/** A CertificateSigningRequest object for `signer`, with a fresh P-256 key (openssl), and that key's PEM. */
export function certificateRequest(dir: string, subject: string, signer: string, usages: string[], altNames?: string): { csr: Record<string, unknown>; keyPem: string } {
    const key = path.join(dir, `csr-${process.hrtime.bigint()}.key`);
    const r = spawnSync("openssl", ["req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-subj", subject,
        ...(altNames ? ["-addext", `subjectAltName=${altNames}`] : [])], { encoding: "utf8" });
    if (r.status !== 0) throw new Error(`openssl: ${r.stderr}`);
    const keyPem = fs.readFileSync(key, "utf8");
    fs.rmSync(key);
    return {
        csr: {
            apiVersion: "certificates.k8s.io/v1",
            kind: "CertificateSigningRequest",
            metadata: { generateName: "node-csr-" },
            spec: { request: Buffer.from(r.stdout).toString("base64"), signerName: signer, usages },
        },
        keyPem,
    };
}

/** A kubelet's first request: a node-client CSR for system:node:<name>. */
export function nodeClientCsr(dir: string, node: string): Record<string, unknown> {
    return certificateRequest(dir, `/O=system:nodes/CN=system:node:${node}`, "kubernetes.io/kube-apiserver-client-kubelet", ["digital signature", "client auth"]).csr;
}

/**
 * A kubelet's join as it performs it, its key kept: with the bootstrap token it files a node-client CSR, which
 * the controller manager approves and signs; as system:node:<name> it then registers its Node and reports its
 * address (NodeRestriction: its own only). Returns that credential.
 */
export async function joinNode(dir: string, token: Credential, admin: Credential, node: string, address: string): Promise<Credential> {
    const client = certificateRequest(dir, `/O=system:nodes/CN=system:node:${node}`, "kubernetes.io/kube-apiserver-client-kubelet", ["digital signature", "client auth"]);
    const created = await request(token, "POST", "/apis/certificates.k8s.io/v1/certificatesigningrequests", client.csr);
    if (created.status !== 201) throw new Error(`${node}: CSR ${created.status} ${created.body}`);
    const name = created.json().metadata.name as string;
    const signed = await until(`${node}'s client certificate signed`, 90, async () => {
        const r = (await request(admin, "GET", `/apis/certificates.k8s.io/v1/certificatesigningrequests/${name}`)).json();
        return r.status?.certificate ? r : undefined;
    });
    const kubelet: Credential = { server: token.server, caPem: admin.caPem, certPem: Buffer.from(signed.status.certificate, "base64").toString(), keyPem: client.keyPem };
    const registered = await request(kubelet, "POST", "/api/v1/nodes", { apiVersion: "v1", kind: "Node", metadata: { name: node } });
    if (registered.status !== 201) throw new Error(`${node}: Node ${registered.status} ${registered.body}`);
    // The controller manager writes the new Node too (taints, its Pod range), so a write can meet a newer version: read again.
    await until(`${node}'s addresses reported`, 30, async () => {
        const n = (await request(kubelet, "GET", `/api/v1/nodes/${node}`)).json();
        n.status = { ...n.status, addresses: [{ type: "InternalIP", address }, { type: "Hostname", address: node }] };
        const put = await request(kubelet, "PUT", `/api/v1/nodes/${node}/status`, n);
        if (put.status !== 200 && put.status !== 409) throw new Error(`${node}: status ${put.status} ${put.body}`);
        return put.status === 200 ? true : undefined;
    });
    return kubelet;
}
