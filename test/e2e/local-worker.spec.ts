// A local worker node end to end (issue: a real worker node on the local platform): the blueprint's program with
// local.workers: 1 brings up a kubelet with containerd and runc in namespaces of its own, which joins with the
// bootstrap token, pulls its images from the node's own registry (AlwaysPullImages stays on), and runs a
// restricted Pod. Then what the node must not do is tried, and a destroy must leave nothing of it behind.
import { strict as assert } from "node:assert";
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";
import { X509Certificate } from "node:crypto";
import { parse } from "yaml";
import { KUBE_BENCH_NODE_CONFIG_PATH, planWorkers, LocalWorkerPlan, NODE_DIRS } from "../../platforms/local/worker/plan";
import { nodeToolchainAt } from "../../platforms/local/plan";
import { DEFAULT_CLUSTER_KEYS } from "../../components/cluster";
import { KUBELET_SYSCTLS } from "../../components/control-plane";
import { Credential, fromKubeconfig, request, restrictedPod } from "./kube";
import { programStack, ProgramStack, toolchain } from "./harness";
import { runKubeBench } from "./kube-bench-run";
import { E2E_PORTS } from "./ports";

const ports = E2E_PORTS.localWorker;
const BINARIES = ["pulumi-resource-pulumi-nodejs", "pulumi-resource-tls", "pulumi-resource-random", "pulumi-resource-kubernetes",
    "etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubelet", "kube-proxy", "containerd", "containerd-shim-runc-v2", "runc", "hc-registry", "haproxy"];

async function until<T>(what: string, seconds: number, probe: () => Promise<T | undefined>): Promise<T> {
    const deadline = Date.now() + seconds * 1000;
    let last: unknown;
    while (Date.now() < deadline) {
        try {
            const v = await probe();
            if (v !== undefined) return v;
        } catch (e) {
            last = e;
        }
        await new Promise((r) => setTimeout(r, 1000));
    }
    throw new Error(`timed out after ${seconds}s waiting for ${what}${last ? ` (last error: ${last})` : ""}`);
}

/** Runs node.js inside the worker's network namespace: how this machine's side of a test reaches the node's Pods. */
function inNode(w: LocalWorkerPlan, script: string): string {
    const res = spawnSync("nsenter", [`--net=/run/netns/${w.netns}`, process.execPath, "-e", script], { encoding: "utf8", timeout: 30_000 });
    return `${res.stdout}${res.stderr}`.trim();
}

describe("local worker node (real kubelet, containerd, runc and Pods)", function () {
    this.timeout(20 * 60_000);
    let ps: ProgramStack;
    let admin: Credential;
    let worker: LocalWorkerPlan;
    let imageTag: string;
    let destroyed = false;
    /** This machine's values of the kubelet's sysctls before the node existed: destroy must put them back. */
    let sysctlsBefore: string[] = [];
    const sysctls = () => KUBELET_SYSCTLS.map(([k]) => `${k}=${execFileSync("sysctl", ["-n", k], { encoding: "utf8" }).trim()}`);

    /** Runs a Pod on the worker that fetches `url` once, and returns what it printed (read from its log on the node). */
    const tryPod = async (name: string, url: string, more: { args?: string[]; token?: boolean } = {}) => {
        const args = ["-get", url, "-timeout", "4s", ...(more.args ?? [])];
        const pod = restrictedPod(name, `localhost/hardened-cluster/echo:${imageTag}`, { args }, { restartPolicy: "Never", automountServiceAccountToken: more.token ?? false });
        const r = await request(admin, "POST", "/api/v1/namespaces/team-a/pods", pod);
        assert.equal(r.status, 201, r.body);
        const done = await until(`${name} finished`, 120, async () => {
            const p = (await request(admin, "GET", `/api/v1/namespaces/team-a/pods/${name}`)).json();
            return p.status?.phase === "Succeeded" || p.status?.phase === "Failed" ? p : undefined;
        });
        const dir = path.join(worker.root, "var/log/pods", `team-a_${name}_${done.metadata.uid}`, "c");
        return fs.readFileSync(path.join(dir, fs.readdirSync(dir)[0]), "utf8");
    };

    before(async function () {
        if (process.getuid?.() !== 0) throw new Error("a local worker node needs root: run the e2e suite as root (CI does, in scripts/sandbox.sh)");
        const tc = toolchain(...BINARIES);
        imageTag = nodeToolchainAt(tc.bin).imageTag;
        assert.match(imageTag, /^[0-9a-f]{12}$/, "the toolchain stamped no image tag (run npm run toolchain)");
        const local = { layout: "system", ports, purgeOnDestroy: true, workers: 1 };
        ps = await programStack({
            name: "worker",
            blueprint: true,
            binaries: BINARIES,
            config: {
                "hardened-cluster:local": { value: JSON.stringify(local) },
                "hardened-cluster:baseline": { value: JSON.stringify({ tenants: [{ name: "team-a" }], admission: { allowedRegistries: ["localhost"] } }) },
            },
        });
        [worker] = planWorkers({
            stack: ps.stackName, count: 1, runDir: path.join("/var/lib/hardened-cluster", ps.stackName), apiServerPort: ports.apiServer,
            settings: {}, keys: DEFAULT_CLUSTER_KEYS, toolchain: nodeToolchainAt(tc.bin),
        });
        sysctlsBefore = sysctls();
        const t0 = Date.now();
        // Each worker resource's creation time, as the engine prints it ("created (12s)").
        const took: string[] = [];
        const res = await ps.stack.up({
            onOutput: (o) => {
                if (process.env.HC_E2E_VERBOSE) process.stdout.write(o);
                for (const m of o.matchAll(/(local-worker-1-\S+) created \(([\d.]+)s\)/g)) took.push(`${m[1].slice("local-worker-1-".length)} ${m[2]}s`);
            },
        });
        assert.equal(res.summary.result, "succeeded");
        console.log(`      up with one worker: ${Math.round((Date.now() - t0) / 1000)} s (worker resources: ${took.join(", ")})`);
        admin = fromKubeconfig(res.outputs.kubeconfig.value);
    });
    after(async function () {
        if (!destroyed) await ps?.cleanup();
    });

    it("joins: worker-1 is Ready, on the node's own address, running containerd", async function () {
        const node = await until("worker-1 Ready", 120, async () => {
            const r = await request(admin, "GET", "/api/v1/nodes/worker-1");
            const n = r.status === 200 ? r.json() : undefined;
            return n?.status?.conditions?.find((c: any) => c.type === "Ready")?.status === "True" ? n : undefined;
        });
        const ready = node.status.conditions.find((c: any) => c.type === "Ready");
        console.log(`      worker-1: registered ${node.metadata.creationTimestamp}, Ready since ${ready.lastTransitionTime}`);
        assert.deepEqual(node.status.addresses.filter((a: any) => a.type === "InternalIP").map((a: any) => a.address), [worker.nodeIp]);
        assert.equal(node.status.nodeInfo.kubeletVersion, "v1.34.12");
        assert.equal(node.status.nodeInfo.containerRuntimeVersion, "containerd://2.4.2");
    });

    it("joined through the bootstrap token: its client certificate was asked for by system:bootstrap:<id> and names system:node:worker-1", async function () {
        const csrs = (await request(admin, "GET", "/apis/certificates.k8s.io/v1/certificatesigningrequests")).json().items as any[];
        const client = csrs.filter((c) => c.spec.signerName === "kubernetes.io/kube-apiserver-client-kubelet");
        assert.ok(client.length >= 1, "no kubelet client CSR");
        for (const c of client) {
            assert.match(c.spec.username, /^system:bootstrap:[a-z0-9]{6}$/);
            assert.ok(c.status.conditions?.some((x: any) => x.type === "Approved"), `${c.metadata.name} was not approved`);
        }
        // The kubelet links its current pair by an absolute path inside the node: read it under the node's root.
        const pki = path.join(worker.root, "var/lib/kubelet/pki");
        const pem = fs.readFileSync(path.join(pki, path.basename(fs.readlinkSync(path.join(pki, "kubelet-client-current.pem")))), "utf8");
        const cert = new X509Certificate(pem.slice(0, pem.indexOf("-----END CERTIFICATE-----") + 25));
        assert.match(cert.subject, /CN=system:node:worker-1/);
        assert.match(cert.subject, /O=system:nodes/);
    });

    it("runs a restricted Pod, its image pulled from the node's registry although AlwaysPullImages forces a pull", async function () {
        const image = `localhost/hardened-cluster/echo:${imageTag}`;
        const echo = restrictedPod("echo", image, { imagePullPolicy: "Never" }, { automountServiceAccountToken: false });
        const created = await request(admin, "POST", "/api/v1/namespaces/team-a/pods", { ...echo, metadata: { name: "echo", labels: { app: "echo" } } });
        assert.equal(created.status, 201, created.body);
        assert.equal(created.json().spec.containers[0].imagePullPolicy, "Always", "AlwaysPullImages did not rewrite the pull policy");
        const pod = await until("the echo Pod running", 120, async () => {
            const p = (await request(admin, "GET", "/api/v1/namespaces/team-a/pods/echo")).json();
            return p.status?.phase === "Running" && p.status.podIP ? p : undefined;
        });
        assert.equal(pod.spec.nodeName, "worker-1");
        assert.equal(pod.status.containerStatuses[0].imageID.startsWith(`localhost/hardened-cluster/echo@sha256:`), true, pod.status.containerStatuses[0].imageID);
        const answer = inNode(worker, `fetch("http://${pod.status.podIP}:8080/").then(r=>r.text()).then(t=>console.log(t),e=>console.log("error",e.cause?.code??e))`);
        assert.equal(answer, "hello from echo");
    });

    it("routes a ClusterIP Service to the Pod through kube-proxy, which runs with its own identity", async function () {
        const svc = await request(admin, "POST", "/api/v1/namespaces/team-a/services", {
            apiVersion: "v1", kind: "Service", metadata: { name: "echo" },
            spec: { selector: { app: "echo" }, ports: [{ port: 80, targetPort: 8080 }] },
        });
        assert.equal(svc.status, 201, svc.body);
        const ip = svc.json().spec.clusterIP;
        const out = await until("the Service answering from inside the node", 60, async () => {
            const a = inNode(worker, `fetch("http://${ip}/").then(r=>r.text()).then(t=>console.log(t),e=>console.log("error",e.cause?.code??e))`);
            return a === "hello from echo" ? a : undefined;
        });
        assert.equal(out, "hello from echo");
        const fromPod = await tryPod("probe-service", `http://${ip}/`);
        assert.match(fromPod, /status: 200/, fromPod);
        assert.match(fromPod, /hello from echo/, fromPod);
        const kubeconfig = fs.readFileSync(path.join(worker.root, "etc/kubernetes/kube-proxy.conf"), "utf8");
        const cert = new X509Certificate(Buffer.from(parse(kubeconfig).users[0].user["client-certificate-data"], "base64"));
        assert.match(cert.subject, /CN=system:kube-proxy/);
        assert.doesNotMatch(cert.subject, /O=/, "kube-proxy's certificate carries no group");
    });

    it("lets a Pod reach the API server through the `kubernetes` Service, as its service account", async function () {
        const eps = (await request(admin, "GET", "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices?labelSelector=kubernetes.io%2Fservice-name%3Dkubernetes")).json();
        assert.deepEqual(eps.items.flatMap((e: any) => e.endpoints.flatMap((x: any) => x.addresses)), [worker.apiAddress]);
        const ip = (await request(admin, "GET", "/api/v1/namespaces/default/services/kubernetes")).json().spec.clusterIP;
        const sa = "/var/run/secrets/kubernetes.io/serviceaccount";
        const out = await tryPod("probe-api", `https://${ip}/api`, { args: ["-ca", `${sa}/ca.crt`, "-token-file", `${sa}/token`], token: true });
        assert.match(out, /status: 200/, out);
        assert.match(out, /"kind":"APIVersions"/, out);
    });

    it("refuses a Pod that runs as root in the tenant namespace", async function () {
        const pod = restrictedPod("root", `localhost/hardened-cluster/echo:${imageTag}`, {}, { securityContext: { runAsNonRoot: false, runAsUser: 0, seccompProfile: { type: "RuntimeDefault" } } });
        const r = await request(admin, "POST", "/api/v1/namespaces/team-a/pods", pod);
        assert.equal(r.status, 403, r.body);
        assert.match(r.body, /restricted/);
    });

    it("a Pod reaches this machine only at the API relay: nothing off this machine, nor another listener on this machine's end of the link", async function () {
        const server = net.createServer((s) => s.end("hello\n"));
        await new Promise<void>((r) => server.listen(0, "0.0.0.0", r));
        const other = (server.address() as net.AddressInfo).port;
        try {
            // An address off this machine (TEST-NET-1): the node has no route there, so the Pod is told at once.
            const away = await tryPod("probe-away", "http://192.0.2.1/");
            assert.match(away, /error: .*(network is unreachable|no route to host)/i, away);
            const blocked = await tryPod("probe-other", `http://${worker.hostIp}:${other}/`);
            assert.match(blocked, /error: .*(timeout|deadline|refused)/i, blocked);
            // The relay's port is reachable: the TLS handshake with the API server happens (its certificate is from a CA the Pod does not trust).
            const relay = await tryPod("probe-relay", `https://${worker.hostIp}:${ports.apiServer}/`);
            assert.match(relay, /certificate/i, relay);
        } finally {
            server.close();
        }
    });

    it("kube-bench's node checks (CIS 1.12 section 4) pass on the worker, run inside its namespaces", function () {
        const tc = toolchain("kube-bench");
        // The config the platform wrote in the node, read there (its paths are the node's).
        const report = runKubeBench(tc.bin, tc.kubeBenchCfg, KUBE_BENCH_NODE_CONFIG_PATH, {
            targets: "node", enter: ["nsenter", `--net=/run/netns/${worker.netns}`, `--mount=${worker.mountNs}`, "--"],
        });
        // The benchmark's own list of scored node checks (cfg/cis-1.12/node.yaml): every one must have run.
        const benchmark = parse(fs.readFileSync(path.join(tc.kubeBenchCfg, "cis-1.12", "node.yaml"), "utf8")) as { groups: { checks: { id: string; scored?: boolean }[] }[] };
        const wanted = benchmark.groups.flatMap((g) => g.checks).filter((c) => c.scored).map((c) => c.id);
        assert.ok(wanted.length >= 10, `the benchmark file lists only ${wanted.length} scored node checks`);
        const scored = report.filter((c) => c.scored);
        console.log(`      kube-bench node: ${scored.filter((c) => c.status === "PASS").length}/${scored.length} scored checks pass`);
        assert.deepEqual(scored.map((c) => c.id).sort(), [...wanted].sort());
        assert.deepEqual(scored.filter((c) => c.status !== "PASS").map((c) => `${c.id} ${c.status}: ${c.text} (${c.actual ?? c.reason ?? ""})`), []);
    });

    it("shows the workers in the posture, with NetworkPolicies named as not enforced", async function () {
        const out = await ps.stack.outputs();
        const workers = out.posture.value.cluster.platform.workers;
        assert.deepEqual(workers.nodes, [{ name: "worker-1", address: worker.nodeIp, podCidr: worker.podCidr }]);
        assert.match(workers.networkPolicyEnforcement, /^none/);
    });

    it("a second up with nothing changed changes nothing, and the node keeps its Pods", async function () {
        const before = (await request(admin, "GET", "/api/v1/namespaces/team-a/pods/echo")).json();
        const res = await ps.stack.up();
        const changes = Object.entries(res.summary.resourceChanges ?? {}).filter(([op]) => op !== "same");
        assert.deepEqual(changes, []);
        const after = (await request(admin, "GET", "/api/v1/namespaces/team-a/pods/echo")).json();
        assert.equal(after.metadata.uid, before.metadata.uid);
        assert.equal(after.status.containerStatuses[0].restartCount, before.status.containerStatuses[0].restartCount);
    });

    it("destroy leaves no process, namespace, mount, cgroup, interface, firewall chain or sysctl of the node", async function () {
        const res = await ps.stack.destroy();
        assert.equal(res.summary.result, "succeeded");
        destroyed = true;
        await ps.cleanup();
        assert.equal(fs.existsSync(`/run/netns/${worker.netns}`), false, "the network namespace is still there");
        assert.equal(spawnSync("ip", ["link", "show", worker.veth.host]).status !== 0, true, "the host end of the link is still there");
        const mounts = fs.readFileSync("/proc/self/mountinfo", "utf8");
        assert.equal(mounts.includes(worker.root), false, "a mount under the node's root is left");
        const cgroups = fs.readdirSync("/sys/fs/cgroup").map((h) => path.join("/sys/fs/cgroup", h, worker.cgroupRoot)).filter((d) => fs.existsSync(d));
        assert.deepEqual(cgroups, []);
        const chains = execFileSync("iptables", ["-S"], { encoding: "utf8" });
        assert.equal(chains.includes(worker.veth.host.toUpperCase()), false, chains);
        const left = execFileSync("ps", ["-eo", "comm="], { encoding: "utf8" }).split("\n").map((l) => l.trim())
            .filter((c) => ["containerd", "containerd-shim", "containerd-shim-runc-v2", "kubelet", "hc-registry", "pause", "echo", "haproxy"].includes(c));
        assert.deepEqual(left, []);
        assert.deepEqual(sysctls(), sysctlsBefore, "the kubelet's sysctls were not put back");
        for (const d of NODE_DIRS) assert.equal(fs.existsSync(path.join(worker.root, d)) && fs.readdirSync(path.join(worker.root, d)).length > 0, false, `${d} of the node is not empty`);
    });
});
