// The local platform end to end: the blueprint's own program, run by the real engine on a throwaway stack,
// boots etcd + kube-apiserver + kube-controller-manager + kube-scheduler from the toolchain, and every
// hardening claim is checked against the running processes. As root (CI) this runs inside scripts/sandbox.sh
// with the system layout under kubeadm's paths; otherwise with the user layout in a temporary directory.
import { strict as assert } from "node:assert";
import { execFileSync, spawnSync } from "node:child_process";
import { randomBytes, X509Certificate } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as tls from "node:tls";
import { mintClientCert } from "../../components/pki";
import { pkiPair } from "../../components/common";
import { ResolvedLocal, resolveLocal } from "../../platforms/local/options";
import { Credential, fromKubeconfig, handshake, request, restrictedPod } from "./kube";
import { listening, processesOn } from "./processes";
import { e2eLocal, privateKeyBlocks, programStack, ProgramStack, toolchain } from "./harness";
import { CIS_FLAG_CHECKS } from "../../policy/rules/control-plane";
import { runKubeBench, USER_LAYOUT_ROOT_ONLY } from "./kube-bench-run";
import { E2E_PORTS } from "./ports";

const ports = E2E_PORTS.localPlatform;
const system = process.getuid?.() === 0;
const BINARIES = ["pulumi-resource-pulumi-nodejs", "pulumi-resource-tls", "pulumi-resource-random", "pulumi-resource-kubernetes",
    "etcd", "etcdctl", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kube-bench"];

const ourProcesses = () => processesOn(Object.values(ports));

describe("local platform (real control plane)", function () {
    this.timeout(20 * 60_000);
    let ps: ProgramStack;
    let plan: { local: ResolvedLocal };
    let admin: Credential;
    let outputs: Record<string, { value: any; secret: boolean }>;
    let stateDir: string | undefined;
    const secretName = `e2e-${randomBytes(4).toString("hex")}`;
    const secretValue = `s3cr3t-${randomBytes(8).toString("hex")}`;

    before(async function () {
        toolchain(...BINARIES);
        const e2e = e2eLocal("local", ports, system);
        stateDir = e2e.stateDir;
        const local = e2e.local;
        ps = await programStack({
            name: "local",
            blueprint: true,
            binaries: BINARIES,
            config: {
                "hardened-cluster:local": { value: JSON.stringify(local) },
                "hardened-cluster:pki": { value: JSON.stringify({ users: [{ name: "vera", groups: ["e2e:viewers"] }] }) },
                "hardened-cluster:baseline": { value: JSON.stringify({
                    tenants: [{ name: "team-a", roleBindings: { viewer: [{ kind: "Group", name: "e2e:viewers" }] } }],
                }) },
            },
        });
        plan = { local: resolveLocal(local as never, ps.stackName, "local", system) };
        const res = await ps.stack.up({ onOutput: (o) => process.env.HC_E2E_VERBOSE && process.stdout.write(o) });
        assert.equal(res.summary.result, "succeeded");
        outputs = res.outputs;
        admin = fromKubeconfig(outputs.kubeconfig.value);
    });
    after(async function () {
        await ps?.cleanup();
        if (stateDir) fs.rmSync(stateDir, { recursive: true, force: true });
    });

    it("exports the endpoint, the kubeconfig path and the kubeconfig as a secret", function () {
        assert.equal(outputs.endpoint.value, `https://127.0.0.1:${ports.apiServer}`);
        assert.equal(outputs.kubeconfig.secret, true);
        assert.equal(fs.statSync(outputs.kubeconfigPath.value).mode & 0o777, 0o600);
    });

    it("keeps every private key, encryption key and kubeconfig out of the state in plaintext", async function () {
        const exported = await ps.exportText();
        assert.ok(exported.includes("hardened-cluster:local:LocalCluster"), "export looks empty");
        assert.deepEqual(privateKeyBlocks(exported), []);
        assert.equal(exported.includes("client-key-data"), false, "a kubeconfig with its key is in plaintext");
        assert.equal(/secretbox:\s*\n?\s*keys/.test(exported) || exported.includes("EncryptionConfiguration"), false, "the encryption config is in plaintext");
        assert.equal(exported.includes(admin.keyPem!.trim().split("\n")[1]), false, "the admin key is in plaintext");
    });

    it("rejects anonymous requests with 401", async function () {
        const res = await request({ server: admin.server, caPem: admin.caPem }, "GET", "/api/v1/namespaces");
        assert.equal(res.status, 401);
    });

    it("rejects a client certificate from an unknown CA", async function () {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hc-rogue-"));
        try {
            execFileSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", path.join(dir, "ca.key"), "-out", path.join(dir, "ca.crt"), "-subj", "/CN=kubernetes", "-days", "1"], { stdio: "ignore" });
            const rogue = mintClientCert(fs.readFileSync(path.join(dir, "ca.crt"), "utf8"), fs.readFileSync(path.join(dir, "ca.key"), "utf8"),
                "kubernetes-admin", ["system:masters"]);
            const res = await request({ ...admin, certPem: rogue.certPem, keyPem: rogue.keyPem }, "GET", "/api/v1/namespaces").catch((e: Error) => e);
            // Either the handshake fails on the unknown issuer or the request is unauthenticated.
            if (res instanceof Error) assert.match(res.message, /certificate|alert|socket hang up|ECONNRESET/i);
            else assert.equal(res.status, 401);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    it("refuses TLS below 1.2 and accepts TLS 1.2", async function () {
        assert.match(await handshake(admin.server, admin.caPem, "TLSv1", "TLSv1.1"), /protocol version|unsupported protocol|no protocols/i);
        assert.equal(await handshake(admin.server, admin.caPem, "TLSv1.2", "TLSv1.2"), "connected with TLSv1.2");
    });

    it("runs the admin outside system:masters, in kubeadm:cluster-admins", async function () {
        const res = await request(admin, "POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews", {
            apiVersion: "authentication.k8s.io/v1", kind: "SelfSubjectReview",
        });
        assert.equal(res.status, 201, res.body);
        const groups: string[] = res.json().status.userInfo.groups;
        assert.ok(groups.includes("kubeadm:cluster-admins"), groups.join(","));
        assert.ok(!groups.includes("system:masters"), groups.join(","));
        assert.doesNotMatch(new X509Certificate(admin.certPem!).subject, /system:masters/);
    });

    it("stores a Secret in etcd encrypted with secretbox and reads it back intact", async function () {
        const created = await request(admin, "POST", "/api/v1/namespaces/default/secrets", {
            apiVersion: "v1", kind: "Secret", metadata: { name: secretName },
            data: { password: Buffer.from(secretValue).toString("base64") },
        });
        assert.equal(created.status, 201, created.body);
        const etcdDir = plan.local.layout.etcdPkiDir;
        const client = pkiPair(plan.local.layout, "apiserver-etcd-client");
        const raw = execFileSync(path.join(toolchain().bin, "etcdctl"), [
            `--endpoints=https://127.0.0.1:${ports.etcdClient}`, `--cacert=${path.join(etcdDir, "ca.crt")}`,
            `--cert=${client.cert}`, `--key=${client.key}`, "get", `/registry/secrets/default/${secretName}`, "--print-value-only",
        ]);
        assert.ok(raw.subarray(0, 40).toString("latin1").startsWith("k8s:enc:secretbox:v1:key1:"), raw.subarray(0, 40).toString("latin1"));
        assert.equal(raw.includes(Buffer.from(secretValue)), false);
        const read = await request(admin, "GET", `/api/v1/namespaces/default/secrets/${secretName}`);
        assert.equal(Buffer.from(read.json().data.password, "base64").toString(), secretValue);
    });

    it("writes a Metadata-level audit event for that Secret and never its data", function () {
        const log = fs.readFileSync(path.join(plan.local.layout.auditLogDir, "audit.log"), "utf8");
        const events = log.split("\n").filter(Boolean).map((l) => JSON.parse(l));
        const create = events.find((e) => e.objectRef?.resource === "secrets" && e.objectRef?.name === secretName && e.verb === "create");
        assert.ok(create, "no audit event for the Secret's creation");
        assert.equal(create.level, "Metadata");
        assert.equal(create.stage, "ResponseComplete");
        assert.equal(log.includes(secretValue), false);
        assert.equal(log.includes(Buffer.from(secretValue).toString("base64")), false);
        assert.equal(events.some((e) => e.stage === "RequestReceived"), false);
    });

    it("passes every scored kube-bench CIS 1.12 master and etcd check that applies", function () {
        const report = runKubeBench(toolchain().bin, toolchain().kubeBenchCfg, outputs.kubeBenchConfigPath.value);
        const scored = report.filter((c) => c.scored);
        // The user layout cannot satisfy the checks that hard-code kubeadm's paths or need root ownership.
        const notApplicable: Readonly<Record<string, string>> = system ? {} : USER_LAYOUT_ROOT_ONLY;
        const failing = scored.filter((c) => c.status !== "PASS" && !(c.id in notApplicable));
        const counts = { PASS: 0, FAIL: 0, WARN: 0, INFO: 0 };
        for (const c of scored) counts[c.status]++;
        console.log(`      kube-bench (${system ? "system" : "user"} layout): ${scored.length} scored: ${JSON.stringify(counts)}`);
        for (const [id, why] of Object.entries(notApplicable)) console.log(`      not applicable in the user layout: ${id} (${why})`);
        assert.equal(scored.length, 53, `expected 53 scored checks (47 master + 6 etcd), got ${scored.length}`);
        assert.deepEqual(failing.map((c) => `${c.id} ${c.status}: ${c.text} ${c.reason ?? ""}`), []);
        // Every CIS id the policy pack claims to decide before deploy is one this running cluster passes.
        const claimed = [...new Set(CIS_FLAG_CHECKS.map((c) => c.id))];
        assert.ok(claimed.length >= 30, `the pack claims ${claimed.length} ids`);
        const status = new Map(report.map((c) => [c.id, c.status]));
        assert.deepEqual(claimed.filter((id) => status.get(id) !== "PASS").map((id) => `${id}: ${status.get(id) ?? "not in the report"}`), []);
    });

    it("keeps etcd's key directory root's: etcd reads its keys through its group and can plant nothing there", function () {
        const dir = plan.local.etcdServerPkiDir;
        const files = fs.readdirSync(dir).filter((f) => f !== ".hardened-cluster");
        // What etcd itself reads (kubeadm's etcd/ca.crt, server and peer pairs); clients' keys live elsewhere.
        assert.deepEqual(files.sort(), ["ca.crt", "peer.crt", "peer.key", "server.crt", "server.key"]);
        const st = fs.lstatSync(dir);
        if (!system) {
            // The user layout: one user runs everything; nobody else may write on the way.
            assert.equal(st.uid, process.getuid!());
            assert.equal(st.mode & 0o022, 0);
            return;
        }
        const uid = Number(execFileSync("id", ["-u", "etcd"], { encoding: "utf8" }));
        const gid = Number(execFileSync("id", ["-g", "etcd"], { encoding: "utf8" }));
        assert.deepEqual([st.uid, st.gid, (st.mode & 0o777).toString(8)], [0, gid, "750"]);
        for (const f of files) {
            const fst = fs.lstatSync(path.join(dir, f));
            assert.ok(fst.isFile(), f);
            assert.deepEqual([fst.uid, fst.gid, (fst.mode & 0o777).toString(8)], [0, gid, f.endsWith(".key") ? "640" : "644"], f);
        }
        // etcd (healthy above) read its keys; as etcd, planting a file or a symlink there fails.
        const plant = spawnSync("sh", ["-c", `ln -s /etc/shadow ${dir}/server.key.tmp-1 || touch ${dir}/planted`], { uid, gid, encoding: "utf8" });
        assert.notEqual(plant.status, 0);
        assert.match(plant.stderr, /Permission denied/);
        assert.deepEqual(fs.readdirSync(dir).filter((f) => !files.includes(f) && f !== ".hardened-cluster"), []);
    });

    it("serves the controller manager and scheduler with certificates the cluster CA issued", async function () {
        for (const [component, port] of [["kube-controller-manager", ports.controllerManager], ["kube-scheduler", ports.scheduler]] as const) {
            const cert = await new Promise<tls.PeerCertificate>((resolve, reject) => {
                const s = tls.connect({ host: "127.0.0.1", port, ca: admin.caPem, rejectUnauthorized: true }, () => {
                    resolve(s.getPeerCertificate());
                    s.end();
                });
                s.on("error", reject);
            });
            assert.equal(cert.subject.CN, component);
        }
    });

    const pod = restrictedPod;
    const allowedImage = "registry.k8s.io/pause:3.10";

    it("labels every tenant namespace for Pod Security and fences it with default-deny", async function () {
        const ns = (await request(admin, "GET", "/api/v1/namespaces/team-a")).json();
        for (const mode of ["enforce", "audit", "warn"]) {
            assert.equal(ns.metadata.labels[`pod-security.kubernetes.io/${mode}`], "restricted");
            assert.equal(ns.metadata.labels[`pod-security.kubernetes.io/${mode}-version`], "v1.34");
        }
        const policies = (await request(admin, "GET", "/apis/networking.k8s.io/v1/namespaces/team-a/networkpolicies")).json().items;
        const deny = policies.find((p: any) => p.metadata.name === "hardened-deny-all");
        assert.ok(deny, policies.map((p: any) => p.metadata.name).join(","));
        assert.deepEqual(deny.spec.podSelector, {});
        assert.deepEqual([...deny.spec.policyTypes].sort(), ["Egress", "Ingress"]);
        assert.equal(deny.spec.ingress, undefined);
        assert.equal(deny.spec.egress, undefined);
    });

    it("admits a restricted-compliant Pod from an allowed registry (control for the next two)", async function () {
        const res = await request(admin, "POST", "/api/v1/namespaces/team-a/pods", pod("compliant", allowedImage));
        assert.equal(res.status, 201, res.body);
    });

    it("refuses privileged containers outright (--allow-privileged=false)", async function () {
        const res = await request(admin, "POST", "/api/v1/namespaces/team-a/pods",
            pod("privileged", allowedImage, { securityContext: { privileged: true } }));
        assert.equal(res.status, 422, res.body);
        assert.match(res.json().message, /privileged: Forbidden: disallowed by cluster policy/);
    });

    it("rejects hostPath, hostNetwork and root Pods in a restricted tenant namespace (Pod Security)", async function () {
        const cases: [string, Record<string, unknown>, Record<string, unknown>, RegExp][] = [
            ["hostpath", {}, { volumes: [{ name: "h", hostPath: { path: "/etc" } }] }, /hostPath/],
            ["hostnet", {}, { hostNetwork: true }, /host namespaces/],
            ["root", { securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] }, runAsNonRoot: false, runAsUser: 0 } }, {}, /runAsNonRoot|runAsUser=0/],
        ];
        for (const [name, container, spec, why] of cases) {
            const res = await request(admin, "POST", "/api/v1/namespaces/team-a/pods", pod(name, allowedImage, container, spec));
            assert.equal(res.status, 403, `${name}: ${res.body}`);
            const message: string = res.json().message;
            assert.match(message, /violates PodSecurity "restricted:v1\.34"/, `${name}: ${message}`);
            assert.match(message, why, `${name}: ${message}`);
        }
    });

    it("refuses an image from a registry outside the allow-list (ValidatingAdmissionPolicy)", async function () {
        const res = await request(admin, "POST", "/api/v1/namespaces/team-a/pods", pod("foreign", "docker.io/library/nginx:1.27"));
        assert.equal(res.status, 403, res.body);
        assert.match(res.json().message, /hardened-workload-guard/);
    });

    it("lets the viewer persona list Pods but not read Secrets", async function () {
        const vera = fromKubeconfig(outputs.userKubeconfigs.value.vera);
        const pods = await request(vera, "GET", "/api/v1/namespaces/team-a/pods");
        assert.equal(pods.status, 200, pods.body);
        const secrets = await request(vera, "GET", "/api/v1/namespaces/team-a/secrets");
        assert.equal(secrets.status, 403, secrets.body);
        const one = await request(vera, "GET", `/api/v1/namespaces/default/secrets/${secretName}`);
        assert.equal(one.status, 403, one.body);
    });

    it("restarts only the scheduler when only a scheduler flag changes", async function () {
        const pids = () => Object.fromEntries(ourProcesses().map((p) => [p.name, p.pid]));
        const before = pids();
        assert.deepEqual(Object.keys(before).sort(), ["etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler"]);
        await ps.stack.setConfig("hardened-cluster:controlPlane", { value: JSON.stringify({ scheduler: { extraArgs: { v: 2 } } }) });
        const res = await ps.stack.up();
        assert.equal(res.summary.result, "succeeded");
        const after = pids();
        assert.notEqual(after["kube-scheduler"], before["kube-scheduler"], "the scheduler was not restarted");
        for (const p of ["etcd", "kube-apiserver", "kube-controller-manager"]) assert.equal(after[p], before[p], `${p} was restarted`);
        assert.ok(ourProcesses().some((p) => /kube-scheduler/.test(p.args) && p.args.includes("--v=2")));
        await ps.stack.removeConfig("hardened-cluster:controlPlane");
        await ps.stack.up();
    });

    it("reports no changes on a second up", async function () {
        const res = await ps.stack.up();
        const changed = Object.entries(res.summary.resourceChanges ?? {}).filter(([op]) => op !== "same");
        assert.deepEqual(changed, []);
    });

    it("restores kube-apiserver after its supervisor is kill -9'd, on `up --refresh --run-program`, with no data lost", async function () {
        // A kill -9 of the apiserver alone is the supervisor's to mend (supervision.spec.ts); killing the supervisor
        // takes its component with it (parent-death signal) and leaves the recovery to Pulumi.
        const api = ourProcesses().filter((p) => /kube-apiserver/.test(p.args) && !/supervisor/.test(p.args));
        assert.equal(api.length, 1, JSON.stringify(api));
        const stat = fs.readFileSync(`/proc/${api[0].pid}/stat`, "utf8");
        const supervisor = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
        assert.match(fs.readFileSync(`/proc/${supervisor}/cmdline`, "utf8"), /supervisor\.js/);
        process.kill(supervisor, "SIGKILL");
        for (let i = 0; i < 50 && (await listening(ports.apiServer)); i++) await new Promise((r) => setTimeout(r, 100));
        assert.equal(await listening(ports.apiServer), false);
        // --run-program refreshes in dependency order: the process is found dead and started again before the
        // Kubernetes provider, which needs a live API server to refresh the in-cluster resources, is configured.
        const res = await ps.stack.up({ refresh: true, runProgram: true });
        assert.equal(res.summary.result, "succeeded");
        const read = await request(admin, "GET", `/api/v1/namespaces/default/secrets/${secretName}`);
        assert.equal(read.status, 200, read.body);
        assert.equal(Buffer.from(read.json().data.password, "base64").toString(), secretValue);
    });

    it("destroy stops every process and frees every port", async function () {
        await ps.stack.destroy();
        assert.deepEqual(ourProcesses(), []);
        for (const p of Object.values(ports)) assert.equal(await listening(p), false, `port ${p} still listening`);
    });
});
