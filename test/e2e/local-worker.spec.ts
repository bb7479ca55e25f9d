// Local worker nodes end to end (issue: a real worker node on the local platform): the blueprint's program with
// local.workers: 2 brings up two kubelets with containerd and runc in namespaces of their own, which join with the
// bootstrap token, pulls its images from the node's own registry (AlwaysPullImages stays on), and runs a
// restricted Pod. kube-router enforces the tenants' NetworkPolicies and CoreDNS answers the cluster domain: each
// connection's fate is compared with what the NetworkPolicy API says of the stored policies (netpol-model.ts).
// Then what the node must not do is tried, and a destroy must leave nothing of it behind.
import { strict as assert } from "node:assert";
import { execFileSync, spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";
import { X509Certificate } from "node:crypto";
import { parse } from "yaml";
import { KUBE_BENCH_NODE_CONFIG_PATH, KUBELET_KUBECONFIG_PATH, planWorkers, LocalWorkerPlan, NODE_DIRS, nodeSandboxSpec } from "../../platforms/local/worker/plan";
import { CLUSTER_CA_PATH } from "../../platforms/worker-join";
import { nodeToolchainAt } from "../../platforms/local/plan";
import { sandboxProvider } from "../../platforms/local/worker/sandbox";
import { DEFAULT_CLUSTER_KEYS } from "../../components/cluster";
import { KUBELET_SYSCTLS } from "../../components/control-plane";
import { Credential, fromKubeconfig, request, restrictedPod } from "./kube";
import { programStack, ProgramStack, toolchain } from "./harness";
import { runKubeBench } from "./kube-bench-run";
import { E2E_PORTS } from "./ports";
import { allowed, NetworkPolicy, PodEnd } from "./netpol-model";
import { GOBGP_API_PORT, NETWORK_POLICY_USER } from "../../platforms/node-network";

const ports = E2E_PORTS.localWorker;
/** A namespace with no NetworkPolicy: where the sandbox's own limits are tried, with no policy in the way. */
const PROBE_NS = "probe";
/** Addresses the fake outside world and the fake metadata service listen on, inside the node's network namespace. */
const OUTSIDE = "192.0.2.10";
const METADATA = "169.254.169.254";
const BINARIES = ["pulumi-resource-pulumi-nodejs", "pulumi-resource-tls", "pulumi-resource-random", "pulumi-resource-kubernetes",
    "etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubelet", "kube-proxy", "kube-router", "containerd", "containerd-shim-runc-v2", "runc", "hc-registry", "haproxy"];

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

/** GETs `url` from inside the node: the body, or "error <code>". */
function getInNode(w: LocalWorkerPlan, url: string): string {
    return inNode(w, `fetch(${JSON.stringify(url)}).then(r=>r.text()).then(t=>console.log(t),e=>console.log("error",e.cause?.code??e))`);
}

describe("local worker node (real kubelet, containerd, runc and Pods)", function () {
    this.timeout(20 * 60_000);
    let ps: ProgramStack;
    let admin: Credential;
    /** worker-1, where most probes run, and worker-2, which team-b's server is pinned to (Pod traffic between nodes). */
    let worker: LocalWorkerPlan;
    let workers: LocalWorkerPlan[];
    const nodeOf = (name: string) => workers.find((w) => w.name === name)!;
    let imageTag: string;
    let destroyed = false;
    /** The echo server Pods, by namespace. */
    const servers: Record<string, PodEnd> = {};
    /** The fake outside world's and metadata service's listeners, in the node. */
    let fakes: ReturnType<typeof spawn> | undefined;
    /** This machine's values of the kubelet's sysctls before the node existed: destroy must put them back. */
    let sysctlsBefore: string[] = [];
    const sysctls = () => KUBELET_SYSCTLS.map(([k]) => `${k}=${execFileSync("sysctl", ["-n", k], { encoding: "utf8" }).trim()}`);

    /**
     * Runs a Pod on the worker in namespace `ns` that fetches `url` (or, with `resolve`, looks a name up) once,
     * and returns what it printed (read from its log on the node).
     */
    const tryPod = async (name: string, url: string, more: { args?: string[]; token?: boolean; ns?: string; resolve?: boolean; node?: string } = {}) => {
        const ns = more.ns ?? PROBE_NS;
        // A new Pod's packets are refused until kube-router has programmed it (about a second): a single try
        // waits for that, so it sees the settled rules; repeated tries (-repeat) start at once.
        const args = [more.resolve ? "-resolve" : "-get", url, "-timeout", "4s", "-delay", "3s", ...(more.args ?? [])];
        const pod = restrictedPod(name, `localhost/hardened-cluster/echo:${imageTag}`, { args }, {
            restartPolicy: "Never", automountServiceAccountToken: more.token ?? false, ...(more.node ? { nodeName: more.node } : {}),
        });
        const r = await request(admin, "POST", `/api/v1/namespaces/${ns}/pods`, { ...pod, metadata: { name, labels: { role: "client" } } });
        assert.equal(r.status, 201, r.body);
        const done = await until(`${name} finished`, 120, async () => {
            const p = (await request(admin, "GET", `/api/v1/namespaces/${ns}/pods/${name}`)).json();
            return p.status?.phase === "Succeeded" || p.status?.phase === "Failed" ? p : undefined;
        });
        const dir = path.join(nodeOf(done.spec.nodeName).root, "var/log/pods", `${ns}_${name}_${done.metadata.uid}`, "c");
        return fs.readFileSync(path.join(dir, fs.readdirSync(dir)[0]), "utf8");
    };
    /** Starts the echo server Pod `echo` (labels app: echo) in `ns` on `node` and returns it once it runs. */
    const echoServer = async (ns: string, node: string) => {
        const echo = restrictedPod("echo", `localhost/hardened-cluster/echo:${imageTag}`, { imagePullPolicy: "Never" }, { automountServiceAccountToken: false, nodeName: node });
        const created = await request(admin, "POST", `/api/v1/namespaces/${ns}/pods`, { ...echo, metadata: { name: "echo", labels: { app: "echo" } } });
        assert.equal(created.status, 201, created.body);
        assert.equal(created.json().spec.containers[0].imagePullPolicy, "Always", "AlwaysPullImages did not rewrite the pull policy");
        return until(`the echo Pod in ${ns} running`, 120, async () => {
            const p = (await request(admin, "GET", `/api/v1/namespaces/${ns}/pods/echo`)).json();
            return p.status?.phase === "Running" && p.status.podIP ? p : undefined;
        });
    };

    before(async function () {
        if (process.getuid?.() !== 0) throw new Error("a local worker node needs root: run the e2e suite as root (CI does, in scripts/sandbox.sh)");
        const tc = toolchain(...BINARIES);
        imageTag = nodeToolchainAt(tc.bin).imageTag;
        assert.match(imageTag, /^[0-9a-f]{12}$/, "the toolchain stamped no image tag (run npm run toolchain)");
        const local = { layout: "system", ports, purgeOnDestroy: true, workers: 2 };
        const controlPlane = { network: { podCidr: "10.247.0.0/16" } };
        ps = await programStack({
            name: "worker",
            blueprint: true,
            binaries: BINARIES,
            config: {
                "hardened-cluster:local": { value: JSON.stringify(local) },
                // The admission allow-list is the default one: the platform adds the nodes' own registry.
                "hardened-cluster:baseline": { value: JSON.stringify({ tenants: [{ name: "team-a" }, { name: "team-b", allowSameNamespace: true }] }) },
                // A Pod range of its own, so a developer's stack on this machine (default range) never meets it.
                "hardened-cluster:controlPlane": { value: JSON.stringify(controlPlane) },
            },
        });
        workers = planWorkers({
            stack: ps.stackName, count: 2, runDir: path.join("/var/lib/hardened-cluster", ps.stackName), apiServerPort: ports.apiServer,
            settings: { controlPlane }, keys: DEFAULT_CLUSTER_KEYS, toolchain: nodeToolchainAt(tc.bin),
        });
        assert.deepEqual(workers.map((w) => w.podCidr), ["10.247.0.0/24", "10.247.1.0/24"]);
        [worker] = workers;
        sysctlsBefore = sysctls();
        const t0 = Date.now();
        // Each worker resource's creation time, as the engine prints it ("created (12s)").
        const took: string[] = [];
        const res = await ps.stack.up({
            onOutput: (o) => {
                if (process.env.HC_E2E_VERBOSE) process.stdout.write(o);
                for (const m of o.matchAll(/local-(worker-\d-\S+) created \(([\d.]+)s\)/g)) took.push(`${m[1]} ${m[2]}s`);
            },
        });
        assert.equal(res.summary.result, "succeeded");
        console.log(`      up with two workers: ${Math.round((Date.now() - t0) / 1000)} s (worker resources: ${took.join(", ")})`);
        admin = fromKubeconfig(res.outputs.kubeconfig.value);
    });
    after(async function () {
        fakes?.kill();
        if (!destroyed) await ps?.cleanup();
    });

    it("joins: worker-1 and worker-2 are Ready, each on its own address, running containerd", async function () {
        assert.equal(workers.length, 2);
        for (const w of workers) {
            const node = await until(`${w.name} Ready`, 120, async () => {
                const r = await request(admin, "GET", `/api/v1/nodes/${w.name}`);
                const n = r.status === 200 ? r.json() : undefined;
                return n?.status?.conditions?.find((c: any) => c.type === "Ready")?.status === "True" ? n : undefined;
            });
            const ready = node.status.conditions.find((c: any) => c.type === "Ready");
            console.log(`      ${w.name}: registered ${node.metadata.creationTimestamp}, Ready since ${ready.lastTransitionTime}`);
            assert.deepEqual(node.status.addresses.filter((a: any) => a.type === "InternalIP").map((a: any) => a.address), [w.nodeIp]);
            assert.equal(node.status.nodeInfo.kubeletVersion, "v1.34.12");
            assert.equal(node.status.nodeInfo.containerRuntimeVersion, "containerd://2.4.2");
        }
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
        // The kubeconfig it wrote names the node's CA file, as its bootstrap kubeconfig does, so a new trust
        // bundle in that file reaches it (pkg/kubelet/certificate/bootstrap copies the reference).
        const written = parse(fs.readFileSync(path.join(worker.root, KUBELET_KUBECONFIG_PATH), "utf8"));
        assert.deepEqual(written.clusters.map((c: any) => c.cluster["certificate-authority"]), [CLUSTER_CA_PATH]);
        assert.equal(written.clusters[0].cluster["certificate-authority-data"], undefined);
    });

    it("runs a restricted Pod, its image pulled from the node's registry although AlwaysPullImages forces a pull", async function () {
        const ns = await request(admin, "POST", "/api/v1/namespaces", {
            apiVersion: "v1", kind: "Namespace", metadata: { name: PROBE_NS, labels: { "pod-security.kubernetes.io/enforce": "restricted" } },
        });
        assert.equal(ns.status, 201, ns.body);
        for (const [tenant, node] of [["team-a", "worker-1"], ["team-b", "worker-2"]]) {
            const pod = await echoServer(tenant, node);
            servers[tenant] = { kind: "pod", namespace: tenant, labels: pod.metadata.labels, ip: pod.status.podIP };
            assert.equal(pod.spec.nodeName, node);
            assert.equal(pod.status.containerStatuses[0].imageID.startsWith(`localhost/hardened-cluster/echo@sha256:`), true, pod.status.containerStatuses[0].imageID);
            // From the node itself: NetworkPolicies leave the node's own traffic (the kubelet's probes) alone.
            const answer = getInNode(nodeOf(node), `http://${pod.status.podIP}:8080/`);
            assert.equal(answer, "hello from echo");
        }
    });

    it("routes a ClusterIP Service to the Pod through kube-proxy, which runs with its own identity", async function () {
        // team-b allows traffic within the namespace, so one of its Pods may reach its echo Pod.
        const svc = await request(admin, "POST", "/api/v1/namespaces/team-b/services", {
            apiVersion: "v1", kind: "Service", metadata: { name: "echo" },
            spec: { selector: { app: "echo" }, ports: [{ port: 80, targetPort: 8080 }] },
        });
        assert.equal(svc.status, 201, svc.body);
        const ip = svc.json().spec.clusterIP;
        // From the node the server runs on (its own traffic passes the policies; another node's would not).
        const out = await until("the Service answering from inside the node", 60, async () => {
            const a = getInNode(nodeOf("worker-2"), `http://${ip}/`);
            return a === "hello from echo" ? a : undefined;
        });
        assert.equal(out, "hello from echo");
        // A new Pod's address reaches kube-router's allow sets a moment after it starts: the last try is the settled fate.
        const fromPod = await tryPod("probe-service", `http://${ip}/`, { ns: "team-b", node: "worker-1", args: ["-repeat", "6", "-timeout", "2s", "-delay", "0s"] });
        assert.match(fromPod.trim().split("\n").pop()!, /status: 200/, fromPod);
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

    it("refuses a Pod that runs as root, mounts a host path or runs privileged in the tenant namespace", async function () {
        const image = `localhost/hardened-cluster/echo:${imageTag}`;
        // Root and host paths meet Pod Security admission (restricted, 403); a privileged container does not get
        // that far: the API server runs with --allow-privileged=false, which rejects it as invalid (422).
        const attempts: [string, Record<string, unknown>, number, RegExp][] = [
            ["root", restrictedPod("root", image, {}, { securityContext: { runAsNonRoot: false, runAsUser: 0, seccompProfile: { type: "RuntimeDefault" } } }), 403, /restricted/],
            ["hostpath", restrictedPod("hostpath", image, { volumeMounts: [{ name: "host", mountPath: "/host" }] }, { volumes: [{ name: "host", hostPath: { path: "/etc/kubernetes" } }] }), 403, /restricted/],
            ["privileged", restrictedPod("privileged", image, { securityContext: { privileged: true, allowPrivilegeEscalation: true, capabilities: { drop: ["ALL"] } } }), 422, /privileged: Forbidden: disallowed by cluster policy/],
        ];
        assert.equal(attempts.length, 3);
        for (const [name, pod, status, why] of attempts) {
            const r = await request(admin, "POST", "/api/v1/namespaces/team-a/pods", pod);
            assert.equal(r.status, status, `${name}: ${r.body}`);
            assert.match(r.body, why, name);
            assert.equal((await request(admin, "GET", `/api/v1/namespaces/team-a/pods/${name}`)).status, 404, `${name} exists`);
        }
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

    it("serves the cluster's DNS: CoreDNS Pods labelled as the DNS-allow policies select, answering a tenant's Pod for a Service name", async function () {
        const pods = (await request(admin, "GET", "/api/v1/namespaces/kube-system/pods?labelSelector=k8s-app%3Dkube-dns")).json().items as any[];
        assert.equal(pods.length, workers.length, "one CoreDNS replica per worker");
        for (const p of pods) {
            assert.equal(p.status.phase, "Running");
            assert.equal(p.spec.securityContext.runAsUser, 65532, "CoreDNS runs as a non-root user");
        }
        const svcIp = (await request(admin, "GET", "/api/v1/namespaces/team-b/services/echo")).json().spec.clusterIP;
        // team-a denies all egress but DNS: the name still resolves.
        const out = await tryPod("dns-a", "echo.team-b.svc.cluster.local", { ns: "team-a", resolve: true });
        assert.match(out, new RegExp(`\\b${svcIp.replace(/\./g, "\\.")}\\b`), out);
        // Nothing is forwarded out of the cluster domain.
        const away = await tryPod("dns-away", "example.com", { ns: PROBE_NS, resolve: true });
        assert.match(away, /error/i, away);
    });

    /** The live policies and namespace labels: what the model judges from. */
    const live = async () => {
        const policies = (await request(admin, "GET", "/apis/networking.k8s.io/v1/networkpolicies")).json().items as NetworkPolicy[];
        const namespaces = Object.fromEntries(((await request(admin, "GET", "/api/v1/namespaces")).json().items as any[]).map((n) => [n.metadata.name, n.metadata.labels ?? {}]));
        return { policies, namespaces };
    };
    /**
     * Runs each probe (a new Pod trying six times, a second apart), then asserts, all at once, that its settled
     * fate (the last try) is what the model predicts from the live policies and what the test expects, and that
     * a denied connection got through at no try at all, not even in the Pod's first second.
     */
    const check = async (label: string, probes: { name: string; ns: string; to: PodEnd | { kind: "address"; ip: string }; port: number; expect: boolean }[]) => {
        assert.ok(probes.length > 0);
        const { policies, namespaces } = await live();
        assert.ok(policies.length >= 4, `only ${policies.length} NetworkPolicies stored`);
        const rows: string[] = [];
        const leaks: string[] = [];
        for (const p of probes) {
            // On worker-1: team-a's server is on the same node, team-b's on worker-2, so both paths are tried.
            const out = await tryPod(`${label}-${p.name}`, `http://${p.to.ip}:${p.port}/`, { ns: p.ns, node: "worker-1", args: ["-repeat", "6", "-timeout", "2s", "-delay", "0s"] });
            const tries = out.split("\n").map((l) => /(\+[\d.]+s) (status: \d+|error: .*)$/.exec(l)).filter((m): m is RegExpExecArray => m !== null);
            assert.equal(tries.length, 6, out);
            for (const t of tries) if (!t[2].startsWith("status: 200")) assert.match(t[2], /timeout|deadline|refused|unreachable/i, out);
            const observed = tries[5][2].startsWith("status: 200");
            const firstAllowed = tries.find((t) => t[2].startsWith("status: 200"))?.[1];
            const from: PodEnd = { kind: "pod", namespace: p.ns, labels: { role: "client" }, ip: "" };
            const predicted = allowed({ from, to: p.to, port: p.port, protocol: "TCP" }, policies, namespaces);
            rows.push(`${p.name}: observed ${observed ? "allow" : "deny"}, model ${predicted ? "allow" : "deny"}, expected ${p.expect ? "allow" : "deny"}`);
            console.log(`      ${rows[rows.length - 1]}${firstAllowed ? ` (first through at ${firstAllowed})` : ""}`);
            if (!predicted && firstAllowed) leaks.push(`${p.name} got through at ${firstAllowed}`);
        }
        assert.deepEqual(rows.filter((r) => !/observed (\w+), model \1, expected \1$/.test(r)), []);
        assert.deepEqual(leaks, [], "a denied connection got through before its rule was in place");
    };

    it("enforces the tenants' own policies: default deny across tenants, to the outside and to the metadata service; same-namespace as allowSameNamespace says", async function () {
        // The outside world and the cloud's metadata service, stood for by listeners on addresses of the node's
        // loopback: inside its own network namespace, the only place a Pod's packet could reach them.
        const ns = ["netns", "exec", worker.netns];
        execFileSync("ip", [...ns, "ip", "addr", "add", `${OUTSIDE}/32`, "dev", "lo"]);
        execFileSync("ip", [...ns, "ip", "addr", "add", `${METADATA}/32`, "dev", "lo"]);
        const server = `const h=require("http");for(const a of ["${OUTSIDE}","${METADATA}"])h.createServer((q,s)=>s.end("fake "+a)).listen(80,a);`;
        fakes = spawn("nsenter", [`--net=/run/netns/${worker.netns}`, process.execPath, "-e", server], { stdio: "ignore" });
        await until("the fake metadata service answering in the node", 20, async () => {
            const a = getInNode(worker, `http://${METADATA}/`);
            return a === `fake ${METADATA}` ? a : undefined;
        });
        const outside = { kind: "address" as const, ip: OUTSIDE };
        const metadata = { kind: "address" as const, ip: METADATA };
        await check("np", [
            // The control: with no policy in its namespace a Pod reaches the listeners, so a deny below is a policy's.
            { name: "probe-to-metadata", ns: PROBE_NS, to: metadata, port: 80, expect: true },
            { name: "probe-to-a", ns: PROBE_NS, to: servers["team-a"], port: 8080, expect: false },
            { name: "a-to-b", ns: "team-a", to: servers["team-b"], port: 8080, expect: false },
            { name: "b-to-a", ns: "team-b", to: servers["team-a"], port: 8080, expect: false },
            { name: "a-to-a", ns: "team-a", to: servers["team-a"], port: 8080, expect: false },
            { name: "b-to-b", ns: "team-b", to: servers["team-b"], port: 8080, expect: true },
            { name: "a-to-outside", ns: "team-a", to: outside, port: 80, expect: false },
            { name: "a-to-metadata", ns: "team-a", to: metadata, port: 80, expect: false },
            { name: "b-to-metadata", ns: "team-b", to: metadata, port: 80, expect: false },
        ]);
    });

    it("an allow rule opens exactly its path: team-a may then reach team-b's echo port, and nothing else changes", async function () {
        const np = (ns: string, name: string, spec: Record<string, unknown>) => request(admin, "POST", `/apis/networking.k8s.io/v1/namespaces/${ns}/networkpolicies`, {
            apiVersion: "networking.k8s.io/v1", kind: "NetworkPolicy", metadata: { name }, spec,
        });
        const a = await np("team-a", "to-team-b", { podSelector: {}, policyTypes: ["Egress"], egress: [{ to: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "team-b" } } }], ports: [{ protocol: "TCP", port: 8080 }] }] });
        assert.equal(a.status, 201, a.body);
        const b = await np("team-b", "from-team-a", { podSelector: { matchLabels: { app: "echo" } }, policyTypes: ["Ingress"], ingress: [{ from: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "team-a" } } }], ports: [{ protocol: "TCP", port: 8080 }] }] });
        assert.equal(b.status, 201, b.body);
        await check("np2", [
            { name: "a-to-b", ns: "team-a", to: servers["team-b"], port: 8080, expect: true },
            { name: "b-to-a", ns: "team-b", to: servers["team-a"], port: 8080, expect: false },
            { name: "a-to-a", ns: "team-a", to: servers["team-a"], port: 8080, expect: false },
            { name: "a-to-metadata", ns: "team-a", to: { kind: "address", ip: METADATA }, port: 80, expect: false },
        ]);
    });

    it("kube-router runs its firewall only, as its own read-only user: no BGP, no service proxy", async function () {
        const listening = inNode(worker, `require("net").connect(${GOBGP_API_PORT},"127.0.0.1").on("connect",()=>{console.log("open");process.exit()}).on("error",e=>console.log(e.code))`);
        assert.equal(listening, "ECONNREFUSED", "GoBGP's API answers on the node");
        const chains = execFileSync("ip", ["netns", "exec", worker.netns, "iptables", "-S"], { encoding: "utf8" });
        assert.match(chains, /-N KUBE-ROUTER-FORWARD/);
        assert.doesNotMatch(chains, /KUBE-ROUTER-SERVICES|KUBE-SVC-.*ipvs/i);
        const kubeconfig = fs.readFileSync(path.join(worker.root, "etc/kubernetes/kube-router.conf"), "utf8");
        const cert = new X509Certificate(Buffer.from(parse(kubeconfig).users[0].user["client-certificate-data"], "base64"));
        assert.match(cert.subject, new RegExp(`CN=${NETWORK_POLICY_USER}`));
        assert.doesNotMatch(cert.subject, /O=/, "the enforcer's certificate carries no group");
        // Read-only: it may not change a NetworkPolicy or a Pod, the way a compromised enforcer would try to.
        const review = await request(admin, "POST", "/apis/authorization.k8s.io/v1/subjectaccessreviews", {
            apiVersion: "authorization.k8s.io/v1", kind: "SubjectAccessReview",
            spec: { user: NETWORK_POLICY_USER, resourceAttributes: { verb: "delete", group: "networking.k8s.io", resource: "networkpolicies", namespace: "team-a" } },
        });
        assert.equal(review.json().status.allowed, false);
    });

    it("approves the kubelet's own serving certificate, so the API server reads a Pod's log from the kubelet", async function () {
        const csr = await until("an approved kubelet-serving request", 60, async () => {
            const items = (await request(admin, "GET", "/apis/certificates.k8s.io/v1/certificatesigningrequests")).json().items as any[];
            return items.find((c) => c.spec.signerName === "kubernetes.io/kubelet-serving" && c.spec.username === "system:node:worker-1" && c.status.certificate);
        });
        const approved = csr.status.conditions.find((c: any) => c.type === "Approved");
        assert.equal(approved.reason, "NodeIdentityVerified", JSON.stringify(csr.status.conditions));
        const cert = new X509Certificate(Buffer.from(csr.status.certificate, "base64"));
        assert.equal(cert.subjectAltName?.split(", ").sort().join(", "), ["DNS:worker-1", `IP Address:${worker.nodeIp}`].sort().join(", "));
        // The API server checks the kubelet's certificate against the cluster CA (--kubelet-certificate-authority).
        const log = await until("the echo Pod's log through the kubelet", 60, async () => {
            const r = await request(admin, "GET", "/api/v1/namespaces/team-b/pods/echo/log", undefined, "*/*");
            if (r.status !== 200) throw new Error(`${r.status} ${r.body.slice(0, 300)}`);
            return r;
        });
        assert.equal(log.status, 200);
    });

    it("denies a serving certificate a node asks for under another node's name or for an address it does not have", async function () {
        // The attacker holds worker-1's kubelet credentials: the node's own client certificate and key.
        const pki = path.join(worker.root, "var/lib/kubelet/pki");
        const pem = fs.readFileSync(path.join(pki, path.basename(fs.readlinkSync(path.join(pki, "kubelet-client-current.pem")))), "utf8");
        const node: Credential = { server: admin.server, caPem: admin.caPem, certPem: pem.slice(0, pem.indexOf("-----END CERTIFICATE-----") + 25), keyPem: pem.slice(pem.indexOf("-----BEGIN", 10)) };
        const forge = async (name: string, cn: string, san: string, expectStatus = 201) => {
            const dir = fs.mkdtempSync("/tmp/hc-forge-");
            try {
                execFileSync("openssl", ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", `${dir}/k`], { stdio: "ignore" });
                const req = execFileSync("openssl", ["req", "-new", "-key", `${dir}/k`, "-subj", `/O=system:nodes/CN=${cn}`, "-addext", `subjectAltName=${san}`], { encoding: "utf8" });
                const r = await request(node, "POST", "/apis/certificates.k8s.io/v1/certificatesigningrequests", {
                    apiVersion: "certificates.k8s.io/v1", kind: "CertificateSigningRequest", metadata: { name },
                    spec: { signerName: "kubernetes.io/kubelet-serving", request: Buffer.from(req).toString("base64"), usages: ["digital signature", "server auth"] },
                });
                assert.equal(r.status, expectStatus, r.body);
            } finally {
                fs.rmSync(dir, { recursive: true, force: true });
            }
        };
        const verdict = (name: string) => until(`a verdict on ${name}`, 60, async () => {
            const c = (await request(admin, "GET", `/apis/certificates.k8s.io/v1/certificatesigningrequests/${name}`)).json();
            return c.status?.conditions?.find((x: any) => x.type === "Approved" || x.type === "Denied");
        });
        // Another node's name: the API server's own CSR admission refuses a node that asks under another name.
        await forge("forged-other-node", "system:node:worker-2", "DNS:worker-2", 403);
        // Its own name with an address this machine answers on (the API relay's), where a certificate the
        // cluster CA signed could intercept: the API server files it, the approver must deny it.
        await forge("forged-relay-address", "system:node:worker-1", `IP:${worker.hostIp},DNS:worker-1`);
        const relay = await verdict("forged-relay-address");
        assert.equal(relay.type, "Denied", JSON.stringify(relay));
        assert.match(relay.message, new RegExp(worker.hostIp.replace(/\./g, "\\.")));
        const c = (await request(admin, "GET", "/apis/certificates.k8s.io/v1/certificatesigningrequests/forged-relay-address")).json();
        assert.equal(c.status.certificate, undefined, "the forged request was signed");
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

    it("shows the workers in the posture, with kube-router named as their NetworkPolicy enforcer", async function () {
        const out = await ps.stack.outputs();
        const posture = out.posture.value.cluster.platform.workers;
        assert.deepEqual(posture.nodes, workers.map((w) => ({ name: w.name, address: w.nodeIp, podCidr: w.podCidr })));
        assert.match(posture.networkPolicyEnforcement, /^kube-router/);
        // The nodes' registry is allowed by the platform, and the posture says which setting brought it.
        assert.deepEqual(out.posture.value.baseline.admission.allowedRegistries, ["registry.k8s.io", "localhost"]);
        const weakening = out.posture.value.baseline.weakenings.filter((w: { effect: string }) => /localhost/.test(w.effect));
        assert.equal(weakening.length, 1, JSON.stringify(out.posture.value.baseline.weakenings));
        assert.equal(weakening[0].option, "hardened-cluster:local.workers");
        assert.match(weakening[0].effect, /images also allowed from localhost \(each worker's own read-only registry/);
    });

    it("refuses another stack's node whose Pod range overlaps a running one's, before it creates anything", function () {
        const links = () => execFileSync("ip", ["-o", "link", "show"], { encoding: "utf8" });
        const before = links();
        const root = fs.mkdtempSync("/tmp/hc-overlap-");
        try {
            // Another stack's worker: its own names and addresses, but worker-1's Pod range.
            assert.throws(() => sandboxProvider.run("up", {
                ...nodeSandboxSpec(worker, ports.apiServer),
                netns: "hc-overlap-test", root, vethHost: "hcov0", vethNode: "hcov1", hostIp: "10.255.254.1", nodeIp: "10.255.254.2",
                linkPrefix: "hcov", cgroupRoot: "/hardened-cluster-overlap-test", apiAddress: "10.255.254.1",
            }), (e: Error) => e.message.includes(`overlaps this node's Pod range ${worker.podCidr}`) && e.message.includes("controlPlane.network.podCidr"));
        } finally {
            fs.rmSync(root, { recursive: true, force: true });
        }
        assert.equal(fs.existsSync("/run/netns/hc-overlap-test"), false, "a network namespace was created");
        assert.equal(links(), before, "links changed");
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

    it("destroy leaves no process, namespace, mount, cgroup, interface, firewall rule or sysctl of either node", async function () {
        const res = await ps.stack.destroy();
        assert.equal(res.summary.result, "succeeded");
        destroyed = true;
        await ps.cleanup();
        const mounts = fs.readFileSync("/proc/self/mountinfo", "utf8");
        const chains = execFileSync("iptables", ["-S"], { encoding: "utf8" });
        assert.equal(workers.length, 2);
        for (const w of workers) {
            assert.equal(fs.existsSync(`/run/netns/${w.netns}`), false, `${w.name}'s network namespace is still there`);
            assert.equal(spawnSync("ip", ["link", "show", w.veth.host]).status !== 0, true, `${w.name}'s host end of the link is still there`);
            assert.equal(mounts.includes(w.root), false, `a mount under ${w.name}'s root is left`);
            const cgroups = fs.readdirSync("/sys/fs/cgroup").map((h) => path.join("/sys/fs/cgroup", h, w.cgroupRoot)).filter((d) => fs.existsSync(d));
            assert.deepEqual(cgroups, []);
            assert.equal(chains.includes(w.veth.host.toUpperCase()), false, chains);
            assert.equal(chains.includes(`-i ${w.veth.host} `), false, `a FORWARD rule of ${w.name} is left: ${chains}`);
            for (const d of NODE_DIRS) assert.equal(fs.existsSync(path.join(w.root, d)) && fs.readdirSync(path.join(w.root, d)).length > 0, false, `${d} of ${w.name} is not empty`);
        }
        const left = execFileSync("ps", ["-eo", "comm="], { encoding: "utf8" }).split("\n").map((l) => l.trim())
            .filter((c) => ["containerd", "containerd-shim", "containerd-shim-runc-v2", "kubelet", "kube-proxy", "kube-router", "coredns", "hc-registry", "pause", "echo", "haproxy"].includes(c));
        assert.deepEqual(left, []);
        assert.deepEqual(sysctls(), sysctlsBefore, "the kubelet's sysctls were not put back");
    });
});
