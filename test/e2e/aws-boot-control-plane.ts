// The boot drill's control plane: every unit of two control-plane nodes run from what their fetch put in
// place, in runcmd's order, then the in-cluster half, the approvers, and a renewal taken up by a node's sync.
import { strict as assert } from "node:assert";
import { spawnSync, type SpawnSyncReturns } from "node:child_process";
import { X509Certificate } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import { KMS_PLUGIN_UNIT } from "../../platforms/aws/control-plane";
import { SERVING_APPROVER_DIR } from "../../platforms/aws/serving-approver";
import { BOOTSTRAP_KUBECONFIG_PATH } from "../../platforms/aws/workers";
import { FETCH_SCRIPT_PATH, FETCH_UNIT, FETCHED_VERSIONS } from "../../platforms/aws/secrets";
import { engineConfig, ROOT } from "../unit/program/program-child";
import { unwrapSecret } from "../unit/program/mock-engine";
import { requireBinary } from "../unit/aws/host-tools";
import { applyInCluster, certificateRequest, inClusterConfig, joinNode, nodeClientCsr, withServer } from "./aws-in-cluster";
import { Credential, fromKubeconfig, request } from "./kube";
import { Host, inNode, linkHosts, nodePath, relayIntoNode, relayOutOfNode, stagedFiles, startHost, startUnit, stopHost, unitOf } from "./aws-node";
import { until } from "./processes";
import { ANYONE, BIN, BootDrill, CLUSTER, STACK, cloudConfigOf, filesOn, ports } from "./aws-boot-drill";
import { workerCases } from "./aws-boot-workers";
import { reportCases } from "./aws-boot-reports";
import { rotationCases } from "./aws-boot-rotation";
import { assertKubeBench } from "./aws-boot-bench";
import type { ProgramStack } from "./harness";

/** What the control-plane cases start and the worker cases build on. */
export interface ControlPlaneState {
    hosts: Host[];
    /** The engine's stack of the in-cluster half, removed with the cluster. */
    inClusterRoot?: string;
    /** That stack, which a CA rotation's phases update. */
    inCluster?: ProgramStack;
    /** The relayed API and the admin credential, once the in-cluster half applied. */
    applied?: { server: string; admin: Credential; token: Credential };
    /** The worker the approvers' case registered, once its kube-proxy and enforcer run. */
    worker?: Host;
    /** The second worker of the Pod network's case. */
    worker2?: Host;
    /** Each joined node's kubelet credential (system:node:<name>), as its kubeconfig would hold it. */
    kubelets: Map<string, Credential>;
    secretsKey: string;
    mockSecretsKey: string;
    etcdctl(h: Host, args: string[], pair?: string[]): SpawnSyncReturns<string>;
    /** kubectl on the node with a control-plane component's own kubeconfig (the controller manager may write Secrets). */
    kubectl(h: Host, args: string[]): SpawnSyncReturns<string>;
}

export function controlPlaneCases(d: BootDrill): void {
    describe("the control plane from the rendered units: every unit of two control-plane nodes, in runcmd's order", () => {
        const cp: ControlPlaneState = {
            hosts: [],
            kubelets: new Map(),
            secretsKey: "",
            mockSecretsKey: "",
            etcdctl: (h, args, pair = [nodePath(h.cc, "/pki/etcd/healthcheck-client.crt"), nodePath(h.cc, "/pki/etcd/healthcheck-client.key")]) =>
                inNode(h, ["/usr/local/bin/etcdctl", "--endpoints=https://127.0.0.1:2379", `--cacert=${nodePath(h.cc, "/pki/etcd/ca.crt")}`, `--cert=${pair[0]}`, `--key=${pair[1]}`, "--command-timeout=5s", ...args]),
            // kubectl is no node's binary: the toolchain's, which the node's mount namespace still sees at its own path.
            kubectl: (h, args) => inNode(h, [path.join(d.tc.bin, "kubectl"), `--kubeconfig=${nodePath(h.cc, "/controller-manager.conf")}`, "--request-timeout=10s", ...args]),
        };

        before(async () => {
            for (const b of ["nsenter", "setpriv", "ip"]) requireBinary(b);
            cp.mockSecretsKey = d.run.resources.find((r) => r.type === "aws:kms/key:Key" && r.name.endsWith("-secrets"))!.state.arn;
            cp.secretsKey = JSON.parse(d.awsCli(["kms", "create-key", "--description", `${CLUSTER} secrets key`])).KeyMetadata.Arn;
            for (const node of ["cp-0", "cp-1"]) {
                const cc = cloudConfigOf(d.run, `aws-cp-${node}`);
                assert.ok(fs.existsSync(path.join(d.tmp, "nodes", node, "etc")), `${node} was fetched above`);
                // cloud-init's unit files, where kube-bench looks for each component's settings on this platform.
                for (const f of cc.write_files.filter((w) => w.path.startsWith("/etc/systemd/system/"))) {
                    const p = path.join(d.tmp, "nodes", node) + f.path;
                    fs.mkdirSync(path.dirname(p), { recursive: true, mode: 0o755 });
                    fs.writeFileSync(p, f.content, { mode: parseInt(f.permissions, 8) });
                }
                // The node runs what its fetch put in its /usr/local/bin.
                cp.hosts.push(await startHost(node, path.join(d.tmp, "nodes", node), path.join(d.tmp, "nodes", node) + BIN, cc));
            }
            linkHosts(cp.hosts[0], cp.hosts[1]);
            for (const h of cp.hosts) {
                await relayIntoNode(h, ports.apiServer, d.tmp);
                // cloud-init's runcmd before the units: the etcd data directory's owner and mode.
                for (const c of h.cc.runcmd.filter((c) => c[0] === "chown" || c[0] === "chmod")) assert.equal(inNode(h, c).status, 0);
            }
            // The units in the order runcmd enables them, the fetch (done above) first.
            const order = cp.hosts[0].cc.runcmd.filter((c) => c[0] === "systemctl" && c[1] === "enable" && c[3].endsWith(".service")).map((c) => c[3].replace(/\.service$/, ""));
            assert.deepEqual(order, [FETCH_UNIT.replace(/\.service$/, ""), KMS_PLUGIN_UNIT, "etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "csr-approver"]);
            for (const unit of order.slice(1)) {
                for (const h of cp.hosts) {
                    // On EC2 the plugin finds the instance role's credentials and the regional endpoint itself.
                    startUnit(h, unit, unit === KMS_PLUGIN_UNIT ? d.moto.env(ANYONE, { AWS_ENDPOINT_URL: `http://127.0.0.1:${ports.apiServer}` }) : {},
                        [[cp.mockSecretsKey, cp.secretsKey]]);
                }
            }
        });

        after(async () => {
            for (const h of [...cp.hosts, ...(cp.worker ? [cp.worker] : []), ...(cp.worker2 ? [cp.worker2] : [])]) stopHost(h);
            // The engine's stack goes with the cluster it was applied to.
            if (cp.inClusterRoot) fs.rmSync(cp.inClusterRoot, { recursive: true, force: true });
        });

        it("each etcd member runs as the etcd user with no new privileges and answers health checks", async () => {
            for (const h of cp.hosts) {
                await until(`${h.node} etcd healthy`, 60, async () => (cp.etcdctl(h, ["endpoint", "health"]).status === 0 ? true : undefined));
                const status = fs.readFileSync(`/proc/${h.units.get("etcd")!.pid}/status`, "utf8");
                const uid = d.gids.get("etcd");
                assert.match(status, new RegExp(`^Uid:\\s+${uid}\\s+${uid}\\s+${uid}\\s+${uid}$`, "m"));
                assert.match(status, /^NoNewPrivs:\s+1$/m);
            }
        });

        it("the two members list the third as planned and not started, and replicate a write", () => {
            const r = cp.etcdctl(cp.hosts[1], ["member", "list", "-w", "json"]);
            assert.equal(r.status, 0, r.stderr);
            const members: { name?: string; clientURLs?: string[] }[] = JSON.parse(r.stdout).members;
            assert.equal(members.length, 3);
            const started = members.filter((m) => (m.clientURLs ?? []).length > 0);
            assert.deepEqual(started.map((m) => [m.name, m.clientURLs]).sort(), cp.hosts.map((h) => [h.node, [`https://${h.address}:2379`]]));
            assert.equal(cp.etcdctl(cp.hosts[0], ["put", "/drill/boot", "joined"]).status, 0);
            const got = cp.etcdctl(cp.hosts[1], ["get", "/drill/boot", "--print-value-only", "--consistency=l"]);
            assert.equal(got.stdout.trim(), "joined", got.stderr);
        });

        it("etcd refuses a client whose certificate another of the cluster's CAs signed (the front-proxy client)", () => {
            const h = cp.hosts[0];
            const log = path.join(h.root, "etcd.log");
            const before = fs.readFileSync(log, "utf8").length;
            const r = cp.etcdctl(h, ["get", "/drill/boot"], [nodePath(h.cc, "/pki/front-proxy-client.crt"), nodePath(h.cc, "/pki/front-proxy-client.key")]);
            assert.notEqual(r.status, 0);
            assert.doesNotMatch(r.stdout, /joined/);
            // The member ends the handshake: its client CA is the etcd CA only.
            assert.match(fs.readFileSync(log, "utf8").slice(before), /rejected connection on client endpoint.*unknown authority/);
        });

        it("each API server reaches /readyz with its KMS plugin answering from the emulator's KMS", async () => {
            for (const h of cp.hosts) {
                const ready = () => cp.kubectl(h, ["get", "--raw", "/readyz?verbose"]);
                await until(`${h.node} apiserver ready`, 180, async () => (ready().status === 0 ? true : undefined));
                const r = ready();
                assert.match(r.stdout, /\[\+\]etcd ok/);
                assert.match(r.stdout, /\[\+\]kms-providers ok|\[\+\]kms-provider-0 ok/);
                assert.match(r.stdout, /readyz check passed/);
                const plugin = fs.readFileSync(`/proc/${h.units.get(KMS_PLUGIN_UNIT)!.pid}/status`, "utf8");
                assert.match(plugin, new RegExp(`^Uid:\\s+${d.gids.get("kms-plugin")}\\s`, "m"));
            }
        });

        it("a Secret written through one node is stored KMS v2-encrypted in etcd and read back through the other", () => {
            const created = cp.kubectl(cp.hosts[0], ["-n", "kube-system", "create", "secret", "generic", "boot-drill", "--from-literal=marker=drill-value-1"]);
            assert.equal(created.status, 0, created.stderr);
            const raw = inNode(cp.hosts[1], ["bash", "-c", `${["/usr/local/bin/etcdctl", "--endpoints=https://127.0.0.1:2379", `--cacert=${nodePath(cp.hosts[1].cc, "/pki/etcd/ca.crt")}`,
                `--cert=${nodePath(cp.hosts[1].cc, "/pki/etcd/healthcheck-client.crt")}`, `--key=${nodePath(cp.hosts[1].cc, "/pki/etcd/healthcheck-client.key")}`,
                "get", "/registry/secrets/kube-system/boot-drill", "--print-value-only"].join(" ")} | head -c 40`]);
            assert.equal(raw.status, 0, raw.stderr);
            assert.match(raw.stdout, /^k8s:enc:kms:v2:aws-kms:/);
            const read = cp.kubectl(cp.hosts[1], ["-n", "kube-system", "get", "secret", "boot-drill", "-o", "jsonpath={.data.marker}"]);
            assert.equal(Buffer.from(read.stdout, "base64").toString(), "drill-value-1", read.stderr);
        });

        it("the controller manager and the scheduler answer /healthz on loopback with their own certificates and take their leases", async () => {
            for (const h of cp.hosts) {
                for (const [unit, port] of [["kube-controller-manager", 10257], ["kube-scheduler", 10259]] as const) {
                    const probe = () => inNode(h, ["curl", "-sS", "--max-time", "5", "--cacert", nodePath(h.cc, "/kubernetes/pki/ca.crt"), `https://127.0.0.1:${port}/healthz`]);
                    await until(`${h.node} ${unit} healthz`, 120, async () => (probe().stdout === "ok" ? true : undefined));
                    // Loopback only (--bind-address=127.0.0.1): the node's own address answers nothing.
                    assert.notEqual(inNode(h, ["curl", "-sS", "--max-time", "5", "-k", `https://${h.address}:${port}/healthz`]).status, 0);
                }
            }
            for (const lease of ["kube-controller-manager", "kube-scheduler"]) {
                await until(`${lease} lease`, 60, async () => {
                    const r = cp.kubectl(cp.hosts[1], ["-n", "kube-system", "get", "lease", lease, "-o", "jsonpath={.spec.holderIdentity}"]);
                    return r.status === 0 && r.stdout.length > 0 ? true : undefined;
                });
            }
        });

        it("kube-bench passes every scored CIS 1.12 master and etcd check on cp-0 but the two about an admin kubeconfig, which no node holds", () => {
            assertKubeBench(d, cp.hosts[0], "first boot");
        });

        it("the AWS program's in-cluster half applies with the real engine: AdminBootstrap, the workers' join and the staging baseline", async function () {
            this.timeout(900_000);
            const h = cp.hosts[0];
            const port = unitOf(h.cc, "kube-apiserver").argv.find((a) => a.startsWith("--secure-port="))?.split("=")[1] ?? "6443";
            await relayOutOfNode(h, Number(port), ports.etcdClient, d.tmp);
            const server = `https://127.0.0.1:${ports.etcdClient}`;
            const baseline = JSON.parse(engineConfig(path.join(ROOT, `stacks/Pulumi.${STACK}.yaml`))["hardened-cluster:baseline"]);
            const { ps, result } = await applyInCluster(inClusterConfig(d.run, server, CLUSTER, baseline));
            cp.inClusterRoot = ps.root;
            cp.inCluster = ps;
            assert.equal(result.summary.result, "succeeded");

            // The admin kubeconfig's group is bound to cluster-admin: by AdminBootstrap, with no standing credential.
            const admin = fromKubeconfig(withServer(unwrapSecret<string>(d.run.outputs.kubeconfig), server));
            const crb = (await request(admin, "GET", "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/kubeadm:cluster-admins")).json();
            assert.equal(crb.roleRef.name, "cluster-admin");
            assert.deepEqual(crb.subjects.map((x: { kind: string; name: string }) => [x.kind, x.name]), [["Group", "kubeadm:cluster-admins"]]);
            assert.equal((await request(admin, "GET", "/api/v1/namespaces/kube-system/secrets")).status, 200);

            // The staging baseline: team-a enforcing "restricted", denied by default, its persona bindings.
            const ns = (await request(admin, "GET", "/api/v1/namespaces/team-a")).json();
            assert.equal(ns.metadata.labels["pod-security.kubernetes.io/enforce"], "restricted");
            const policies = (await request(admin, "GET", "/apis/networking.k8s.io/v1/namespaces/team-a/networkpolicies")).json().items;
            const denyAll = policies.filter((p: any) => Object.keys(p.spec.podSelector).length === 0 && !p.spec.ingress && !p.spec.egress);
            assert.equal(denyAll.length, 1, policies.map((p: any) => p.metadata.name).join(" "));
            assert.deepEqual([...denyAll[0].spec.policyTypes].sort(), ["Egress", "Ingress"]);
            const bindings = (await request(admin, "GET", "/apis/rbac.authorization.k8s.io/v1/namespaces/team-a/rolebindings")).json().items;
            const groups = bindings.flatMap((b: any) => (b.subjects ?? []).map((x: { name: string }) => `${b.roleRef.name}=${x.name}`)).sort();
            assert.deepEqual(groups, ["hardened:ci-deployer=team-a-ci", "hardened:developer=team-a-devs"]);

            // A worker's join, as its kubelet starts it: the bootstrap token from the worker's fetched kubeconfig
            // files a node-client CSR, which the controller manager approves and signs; it can read no Secret.
            const bootstrap = parse(fs.readFileSync(path.join(d.tmp, "nodes", "worker") + BOOTSTRAP_KUBECONFIG_PATH, "utf8"));
            const token: Credential = { server, caPem: admin.caPem, token: bootstrap.users[0].user.token };
            assert.equal((await request(token, "GET", "/api/v1/namespaces/kube-system/secrets")).status, 403);
            const created = await request(token, "POST", "/apis/certificates.k8s.io/v1/certificatesigningrequests", nodeClientCsr(d.tmp, "ip-10-0-0-77"));
            assert.equal(created.status, 201, created.body);
            const name = created.json().metadata.name;
            const csr = await until("the node-client CSR signed", 60, async () => {
                const r = (await request(admin, "GET", `/apis/certificates.k8s.io/v1/certificatesigningrequests/${name}`)).json();
                return r.status?.certificate ? r : undefined;
            });
            assert.ok(csr.status.conditions.some((c: { type: string; status: string }) => c.type === "Approved" && c.status === "True"));
            assert.equal(csr.spec.username.startsWith("system:bootstrap:"), true, csr.spec.username);
            cp.applied = { server, admin, token };
        });

        it("the approvers, one beside each apiserver, approve a kubelet's serving certificate for what its Node reports, deny another node's address or a request from no node, and their key approves nothing else", async function () {
            this.timeout(300_000);
            assert.ok(cp.applied, "the in-cluster half (the approver's role) applied above");
            const { server, admin, token } = cp.applied;
            const node = "ip-10-0-0-78";
            const decided = (name: string) => until(`CSR ${name} decided`, 90, async () => {
                const r = (await request(admin, "GET", `/apis/certificates.k8s.io/v1/certificatesigningrequests/${name}`)).json();
                return (r.status?.conditions ?? []).some((c: { type: string }) => c.type === "Denied") || r.status?.certificate ? r : undefined;
            });
            const file = async (cred: Credential, csr: Record<string, unknown>) => {
                const r = await request(cred, "POST", "/apis/certificates.k8s.io/v1/certificatesigningrequests", csr);
                assert.equal(r.status, 201, r.body);
                return r.json().metadata.name as string;
            };
            // The kubelet's join as above, its key kept: from here on it is system:node:ip-10-0-0-78, with its Node.
            const kubelet = await joinNode(d.tmp, token, admin, node, "10.0.0.78");
            cp.kubelets.set(node, kubelet);

            const serving = (subject: string, altNames: string) => certificateRequest(d.tmp, subject, "kubernetes.io/kubelet-serving", ["digital signature", "server auth"], altNames).csr;
            const own = await file(kubelet, serving(`/O=system:nodes/CN=system:node:${node}`, `IP:10.0.0.78,DNS:${node}`));
            // What a compromised node would try. Another node's name is refused by the apiserver itself
            // (NodeRestriction: a node files CSRs for its own CN only); a control-plane node's address under its
            // own name gets through, and the approver must deny it. So must it deny a request for a node's name
            // filed by someone holding a join token, which may file CSRs but is no node.
            const refused = await request(kubelet, "POST", "/apis/certificates.k8s.io/v1/certificatesigningrequests", serving("/O=system:nodes/CN=system:node:cp-0", "IP:10.0.0.10,DNS:cp-0"));
            assert.equal(refused.status, 403, refused.body);
            assert.match(refused.json().message, new RegExp(`can only create a node CSR with CN=system:node:${node}`));
            const otherAddress = await file(kubelet, serving(`/O=system:nodes/CN=system:node:${node}`, "IP:10.0.0.10"));
            const notANode = await file(token, serving("/O=system:nodes/CN=system:node:cp-0", "IP:10.0.0.10,DNS:cp-0"));

            const mine = await decided(own);
            const condition = (r: any) => r.status.conditions.map((c: { type: string; reason: string }) => `${c.type}/${c.reason}`);
            assert.deepEqual(condition(mine), ["Approved/NodeIdentityVerified"]);
            const cert = new X509Certificate(Buffer.from(mine.status.certificate, "base64"));
            assert.equal(cert.subjectAltName, `DNS:${node}, IP Address:10.0.0.78`);
            assert.ok(cert.checkIssued(new X509Certificate(admin.caPem)), "signed by the cluster CA");
            for (const name of [otherAddress, notANode]) {
                const r = await decided(name);
                assert.deepEqual(condition(r), ["Denied/NodeIdentityMismatch"], name);
                assert.equal(r.status.certificate, undefined, name);
            }
            // Its own credential, as the node's files hold it, approves nothing but kubelet serving certificates:
            // a stolen approver key cannot mint an admin's client certificate, nor read a Secret.
            const approverFile = (f: string) => fs.readFileSync(cp.hosts[0].root + path.join(SERVING_APPROVER_DIR, f), "utf8");
            const approver: Credential = { server, caPem: admin.caPem, certPem: approverFile("client.crt"), keyPem: approverFile("client.key") };
            // The admin group AdminBootstrap binds to cluster-admin (the apiserver refuses system:masters requests itself).
            const admins = certificateRequest(d.tmp, "/O=kubeadm:cluster-admins/CN=mallory", "kubernetes.io/kube-apiserver-client", ["digital signature", "client auth"]).csr;
            const forAdmin = await file(admin, admins);
            const pending = (await request(approver, "GET", `/apis/certificates.k8s.io/v1/certificatesigningrequests/${forAdmin}`)).json();
            pending.status = { conditions: [{ type: "Approved", status: "True", reason: "Stolen", message: "approved with the approver's key" }] };
            const approval = await request(approver, "PUT", `/apis/certificates.k8s.io/v1/certificatesigningrequests/${forAdmin}/approval`, pending);
            assert.equal(approval.status, 403, approval.body);
            assert.match(approval.json().message, /kubernetes\.io\/kube-apiserver-client/);
            assert.equal((await request(approver, "GET", "/api/v1/namespaces/kube-system/secrets")).status, 403);
            const after = (await request(admin, "GET", `/apis/certificates.k8s.io/v1/certificatesigningrequests/${forAdmin}`)).json();
            assert.deepEqual([after.status?.conditions ?? [], after.status?.certificate], [[], undefined]);
            assert.equal((await request(admin, "DELETE", `/apis/certificates.k8s.io/v1/certificatesigningrequests/${forAdmin}`)).status, 200);
            // The approver on each node runs as its unit's user, not root, with no new privileges.
            for (const h of cp.hosts) {
                const status = fs.readFileSync(`/proc/${h.units.get("csr-approver")!.pid}/status`, "utf8");
                const uid = status.match(/^Uid:\s+(\d+)/m)![1];
                assert.notEqual(uid, "0", h.node);
                assert.match(status, /^NoNewPrivs:\s+1$/m, h.node);
            }
        });


        workerCases(d, cp);

        it("a running node takes up a re-issued certificate: its sync replaces only that file and restarts only its reader, which then serves it; the next sync finds no new version and stops", async function () {
            const h = cp.hosts[0];
            const stages = stagedFiles(d.scriptOf(h.cc));
            const crt = stages.find((x) => x.path === "/etc/kubernetes/pki/apiserver.crt");
            const key = stages.find((x) => x.path === "/etc/kubernetes/pki/apiserver.key");
            const caKey = stages.find((x) => x.path === "/etc/kubernetes/pki/ca.key");
            assert.ok(crt && key && caKey, stages.map((x) => x.path).join(" "));
            assert.deepEqual([crt.kind, crt.restarts, key.kind], ["public", ["kube-apiserver"], "secret"]);
            // What `pulumi up` writes when the apiserver's leaf is inside its renewal window: the same key and
            // subject, signed again by the cluster CA with a new serial, as the parameter's next version.
            const work = fs.mkdtempSync(path.join(d.tmp, "renew-"));
            const file = (name: string, text: string) => {
                const f = path.join(work, name);
                fs.writeFileSync(f, text, { mode: 0o600 });
                return f;
            };
            const old = new X509Certificate(d.param(crt.parameter).value);
            const ca = file("ca.crt", fs.readFileSync(h.root + "/etc/kubernetes/pki/ca.crt", "utf8"));
            const ossl = (args: string[]) => {
                const r = spawnSync("openssl", args, { encoding: "utf8" });
                assert.equal(r.status, 0, r.stderr);
                return r.stdout;
            };
            ossl(["x509", "-x509toreq", "-copy_extensions", "copyall", "-in", file("old.crt", old.toString()), "-signkey", file("apiserver.key", d.param(key.parameter).value), "-out", path.join(work, "req.pem")]);
            ossl(["x509", "-req", "-copy_extensions", "copyall", "-in", path.join(work, "req.pem"), "-CA", ca, "-CAkey", file("ca.key", d.param(caKey.parameter).value),
                "-set_serial", "0x5e11ab1e", "-days", "30", "-out", path.join(work, "new.crt")]);
            const renewed = fs.readFileSync(path.join(work, "new.crt"), "utf8");
            fs.rmSync(work, { recursive: true, force: true });
            assert.equal(new X509Certificate(renewed).subjectAltName, old.subjectAltName);
            d.ssm([d.put(d.param(crt.parameter), { Value: renewed, Overwrite: true })]);

            // The sync timer's service: the fetch script with --sync; systemctl is a stand-in that records its calls.
            const syncUnit = unitOf(h.cc, "hardened-cluster-sync");
            assert.deepEqual(syncUnit.argv, [FETCH_SCRIPT_PATH, "--sync"]);
            const before = filesOn(h.root);
            const sync = () => {
                const r = d.sync(h.root, h.cc);
                assert.equal(r.status, 0, r.stdout + r.stderr);
                return { out: r.stdout, calls: r.calls };
            };
            const first = sync();
            assert.deepEqual(first.out.split("\n").filter((l) => l.includes("replaced /")), ["hardened-cluster-fetch: replaced /etc/kubernetes/pki/apiserver.crt"]);
            assert.deepEqual(first.calls, ["try-restart -- kube-apiserver.service"]);
            assert.match(first.out, /sync replaced 1 files and restarted 1 units: kube-apiserver/);
            const after = filesOn(h.root);
            assert.equal(after.length, before.length);
            for (const f of after) {
                const was = before.find((b) => b.path === f.path)!;
                // The value as the CLI prints it, with its newline, as at boot.
                if (f.path === crt.path) assert.deepEqual([f.content.trimEnd(), f.mode, f.uid, f.gid], [renewed.trimEnd(), was.mode, 0, 0]);
                else assert.deepEqual(f, was, f.path);
            }

            // What systemd does for that call; every other unit keeps its process.
            const pids = new Map([...h.units].filter(([n]) => !n.startsWith("relay")).map(([n, c]) => [n, c.pid]));
            const apiserver = h.units.get("kube-apiserver")!;
            const exited = new Promise((resolve) => apiserver.once("exit", resolve));
            apiserver.kill("SIGTERM");
            await exited;
            startUnit(h, "kube-apiserver");
            await until(`${h.node} apiserver ready again`, 180, async () => (cp.kubectl(h, ["get", "--raw", "/readyz"]).status === 0 ? true : undefined));
            const served = inNode(h, ["bash", "-c", "openssl s_client -connect 127.0.0.1:6443 </dev/null 2>/dev/null | openssl x509 -noout -serial"]);
            assert.equal(served.stdout.trim(), "serial=5E11AB1E", served.stderr);
            for (const [n, pid] of pids) if (n !== "kube-apiserver") assert.equal(h.units.get(n)!.pid, pid, n);

            // The versions in place, root's alone; with none newer, the next sync lists them and stops.
            const versions = h.root + FETCHED_VERSIONS;
            const st = fs.statSync(versions);
            assert.deepEqual([st.mode & 0o7777, st.uid], [0o600, 0]);
            const recorded = fs.readFileSync(versions, "utf8").trim().split("\n");
            assert.equal(recorded.length, stages.length);
            assert.ok(recorded.includes(`${crt.parameter} ${JSON.parse(d.awsCli(["ssm", "get-parameter", "--name", crt.parameter])).Parameter.Version}`), recorded.join("\n"));
            const second = sync();
            assert.deepEqual(second.calls, []);
            assert.match(second.out, /sync found no new parameter version; nothing replaced or restarted/);
            assert.deepEqual(filesOn(h.root), after);
        });

        reportCases(d, cp);
        rotationCases(d, cp);
    });
}
