// awsProgram on the mocked engine: what reaches each node's user data, what becomes an SSM parameter, and
// how the cluster, the readiness gate, AdminBootstrap and the k8s provider are chained.
import { strict as assert } from "node:assert";
import * as pulumi from "@pulumi/pulumi";
import { parse } from "yaml";
import { auditLogFiles } from "../../../components/audit";
import { kubeadmLayout } from "../../../components/common";
import { ControlPlaneOptions, renderControlPlane } from "../../../components/control-plane";
import type { AwsPosture } from "../../../platforms/aws/posture";
import { awsProgram, AwsProgram, AwsProgramArgs } from "../../../platforms/aws/program";
import { planAwsProgram } from "../../../platforms/aws/program-plan";
import { FETCH_SCRIPT_PATH } from "../../../platforms/aws/secrets";
import { execLine } from "../../../platforms/aws/systemd";
import { baseOptions, byType, imageName, registered, setAwsMocks, settle, userDataOf, valueOf } from "./fixtures";

const LT = "aws:ec2/launchTemplate:LaunchTemplate";
const PARAM = "aws:ssm/parameter:Parameter";
const NS = "hardened-cluster";
// Default VPC 10.0.0.0/16: private subnets 10.0.0.0/19, 10.0.32.0/19, 10.0.64.0/19; nodes at .10, the NLB at .5.
const NODE_IPS = ["10.0.0.10", "10.0.32.10", "10.0.64.10"];
const NLB_IPS = ["10.0.0.5", "10.0.32.5", "10.0.64.5"];

// Non-default settings, so "the same options" is a statement about more than the defaults.
const CONTROL_PLANE = { apiServer: { extraArgs: { "event-ttl": "2h0m0s" } }, controllerManager: { terminatedPodGcThreshold: 500 } };
const AUDIT = { preset: "strict" as const, maxAge: 60 };

function programArgs(): AwsProgramArgs {
    const plan = planAwsProgram({
        stack: "prod",
        aws: baseOptions(),
        settings: { audit: AUDIT, controlPlane: CONTROL_PLANE },
        keys: { aws: `${NS}:aws`, pki: `${NS}:pki`, encryption: `${NS}:encryption`, audit: `${NS}:audit`, controlPlane: `${NS}:controlPlane` },
    });
    return { name: "p", plan, nowMs: Date.UTC(2030, 0, 1, 12) };
}

interface WriteFile { path: string; content: string; permissions: string; owner: string }

function cloudConfigOf(node: string): { files: WriteFile[]; fetched: { parameter: string; path: string; mode: string; owner: string; kind: string; restarts: string }[] } {
    const lt = byType(LT).find((r) => r.name === `p-cp-${node}`);
    assert.ok(lt, `launch template of ${node}`);
    const doc = parse(userDataOf(lt!).replace(/^#cloud-config\n/, ""));
    const files: WriteFile[] = doc.write_files;
    const script = files.find((f) => f.path === FETCH_SCRIPT_PATH)!.content;
    const fetched = script.split("\n").filter((l) => l.startsWith("stage ")).map((l) => {
        const [, parameter, path, mode, owner, kind, restarts] = l.split(" ");
        return { parameter, path, mode, owner, kind, restarts };
    });
    return { files, fetched };
}

function execStartOf(files: WriteFile[], unit: string): string {
    const f = files.find((x) => x.path === `/etc/systemd/system/${unit}.service`);
    assert.ok(f, `${unit}.service`);
    const line = f!.content.split("\n").find((l) => l.startsWith("ExecStart="));
    return line!.slice("ExecStart=".length);
}

/** The options a control-plane node's flags must come from, written out here rather than taken from the plan. */
function expectedOptions(i: number): ControlPlaneOptions {
    return {
        ...CONTROL_PLANE,
        audit: AUDIT,
        network: { advertiseAddress: NODE_IPS[i], etcdMembers: NODE_IPS.map((ip, j) => ({ name: `cp-${j}`, ip })) },
    };
}

function unwrapSecret(v: any): { value: string; secret: boolean } {
    const sig = pulumi.runtime.specialSigKey;
    if (v && typeof v === "object" && v[sig] === pulumi.runtime.specialSecretSig) return { value: v.value, secret: true };
    return { value: v, secret: false };
}

/** Removes every secret envelope in a structure, for reading values. */
function plain(v: any): any {
    const u = unwrapSecret(v).value as any;
    if (Array.isArray(u)) return u.map(plain);
    if (u && typeof u === "object") return Object.fromEntries(Object.entries(u).map(([k, x]) => [k, plain(x)]));
    return u;
}

describe("aws: awsProgram (mocked engine)", function () {
    this.timeout(60000);
    before(() => setAwsMocks());

    let program: AwsProgram;
    const deps = new Map<string, pulumi.Input<pulumi.Resource>[]>();
    const providers = new Map<string, pulumi.ProviderResource | undefined>();
    before(async () => {
        registered.splice(0);
        // Transformations see each resource's options, which the mock monitor does not: that is where dependsOn is.
        const root = new pulumi.ComponentResource("test:index:Root", "program-root", {}, {
            transformations: [(a) => {
                const d = a.opts.dependsOn;
                deps.set(`${a.type}::${a.name}`, d === undefined ? [] : Array.isArray(d) ? d : [d as pulumi.Input<pulumi.Resource>]);
                // A component takes its providers by package; its children inherit them.
                const byPackage = (a.opts as pulumi.ComponentResourceOptions).providers as Record<string, pulumi.ProviderResource> | undefined;
                providers.set(`${a.type}::${a.name}`, (a.opts as pulumi.CustomResourceOptions).provider ?? byPackage?.kubernetes);
                return undefined;
            }],
        });
        program = awsProgram(programArgs(), { parent: root });
        await settle();
    });

    it("runs each unit with exactly the shared renderer's argv, byte for byte in the user data", function () {
        const layout = kubeadmLayout();
        const etcdLayout = { ...layout, etcdPkiDir: "/etc/etcd/pki" };
        NODE_IPS.forEach((_, i) => {
            const { files } = cloudConfigOf(`cp-${i}`);
            const cp = renderControlPlane(expectedOptions(i), layout, `${NS}:controlPlane`);
            const etcd = renderControlPlane(expectedOptions(i), etcdLayout, `${NS}:controlPlane`).etcd[i];
            const expected: Record<string, string[]> = {
                "kube-apiserver": ["/usr/local/bin/kube-apiserver", ...cp.apiServer.args],
                // Plus their serving pair from the cluster CA, which the shared renderer leaves to the cluster plan.
                "kube-controller-manager": ["/usr/local/bin/kube-controller-manager", ...cp.controllerManager.args,
                    "--tls-cert-file=/etc/kubernetes/pki/kube-controller-manager.crt", "--tls-private-key-file=/etc/kubernetes/pki/kube-controller-manager.key"],
                "kube-scheduler": ["/usr/local/bin/kube-scheduler", ...cp.scheduler.args,
                    "--tls-cert-file=/etc/kubernetes/pki/kube-scheduler.crt", "--tls-private-key-file=/etc/kubernetes/pki/kube-scheduler.key"],
                etcd: ["/usr/local/bin/etcd", ...etcd.args],
            };
            for (const [unit, argv] of Object.entries(expected)) {
                assert.equal(execStartOf(files, unit), execLine(argv), `cp-${i} ${unit}`);
            }
            // The options really differ per node: each advertises its own address.
            assert.ok(cp.apiServer.args.includes(`--advertise-address=${NODE_IPS[i]}`));
            assert.ok(cp.apiServer.args.includes("--event-ttl=2h0m0s"));
        });
    });

    it("puts no key, kubeconfig credential or encryption config into any user data", function () {
        const lts = byType(LT);
        assert.equal(lts.length, 4);
        for (const lt of lts) {
            const text = userDataOf(lt);
            assert.doesNotMatch(text, /PRIVATE KEY/, lt.name);
            assert.doesNotMatch(text, /client-key-data/, lt.name);
            assert.doesNotMatch(text, /EncryptionConfiguration/, lt.name);
            // The join Secret's name (bootstrap-token-<id>) or a kubeconfig's token key; the apiserver's
            // --enable-bootstrap-token-auth flag names no token, and the IMDSv2 header the report sends holds none.
            assert.doesNotMatch(text, /bootstrap-token-[a-z0-9]{6}\b|^\s*(- )?token:/m, lt.name);
        }
    });

    it("fetches every secret file from a SecureString parameter holding a secret value", async function () {
        const params = new Map(byType(PARAM).map((p) => [p.inputs.name, p]));
        for (let i = 0; i < 3; i++) {
            const { fetched, files } = cloudConfigOf(`cp-${i}`);
            const fetchedPaths = fetched.map((f) => f.path);
            for (const p of ["/etc/kubernetes/pki/ca.key", "/etc/kubernetes/pki/apiserver.key", "/etc/kubernetes/pki/sa.key",
                "/etc/kubernetes/controller-manager.conf", "/etc/kubernetes/scheduler.conf", "/etc/kubernetes/encryption-config.yaml",
                "/etc/etcd/pki/server.key", "/etc/etcd/pki/peer.key"]) {
                assert.ok(fetchedPaths.includes(p), `cp-${i} fetches ${p}`);
                assert.ok(!files.some((f) => f.path === p), `cp-${i} has ${p} inline`);
            }
            for (const f of fetched) {
                const param = params.get(f.parameter);
                assert.ok(param, `${f.parameter} exists`);
                assert.equal(param!.inputs.type, "SecureString", f.parameter);
                assert.ok(unwrapSecret(param!.inputs.value).secret, `${f.parameter} is a Pulumi secret`);
            }
            // etcd's server and peer keys are this node's own; nobody else's are fetched. Its certificates are fetched
            // too, as the node's own parameters (a renewal or CA rotation changes them on a running node).
            assert.deepEqual(fetched.filter((f) => f.path.startsWith("/etc/etcd/")).map((f) => f.parameter).sort(),
                [`/prod1/cp-${i}/etcd-pki-ca.crt`, `/prod1/cp-${i}/etcd-pki-peer.crt`, `/prod1/cp-${i}/etcd-pki-peer.key`, `/prod1/cp-${i}/etcd-pki-server.crt`, `/prod1/cp-${i}/etcd-pki-server.key`]);
        }
        // Each etcd key parameter holds that member's key, and no parameter holds anything but key material or configs.
        const server1 = unwrapSecret(params.get("/prod1/cp-1/etcd-pki-server.key")!.inputs.value).value;
        assert.match(server1, /BEGIN EC PRIVATE KEY/);
        assert.equal(Buffer.from(server1.split("\n")[1], "base64").toString(), "p-pki-etcd-server-cp-1");
    });

    it("keeps keys and kubeconfigs root:root 0600 under /etc/kubernetes, but the approver's (root:csr-approver 0640), and etcd's own keys root:etcd 0640 outside it", function () {
        const { fetched, files } = cloudConfigOf("cp-0");
        for (const f of fetched) {
            // Certificates (fetched so a renewal reaches a running node) are readable by all, writable by root alone.
            const mode = f.kind === "public" ? "0644" : undefined;
            assert.equal(f.kind === "public", /\.(crt|pub)$/.test(f.path), f.path);
            if (f.path.startsWith("/etc/kubernetes/csr-approver/")) assert.deepEqual([f.mode, f.owner], [mode ?? "0640", "root:csr-approver"], f.path);
            else if (f.path.startsWith("/etc/kubernetes/")) assert.deepEqual([f.mode, f.owner], [mode ?? "0600", "root:root"], f.path);
            else assert.deepEqual([f.path.startsWith("/etc/etcd/pki/"), f.mode, f.owner], [true, mode ?? "0640", "root:etcd"], f.path);
        }
        // Nothing from the PKI is in user data, which a running node never reads again.
        assert.deepEqual(files.filter((f) => /^\/etc\/(kubernetes|etcd)\/pki\//.test(f.path)).map((f) => f.path), []);
        assert.ok(fetched.some((f) => f.path === "/etc/etcd/pki/ca.crt" && f.mode === "0644" && f.owner === "root:etcd"));
        // Nothing on a control-plane node reads the admin or kubelet kubeconfigs.
        for (const p of ["/etc/kubernetes/admin.conf", "/etc/kubernetes/super-admin.conf", "/etc/kubernetes/kubelet.conf"]) {
            assert.ok(!fetched.some((f) => f.path === p) && !files.some((f) => f.path === p), p);
        }
        assert.ok(files.some((f) => f.path === auditLogFiles(kubeadmLayout()).policyFile && f.permissions === "0600"));
    });

    it("has a sync restart exactly the units that read a replaced file and do not reload it themselves", function () {
        const { fetched } = cloudConfigOf("cp-0");
        const restarts = (p: string) => {
            const f = fetched.find((x) => x.path === p);
            assert.ok(f, p);
            return f!.restarts === "-" ? [] : f!.restarts.split(",");
        };
        assert.deepEqual(restarts("/etc/kubernetes/pki/apiserver.crt"), ["kube-apiserver"]);
        assert.deepEqual(restarts("/etc/etcd/pki/server.crt"), ["etcd"]);
        assert.deepEqual(restarts("/etc/etcd/pki/peer.key"), ["etcd"]);
        assert.deepEqual(restarts("/etc/kubernetes/pki/sa.key").sort(), ["kube-apiserver", "kube-controller-manager"]);
        assert.deepEqual(restarts("/etc/kubernetes/controller-manager.conf"), ["kube-controller-manager"]);
        assert.deepEqual(restarts("/etc/kubernetes/csr-approver/client.key"), ["csr-approver"]);
        // --encryption-provider-config-automatic-reload: the apiserver reads a new key itself.
        assert.deepEqual(restarts("/etc/kubernetes/encryption-config.yaml"), []);
        // Every file has a reader to restart but the encryption config, the etcd health-check pair (read only by
        // the backup and its checks) and what a component's kubeconfig names by path (client-go reads it again).
        const none = fetched.filter((f) => f.restarts === "-").map((f) => f.path);
        assert.ok(none.length < fetched.length / 2, none.join(" "));
        const workers = parse(userDataOf(byType(LT).find((r) => r.name === "p-workers")!).replace(/^#cloud-config\n/, ""));
        const script = (workers.write_files as WriteFile[]).find((f) => f.path === FETCH_SCRIPT_PATH)!.content;
        const lines = script.split("\n").filter((l) => l.startsWith("stage ")).map((l) => l.split(" ")).map((w) => [w[2], w[6]]);
        assert.deepEqual(lines.sort(), [
            ["/etc/kubernetes/bootstrap-kubelet.conf", "-"], ["/etc/kubernetes/kube-proxy.conf", "kube-proxy"], ["/etc/kubernetes/kube-router.conf", "kube-router"],
            // The kubelet verifies clients and the API with it; flanneld acts as the node through the kubeconfig
            // the kubelet wrote, which names it (pkg/kubelet/certificate/bootstrap copies the file reference).
            ["/etc/kubernetes/pki/ca.crt", "kubelet,flanneld"],
            // Read by the sync's kubelet rejoin alone.
            ["/etc/kubernetes/pki/cluster-signing-ca.crt", "-"],
        ]);
    });

    it("encrypts Secrets with KMS v2 through the plugin, which runs on every control-plane node", async function () {
        const param = byType(PARAM).find((p) => p.inputs.name === "/prod1/control-plane/encryption-config.yaml")!;
        const cfg = parse(unwrapSecret(param.inputs.value).value);
        assert.equal(cfg.kind, "EncryptionConfiguration");
        assert.deepEqual(cfg.resources[0].providers, [{ kms: { apiVersion: "v2", name: "aws-kms", endpoint: "unix:///var/run/kmsplugin/socket.sock" } }]);
        for (let i = 0; i < 3; i++) {
            const { files } = cloudConfigOf(`cp-${i}`);
            assert.match(execStartOf(files, "aws-encryption-provider"), /--listen=\/var\/run\/kmsplugin\/socket\.sock/);
            const apiserver = files.find((f) => f.path === "/etc/systemd/system/kube-apiserver.service")!.content;
            assert.match(apiserver, /^Requires=.*aws-encryption-provider\.service/m);
            assert.match(execStartOf(files, "kube-apiserver"), / --encryption-provider-config=\/etc\/kubernetes\/encryption-config\.yaml /);
        }
    });

    it("points the controller manager and scheduler at their own apiserver, and admins at the NLB's fixed address", async function () {
        const params = new Map(byType(PARAM).map((p) => [p.inputs.name, p]));
        for (const id of ["kubernetes-controller-manager.conf", "kubernetes-scheduler.conf"]) {
            const kc = parse(unwrapSecret(params.get(`/prod1/control-plane/${id}`)!.inputs.value).value);
            assert.equal(kc.clusters[0].cluster.server, "https://127.0.0.1:6443", id);
        }
        assert.equal(await valueOf(program.server), `https://${NLB_IPS[0]}:6443`);
        assert.equal(parse(await valueOf(program.kubeconfig)).clusters[0].cluster.server, `https://${NLB_IPS[0]}:6443`);
        // Each node serves with its own certificate: the NLB's addresses, loopback and its own address only.
        const csrs = NODE_IPS.map((_, i) => byType("tls:index/certRequest:CertRequest").find((r) => r.name === `p-pki-apiserver-cp-${i}`));
        assert.equal(csrs.filter((c) => c !== undefined).length, 3);
        NODE_IPS.forEach((own, i) => {
            const ips: string[] = csrs[i]!.inputs.ipAddresses;
            for (const ip of [...NLB_IPS, own, "127.0.0.1"]) assert.ok(ips.includes(ip), `cp-${i} ${ip}`);
            for (const other of NODE_IPS.filter((x) => x !== own)) assert.ok(!ips.includes(other), `cp-${i} names ${other}`);
        });
    });

    it("chains the cluster, the readiness gate, AdminBootstrap and the k8s provider", function () {
        const dyn = "pulumi-nodejs:dynamic/hardened-cluster";
        const ready = deps.get(`${dyn}:ApiServerReady::p-api-ready`);
        const bootstrap = deps.get(`${dyn}:AdminBootstrap::p-admin-bootstrap`);
        const provider = deps.get("pulumi:providers:kubernetes::p-k8s");
        assert.ok(ready && bootstrap && provider, "all three registered");
        assert.ok(ready!.includes(program.cluster), "the gate waits for the whole AwsCluster");
        const readyRes = (bootstrap as pulumi.Resource[]).find((r) => (r as any).__name === "p-api-ready");
        assert.ok(readyRes, "AdminBootstrap waits for the gate");
        assert.ok((provider as pulumi.Resource[]).some((r) => (r as any).__name === "p-admin-bootstrap"), "the provider waits for AdminBootstrap");
        const boot = byType(`${dyn}:AdminBootstrap`).find((r) => r.name === "p-admin-bootstrap")!;
        assert.equal(boot.inputs.server, `https://${NLB_IPS[0]}:6443`);
        assert.equal(boot.inputs.group, "kubeadm:cluster-admins");
        assert.ok(unwrapSecret(boot.inputs.caKeyPem).secret, "the CA key reaches the bootstrap only as a secret");
    });

    it("applies the join token and worker bootstrap bindings through the program's provider", function () {
        const crbs = byType("kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding").filter((c) => c.inputs.roleRef.name.startsWith("system:"));
        assert.deepEqual(crbs.map((c) => c.inputs.roleRef.name).sort(), [
            "system:certificates.k8s.io:certificatesigningrequests:nodeclient",
            "system:certificates.k8s.io:certificatesigningrequests:selfnodeclient",
            "system:node-bootstrapper",
        ]);
        const secret = byType("kubernetes:core/v1:Secret").find((x) => x.name === "p-join-token")!;
        // Fields parsed from the (secret) token YAML stay secret; the values are the bootstrap-token format's.
        assert.ok(unwrapSecret(secret.inputs.stringData).secret);
        const s = plain(secret.inputs);
        assert.equal(s.type, "bootstrap.kubernetes.io/token");
        assert.equal(s.metadata.namespace, "kube-system");
        assert.match(s.metadata.name, /^bootstrap-token-[a-z0-9]{6}$/);
        assert.equal(s.stringData["auth-extra-groups"], "system:bootstrappers:hardened-cluster:workers");
        for (const r of [secret, ...crbs]) assert.equal(providers.get(`${r.type}::${r.name}`), program.provider, r.name);
    });

    it("applies the cluster's DNS through the program's provider, from the CoreDNS image the workers import, at the kubelets' clusterDNS, without waiting for Pods", function () {
        const dns = registered.filter((r) => r.type === "hardened-cluster:cluster-dns:ClusterDns");
        assert.deepEqual(dns.map((d) => d.name), ["p-dns"]);
        assert.equal(providers.get("hardened-cluster:cluster-dns:ClusterDns::p-dns"), program.provider);
        const deployment = byType("kubernetes:apps/v1:Deployment").find((d) => d.name === "p-dns-deployment")!;
        const service = byType("kubernetes:core/v1:Service").find((d) => d.name === "p-dns-service")!;
        assert.ok(deployment && service);
        assert.deepEqual(deployment.inputs.spec.template.spec.containers.map((c: { image: string }) => c.image), [imageName("coredns")]);
        assert.deepEqual(deployment.inputs.spec.template.metadata.labels, { "k8s-app": "kube-dns" });
        const kubelet = programArgs().plan.worker.config as { clusterDNS: string[] };
        assert.equal(service.inputs.spec.clusterIP, kubelet.clusterDNS[0]);
        // The workers that run its Pods join after the up: the provider must not wait for them (pulumi-kubernetes' skipAwait).
        for (const r of [deployment, service]) assert.equal(r.inputs.metadata.annotations["pulumi.com/skipAwait"], "true", r.name);
        // The baseline's admission policy must admit the image's registry, or it refuses the Deployment; the
        // allow-list widens by exactly that host, named with the setting that publishes the images.
        assert.deepEqual(program.platformRegistries.map((p) => [p.registry, p.setting]), [["localhost", `${NS}:aws.binaries`]]);
    });

    it("runs the serving-certificate approver beside every apiserver, as its own user, bound to a role that approves kubelet-serving only", function () {
        for (let i = 0; i < 3; i++) {
            const { files } = cloudConfigOf(`cp-${i}`);
            const exec = execStartOf(files, "csr-approver");
            assert.match(exec, /^\/usr\/local\/bin\/hc-csr-approver -server=https:\/\/127\.0\.0\.1:6443 /, `cp-${i}`);
            const unit = files.find((f) => f.path === "/etc/systemd/system/csr-approver.service")!.content;
            assert.match(unit, /^User=csr-approver$/m);
            assert.match(unit, /^NoNewPrivileges=yes$/m);
            assert.match(unit, /^After=.*kube-apiserver\.service/m);
        }
        const crb = byType("kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding").find((c) => c.inputs.roleRef.name === "hardened-cluster:csr-approver")!;
        // The user its client certificate names (components/pki certlist), with no group that could add rights.
        assert.deepEqual(crb.inputs.subjects, [{ apiGroup: "rbac.authorization.k8s.io", kind: "User", name: "hardened-cluster:csr-approver" }]);
        const role = byType("kubernetes:rbac.authorization.k8s.io/v1:ClusterRole").find((c) => c.inputs.metadata.name === "hardened-cluster:csr-approver")!;
        const approve = role.inputs.rules.filter((r: { verbs: string[] }) => r.verbs.includes("approve"));
        // certificates.k8s.io/v1: approving for a signer takes the "approve" verb on signers/<signerName>.
        assert.deepEqual(approve, [{ apiGroups: ["certificates.k8s.io"], resources: ["signers"], resourceNames: ["kubernetes.io/kubelet-serving"], verbs: ["approve"] }]);
        assert.ok(!role.inputs.rules.some((r: { verbs: string[] }) => r.verbs.some((v) => ["create", "delete", "patch", "*"].includes(v))));
        assert.equal(providers.get(`${crb.type}::${crb.name}`), program.provider);
    });

    it("runs the workers' kubelet from the shared renderer with the platform's bootstrap kubeconfig", function () {
        const lt = byType(LT).find((r) => r.name === "p-workers")!;
        const doc = parse(userDataOf(lt).replace(/^#cloud-config\n/, ""));
        const expected = renderControlPlane({ ...expectedOptions(0), kubelet: { extraArgs: { "bootstrap-kubeconfig": "/etc/kubernetes/bootstrap-kubelet.conf" } } }, kubeadmLayout());
        assert.equal(execStartOf(doc.write_files, "kubelet"), execLine(["/usr/local/bin/kubelet", ...expected.kubelet.args]));
        const cfg = parse(doc.write_files.find((f: WriteFile) => f.path === "/etc/kubernetes/kubelet-config.yaml").content);
        assert.deepEqual(cfg, expected.kubelet.config);
    });

    it("has each control-plane node report, after every sync, each trust file its units name and each endpoint that serves a leaf from a file", function () {
        // The flags that take a CA bundle (etcd, kube-apiserver and kube-controller-manager reference docs) and the
        // endpoints of the nodes' processes at their default ports.
        const bundleFlags = ["trusted-ca-file", "peer-trusted-ca-file", "etcd-cafile", "client-ca-file", "root-ca-file", "requestheader-client-ca-file"];
        let checked = 0;
        NODE_IPS.forEach((ip, i) => {
            const { files } = cloudConfigOf(`cp-${i}`);
            const sync = files.find((f) => f.path === "/etc/systemd/system/hardened-cluster-sync.service")!.content;
            assert.match(sync, /^ExecStopPost=\/usr\/local\/libexec\/hardened-cluster\/report$/m);
            const script = files.find((f) => f.path === "/usr/local/libexec/hardened-cluster/report")!.content;
            assert.match(script, new RegExp(`--name /prod1/reports/cp-${i} --type String`));
            const trust = script.split("\n").filter((l) => l.startsWith("trust /")).map((l) => l.split(" ")[1]);
            const named = ["etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler"].flatMap((u) => execStartOf(files, u).split(" "))
                .filter((a) => bundleFlags.some((f) => a.startsWith(`--${f}=`))).map((a) => a.split("=")[1]);
            assert.ok(named.length >= 6, named.join(" "));
            for (const f of named) assert.ok(trust.includes(f), `cp-${i} reports ${f}`);
            for (const f of ["/etc/kubernetes/pki/ca.crt", "/etc/kubernetes/pki/etcd/ca.crt", "/etc/kubernetes/pki/front-proxy-ca.crt"]) assert.ok(trust.includes(f), `cp-${i} ${f}`);
            const served = script.split("\n").filter((l) => l.startsWith("served ")).map((l) => l.split(" ").slice(1, 4).join(" "));
            assert.deepEqual(served, ["etcd-client 127.0.0.1 2379", `etcd-peer ${ip} 2380`, "kube-apiserver 127.0.0.1 6443", "kube-controller-manager 127.0.0.1 10257", "kube-scheduler 127.0.0.1 10259"]);
            checked++;
        });
        assert.equal(checked, 3);
        const reports = byType(PARAM).filter((r) => r.inputs.name.startsWith("/prod1/reports/"));
        assert.deepEqual(reports.map((r) => [r.inputs.name, r.inputs.type]), [0, 1, 2].map((i) => [`/prod1/reports/cp-${i}`, "String"]));
    });

    it("has a worker's sync, once it succeeded, compare its kubelet's certificates with the signing CA the controller manager holds, and the control plane's not", function () {
        const workers = parse(userDataOf(byType(LT).find((r) => r.name === "p-workers")!).replace(/^#cloud-config\n/, ""));
        const file = (p: string) => (workers.write_files as WriteFile[]).find((f) => f.path === p);
        // systemd.service(5): ExecStartPost runs only once ExecStart succeeded.
        assert.match(file("/etc/systemd/system/hardened-cluster-sync.service")!.content, /^ExecStartPost=\/usr\/local\/libexec\/hardened-cluster\/kubelet-rejoin$/m);
        const script = file("/usr/local/libexec/hardened-cluster/kubelet-rejoin")!;
        assert.equal(script.permissions, "0755");
        // The kubelet's own --kubeconfig and --bootstrap-kubeconfig, and the file the controller manager signs with.
        const kubelet = execStartOf(workers.write_files, "kubelet").split(" ");
        assert.match(script.content, new RegExp(`^kubeconfig=${kubelet.find((a) => a.startsWith("--kubeconfig="))!.split("=")[1]}$`, "m"));
        assert.match(script.content, new RegExp(`^bootstrap=${kubelet.find((a) => a.startsWith("--bootstrap-kubeconfig="))!.split("=")[1]}$`, "m"));
        const signing = execStartOf(cloudConfigOf("cp-0").files, "kube-controller-manager").split(" ").find((a) => a.startsWith("--cluster-signing-cert-file="))!.split("=")[1];
        assert.match(script.content, new RegExp(`^signer=${signing}$`, "m"));
        assert.ok((workers.write_files as WriteFile[]).some((f) => f.path === FETCH_SCRIPT_PATH && f.content.includes(` ${signing} `)), "the worker fetches the signing CA");
        assert.ok(!cloudConfigOf("cp-0").files.some((f) => f.path === "/usr/local/libexec/hardened-cluster/kubelet-rejoin"));
    });

    it("has a worker report after every sync, under its own address, its CA file, each kubeconfig that embeds the bundle, and its kubelet's certificates", function () {
        const workers = parse(userDataOf(byType(LT).find((r) => r.name === "p-workers")!).replace(/^#cloud-config\n/, ""));
        const files = workers.write_files as WriteFile[];
        assert.match(files.find((f) => f.path === "/etc/systemd/system/hardened-cluster-sync.service")!.content, /^ExecStopPost=\/usr\/local\/libexec\/hardened-cluster\/report$/m);
        const script = files.find((f) => f.path === "/usr/local/libexec/hardened-cluster/report")!.content;
        assert.match(script, /^parameter=\/prod1\/reports\/workers\/\$address$/m);
        assert.match(script, /--name "\$parameter" --type String/);
        // Every file a worker unit reads as a kubeconfig, except the kubelet's own (it names the CA file), embeds the bundle.
        const kubelet = execStartOf(files, "kubelet").split(" ");
        const own = kubelet.find((a) => a.startsWith("--kubeconfig="))!.split("=")[1];
        const proxyConfig = parse(files.find((f) => f.path === execStartOf(files, "kube-proxy").split(" ").find((a) => a.startsWith("--config="))!.split("=")[1])!.content);
        const kubeconfigs = [proxyConfig.clientConnection.kubeconfig, execStartOf(files, "kube-router").split(" ").find((a) => a.startsWith("--kubeconfig="))!.split("=")[1]];
        assert.equal(kubeconfigs.length, 2);
        assert.ok(!kubeconfigs.includes(own));
        assert.deepEqual(script.split("\n").filter((l) => l.startsWith("trust /")), ["trust /etc/kubernetes/pki/ca.crt", ...kubeconfigs.map((k) => `trust ${k} kubeconfig`)]);
        // The kubelet's default port (kubelet reference: --port 10250) and its client pair in its default --cert-dir.
        assert.ok(!kubelet.some((a) => a.startsWith("--port=") || a.startsWith("--cert-dir=")), kubelet.join(" "));
        assert.deepEqual(script.split("\n").filter((l) => /^(served|held) /.test(l)), [
            "served kubelet 127.0.0.1 10250 /etc/kubernetes/pki/ca.crt",
            "held kubelet-client /var/lib/kubelet/pki/kubelet-client-current.pem /etc/kubernetes/pki/ca.crt",
        ]);
    });

    it("gives the CA rotation gates no reports while every domain is steady", function () {
        const gates = registered.filter((r) => /-pki-.*-rotation$/.test(r.name));
        assert.equal(gates.length, 3);
        for (const g of gates) assert.equal(g.inputs.reports, undefined, g.name);
    });

    it("reports the platform, endpoint and every block's posture", function () {
        const p = program.posture as any;
        assert.equal(p.platform.name, "aws");
        assert.equal(p.platform.endpoint, `https://${NLB_IPS[0]}:6443`);
        assert.deepEqual(p.platform.members, ["cp-0", "cp-1", "cp-2"]);
        assert.equal(p.platform.aws.etcdMembers, 3);
        assert.equal(p.encryption.writeProvider, "kms");
        assert.equal(p.audit.preset, "strict");
        assert.ok(p.controlPlane && p.pki);
    });

    it("says truthfully which node reads which secret: exactly what each role's IAM policy admits", function () {
        const aws = (program.posture as { platform: { aws: AwsPosture } }).platform.aws;
        const readers = aws.secretReaders!;
        assert.ok(readers, "posture.platform.aws.secretReaders");
        const names = byType(PARAM).map((x) => x.inputs.name as string);
        assert.ok(names.length >= 10, `only ${names.length} parameters`);
        const glob = (pattern: string, v: string) => new RegExp(`^${pattern.split("*").map((x) => x.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(".*")}$`).test(v);
        const nodes = ["cp-0", "cp-1", "cp-2"];
        for (const reader of [...nodes, "workers"]) {
            const rp = byType("aws:iam/rolePolicy:RolePolicy").find((x) => x.name === `p-${reader}`);
            assert.ok(rp, `role policy of ${reader}`);
            const doc = JSON.parse(plain(rp!.inputs.policy));
            const patterns: string[] = doc.Statement.find((x: any) => x.Sid === "ReadOwnParameters").Resource;
            const admitted = names.filter((n) => patterns.some((pat) => glob(pat, `arn:aws:ssm:eu-west-1:123456789012:parameter${n}`))).sort();
            assert.deepEqual(readers[reader], admitted, reader);
        }
        // What a node fetches at boot is among what the posture says it reads.
        for (const n of nodes) {
            const fetched = cloudConfigOf(n).fetched;
            assert.ok(fetched.length > 0);
            for (const f of fetched) assert.ok(readers[n].includes(f.parameter), `${n} fetches ${f.parameter}`);
        }
        // Only an etcd member's own server and peer keys and its apiserver's serving key are for one node, with every
        // certificate and public key (each node's own copy); the other secrets are shared by all three.
        const onlyOne = names.filter((n) => Object.values(readers).filter((l) => l.includes(n)).length === 1 && !readers.workers.includes(n));
        const certs = names.filter((n) => /\.(crt|pub)$/.test(n) && !readers.workers.includes(n));
        assert.deepEqual(readers.workers.map((n) => n.split("/").pop()).sort(), ["bootstrap-kubelet.conf", "cluster-ca.crt", "cluster-signing-ca.crt", "kubernetes-kube-proxy.conf", "kubernetes-kube-router.conf"]);
        assert.ok(certs.length >= 3 * 10, `${certs.length} certificate parameters`);
        for (const n of certs) assert.ok(onlyOne.includes(n), `${n} is one node's`);
        assert.deepEqual(onlyOne.filter((n) => !certs.includes(n)).map((n) => n.split("/").pop()).sort(), ["etcd-pki-peer.key", "etcd-pki-peer.key", "etcd-pki-peer.key", "etcd-pki-server.key", "etcd-pki-server.key", "etcd-pki-server.key",
            "kubernetes-pki-apiserver.key", "kubernetes-pki-apiserver.key", "kubernetes-pki-apiserver.key"]);
        const shared = names.filter((n) => nodes.every((x) => readers[x].includes(n)));
        assert.ok(shared.some((n) => n.endsWith("/kubernetes-pki-ca.key")) && shared.some((n) => n.endsWith("/kubernetes-pki-sa.key")), shared.join(", "));
        assert.ok(!aws.guarantees.some((g) => /only by the node they belong to/.test(g)), "a guarantee claims per-node secrets that are shared");
    });
});
