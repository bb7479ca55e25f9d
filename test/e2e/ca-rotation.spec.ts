// CA rotation of all three trust domains (cluster, etcd and front-proxy CA) on the local ha topology, as an
// operator runs it: one phase per `pulumi up` (trust-both, issue-new, a step back and forward again,
// distrust-old, steady), the three domains together. Two probe
// loops run through the balancer five times a second for every up: a client certificate issued by the old CA,
// and a service-account token whose client trusts kube-root-ca.crt as a pod sees it (re-read between ups, as
// the kubelet refreshes the projected file). Neither may fail until distrust-old, which must lock out the
// old-CA certificate on every apiserver while a kubeconfig from the new CA works, and an old-CA client pair on
// every etcd member. etcd members restart one at a time. A skipped phase is refused by the preview before
// anything restarts. One up is killed with SIGKILL, with every plugin it started, while an apiserver's restart
// is in flight: the next plain up must converge, leaving one supervised process per component and none
// the state does not know.
import { strict as assert } from "node:assert";
import { X509Certificate } from "node:crypto";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { pkiFiles, pkiPair } from "../../components/common";
import * as https from "node:https";
import { inventoryDials, servedCertificate } from "../../platforms/local/certs";
import { processProvider } from "../../platforms/local/process";
import type { OutputMap } from "@pulumi/pulumi/automation";
import { HaStack, haStack } from "./ha-stack";
import { ProgramStack, toolchain } from "./harness";
import { ProbeLoop } from "./ha-probe";
import { Credential, fromKubeconfig, request } from "./kube";
import { E2E_PORTS } from "./ports";
import { allProcesses, timingLog, until } from "./processes";

const ports = E2E_PORTS.caRotation;
const BINARIES = ["pulumi-resource-pulumi-nodejs", "pulumi-resource-tls", "pulumi-resource-random", "pulumi-resource-kubernetes",
    "etcd", "etcdctl", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kube-bench", "haproxy"];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const certsIn = (pem: string) => (pem.match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g) ?? []).map((b) => new X509Certificate(b));
const fingerprints = (pem: string) => certsIn(pem).map((c) => c.fingerprint256);
const issuedBy = (leaf: X509Certificate, ca: X509Certificate) => leaf.checkIssued(ca) && leaf.verify(ca.publicKey);

/** etcd's answer to GET /health with a client pair, or the error of a handshake it refused. */
const etcdHealth = (host: string, port: number, pair: { cert: string; key: string }, ca: string) => new Promise<string>((resolve) => {
    const req = https.request({ host, port, path: "/health", agent: false, timeout: 5000, ca, cert: pair.cert, key: pair.key }, (res) => {
        res.resume();
        res.on("end", () => resolve(String(res.statusCode)));
    });
    req.on("timeout", () => req.destroy(new Error("timed out")));
    req.on("error", (e) => resolve(`error: ${e.message}`));
    req.end();
});

describe("CA rotation of the cluster, etcd and front-proxy CAs on the local ha topology (real processes)", function () {
    this.timeout(40 * 60_000);
    let ps: ProgramStack;
    let oldAdmin: Credential;
    let token: string;
    let ha: HaStack | undefined;
    let apiservers: { url: string; host: string; port: number }[] = [];
    let files: { ca: string; frontProxyCa: string; frontProxyClient: string; etcdCa: string };
    let etcdDials: ReturnType<typeof inventoryDials> = [];
    const { timings, timed } = timingLog();

    const setPhase = (generation: number, phase: string) => ps.stack.setConfig("hardened-cluster:pki", {
        value: JSON.stringify({ rotation: { kubernetes: { generation, phase }, etcd: { generation, phase }, frontProxy: { generation, phase } } }),
    });
    /** kube-root-ca.crt as a pod in default sees it. */
    const rootCa = async (cred: Credential) => {
        const res = await request(cred, "GET", "/api/v1/namespaces/default/configmaps/kube-root-ca.crt");
        assert.equal(res.status, 200, res.body);
        return res.json().data["ca.crt"] as string;
    };
    /** What the apiservers publish as the CAs they verify clients and front proxies with. */
    const published = async (cred: Credential) => {
        const res = await request(cred, "GET", "/api/v1/namespaces/kube-system/configmaps/extension-apiserver-authentication");
        assert.equal(res.status, 200, res.body);
        return { clients: fingerprints(res.json().data["client-ca-file"]), frontProxies: fingerprints(res.json().data["requestheader-client-ca-file"]) };
    };
    /** What each apiserver, asked directly, answers the credential's client pair; the server is verified against `trust`. */
    const statusOn = (cred: Credential, trust: string) => Promise.all(apiservers.map(async (a) => (await request({ ...cred, server: a.url, caPem: trust }, "GET", "/api/v1/namespaces/default")).status));
    const apiserverPids = () => allProcesses().filter((p) => p.name === "kube-apiserver" && p.args.some((a) => a.includes(String(ports.apiServer)))).map((p) => p.pid).sort();

    /**
     * A plain `pulumi up` under the probe loops. Both clients trust kube-root-ca.crt as read just before, as a
     * pod's projected file and a kubeconfig re-issued with the bundle would: servers switch CA at issue-new.
     */
    const upUnderProbes = async (what: string, clientCert: Credential | undefined, reader: Credential, run: () => Promise<{ summary: { result: string }; outputs: OutputMap }> = () => ps.stack.up()) => {
        const saTrust = await rootCa(reader);
        const loops = [
            ...(clientCert ? [new ProbeLoop({ ...clientCert, caPem: saTrust }, "/api/v1/namespaces/default")] : []),
            new ProbeLoop({ server: reader.server, caPem: saTrust, token }, "/version"),
        ];
        let res;
        try {
            await sleep(1000);
            res = await timed(what, run);
            await sleep(2000);
        } finally {
            for (const l of loops) await l.stop();
        }
        assert.equal(res.summary.result, "succeeded");
        for (const [i, l] of loops.entries()) {
            timings.push(`${what}: loop ${i + 1}: ${l.results.length} probes, ${l.failures().length} failed`);
            assert.ok(l.results.length >= 20, `only ${l.results.length} probes ran`);
            assert.deepEqual(l.failures(), [], `${what}, loop ${i + 1}`);
        }
        return fromKubeconfig(res.outputs.kubeconfig.value);
    };

    /** A CLI command in the stack's project, its output collected. */
    const cli = (command: string, args: string[], env: Record<string, string> = {}) => {
        const child = spawn(command, args, { cwd: ps.workDir, env: { ...process.env, ...ps.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
        const run = { child, out: "", exited: new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.on("exit", (code, signal) => r({ code, signal }))) };
        child.stdout.on("data", (d) => (run.out += d));
        child.stderr.on("data", (d) => (run.out += d));
        return run;
    };
    /**
     * `pulumi up` from the CLI, killed with SIGKILL together with every plugin it started (as when the operator's
     * machine loses the session) once `when` holds; the supervisors it started, detached, live on.
     */
    const killedUp = async (when: () => boolean) => {
        const up = cli(path.join(toolchain().bin, "pulumi"), ["up", "--yes", "--skip-preview", "--non-interactive", "--stack", ps.stackName]);
        await until("the moment to kill pulumi up", 300, async () => {
            if (up.child.exitCode !== null) throw new Error(`pulumi up ended before it was killed:\n${up.out}`);
            return when() || undefined;
        });
        const procs = allProcesses();
        const tree = [up.child.pid!];
        for (let i = 0; i < tree.length; i++) {
            tree.push(...procs.filter((p) => p.ppid === tree[i] && !p.args.some((a) => a.endsWith("supervisor.js"))).map((p) => p.pid));
        }
        for (const p of tree) try { process.kill(p, "SIGKILL"); } catch { /* exited meanwhile */ }
        assert.equal((await up.exited).signal, "SIGKILL", up.out);
        timings.push(`killed pulumi up: ${tree.length} processes`);
    };
    /** A command as the README runs it, through scripts/pulumi (which clears the lock a killed run left); its output. */
    const wrapper = async (...args: string[]) => {
        const run = cli("bash", [path.join(ps.workDir, "scripts", "pulumi"), ...args, "--yes", "--skip-preview", "--non-interactive", "-s", ps.stackName], { HC_TOOLCHAIN_DIR: toolchain().dir });
        assert.equal((await run.exited).code, 0, run.out);
        return run.out;
    };
    const wrapperUp = async () => {
        assert.match(await wrapper("up"), /scripts\/pulumi: removed the lock on stack .* left when it was killed/);
        return { summary: { result: "succeeded" }, outputs: await ps.stack.outputs() };
    };
    /** The state's supervised processes, each checked alive (pid and kernel start time as recorded). */
    const statedSupervisors = async () => {
        const state = JSON.parse(await ps.exportText()).deployment;
        const recorded = (state.resources as { outputs?: { supervised?: boolean; pid?: number; startTicks?: string } }[])
            .map((r) => r.outputs).filter((o) => o?.supervised === true);
        assert.ok(recorded.length >= 10, `only ${recorded.length} supervised processes in the state`);
        for (const o of recorded) assert.equal(processProvider.startTicks(o!.pid!), o!.startTicks, `supervisor ${o!.pid} is not the one the state records`);
        return { pids: new Set(recorded.map((o) => o!.pid!)), pending: (state.pending_operations ?? []) as unknown[] };
    };

    before(async function () {
        ha = await haStack("ca-rotation", ports, BINARIES);
        ps = ha.ps;
        const cp = ha.controlPlane;
        apiservers = cp.map((n) => ({ url: `https://${n.node.ip}:${ports.apiServer}`, host: n.node.ip, port: ports.apiServer }));
        const L = cp[0].node.layout;
        files = {
            ca: pkiPair(L, pkiFiles.ca).cert, frontProxyCa: pkiPair(L, pkiFiles.frontProxyCa).cert,
            frontProxyClient: pkiPair(L, pkiFiles.frontProxyClient).cert, etcdCa: pkiPair(L, pkiFiles.etcdCa, true).cert,
        };
        etcdDials = inventoryDials(ha.plan).filter((d) => d.process.startsWith("etcd"));
        const res = await timed("cold up", () => ps.stack.up());
        assert.equal(res.summary.result, "succeeded");
        oldAdmin = fromKubeconfig(res.outputs.kubeconfig.value);
        const sa = await request(oldAdmin, "POST", "/api/v1/namespaces/default/serviceaccounts", { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "probe" } });
        assert.equal(sa.status, 201, sa.body);
        const tr = await request(oldAdmin, "POST", "/api/v1/namespaces/default/serviceaccounts/probe/token", { apiVersion: "authentication.k8s.io/v1", kind: "TokenRequest", spec: { expirationSeconds: 7200 } });
        assert.equal(tr.status, 201, tr.body);
        token = tr.json().status.token;
    });
    after(async function () {
        console.log(`    timings:\n      ${timings.join("\n      ")}`);
        await ha?.cleanup();
    });

    it("refuses a skipped phase in the preview, before anything restarts", async function () {
        assert.equal(apiservers.length, 2);
        const pids = apiserverPids();
        assert.equal(pids.length, 2);
        await setPhase(2, "issue-new");
        const err = await ps.stack.preview().then(() => undefined, (e: Error) => e);
        assert.ok(err, "issue-new straight from steady was not refused");
        // Each domain's gate refuses; whichever the engine reached first is the one the error names.
        assert.match(err.message, /pki\.rotation\.(kubernetes|etcd|frontProxy): \{ generation: 2, phase: issue-new \} cannot follow the applied \{ generation: 1, phase: steady \}; .*go on to \{ generation: 2, phase: trust-both \}/);
        assert.deepEqual(apiserverPids(), pids, "a refused preview restarted an apiserver");
    });

    it("rotates the three CAs phase by phase with no failed request, and distrust-old locks out the old CAs", async function () {
        const oldCa = certsIn(fs.readFileSync(files.ca, "utf8"));
        const oldFrontProxyCa = certsIn(fs.readFileSync(files.frontProxyCa, "utf8"));
        assert.equal(oldCa.length, 1);
        assert.equal(oldFrontProxyCa.length, 1);
        const oldEtcdCa = certsIn(fs.readFileSync(files.etcdCa, "utf8"));
        assert.equal(oldEtcdCa.length, 1);
        // etcd's client pair as issued by the old CA, kept aside: after distrust-old no member may accept it.
        assert.equal(etcdDials.length, 6, "a client and a peer endpoint per member");
        const pairFiles = etcdDials[0].clientPair!;
        const oldEtcdPair = { cert: fs.readFileSync(pairFiles.cert, "utf8"), key: fs.readFileSync(pairFiles.key, "utf8") };
        const etcdPids = () => allProcesses().filter((p) => p.name === "etcd" && p.args.some((a) => a.includes(String(ports.etcdClient)))).map((p) => p.pid).sort();
        const etcdBefore = etcdPids();
        assert.equal(etcdBefore.length, 3);

        // trust-both: every trust file, kube-root-ca.crt and what the apiservers publish hold both CAs; leaves unchanged.
        await setPhase(2, "trust-both");
        // Each up reads kube-root-ca.crt with the admin kubeconfig the up before it issued.
        let admin = await upUnderProbes("trust-both up", oldAdmin, oldAdmin);
        const bothCa = certsIn(fs.readFileSync(files.ca, "utf8"));
        assert.equal(bothCa.length, 2);
        assert.equal(bothCa[0].fingerprint256, oldCa[0].fingerprint256, "the old CA, which still signs, comes first");
        const newCa = bothCa[1];
        const newFrontProxyCa = certsIn(fs.readFileSync(files.frontProxyCa, "utf8"))[1];
        assert.ok(newFrontProxyCa);
        await until("kube-root-ca.crt holds both CAs", 60, async () => fingerprints(await rootCa(admin)).length === 2 || undefined);
        assert.deepEqual(fingerprints(await rootCa(admin)).sort(), [oldCa[0].fingerprint256, newCa.fingerprint256].sort());
        assert.deepEqual(fingerprints(admin.caPem).sort(), [oldCa[0].fingerprint256, newCa.fingerprint256].sort(), "the admin kubeconfig was not re-issued with the bundle");
        const pub = await published(admin);
        assert.deepEqual(pub.clients.sort(), [oldCa[0].fingerprint256, newCa.fingerprint256].sort());
        assert.deepEqual(pub.frontProxies.sort(), [oldFrontProxyCa[0].fingerprint256, newFrontProxyCa.fingerprint256].sort());
        for (const a of apiservers) assert.ok(issuedBy(await servedCertificate(a), oldCa[0]), `${a.url} already serves a new-CA leaf`);
        const bothEtcd = certsIn(fs.readFileSync(files.etcdCa, "utf8"));
        assert.equal(bothEtcd.length, 2);
        const newEtcdCa = bothEtcd[1];
        // Each member restarted (one at a time, under the probes above) to read the bundle.
        assert.equal(etcdPids().filter((p) => etcdBefore.includes(p)).length, 0, "an etcd member kept its old process");

        // issue-new: every apiserver serves a leaf from the new CA, the front proxy's client pair comes from the new one.
        await setPhase(2, "issue-new");
        admin = await upUnderProbes("issue-new up", oldAdmin, admin);
        for (const a of apiservers) assert.ok(issuedBy(await servedCertificate(a), newCa), `${a.url} does not serve a new-CA leaf`);
        assert.ok(issuedBy(certsIn(fs.readFileSync(files.frontProxyClient, "utf8"))[0], newFrontProxyCa));
        assert.ok(issuedBy(certsIn(admin.certPem!)[0], newCa), "the admin kubeconfig was not re-issued from the new CA");
        for (const d of etcdDials) assert.ok(issuedBy(await servedCertificate(d), newEtcdCa), `${d.node.node.name} ${d.process} does not serve a new-CA leaf`);

        // One phase back and forward again: still no failed request.
        await setPhase(2, "trust-both");
        admin = await upUnderProbes("back to trust-both up", oldAdmin, admin);
        for (const a of apiservers) assert.ok(issuedBy(await servedCertificate(a), oldCa[0]), `${a.url} did not go back to an old-CA leaf`);
        // issue-new again, its up killed once the first apiserver's replacement has started; a plain up converges.
        await setPhase(2, "issue-new");
        const beforeKill = apiserverPids();
        admin = await upUnderProbes("issue-new again, killed and run again", oldAdmin, admin, async () => {
            await killedUp(() => apiserverPids().some((p) => !beforeKill.includes(p)));
            return wrapperUp();
        });
        for (const a of apiservers) assert.ok(issuedBy(await servedCertificate(a), newCa), `${a.url} does not serve a new-CA leaf after the killed up`);
        const supervisors = await statedSupervisors();
        const components = allProcesses().filter((p) => ["kube-apiserver", "etcd"].includes(p.name)
            && p.args.some((a) => a.includes(String(ports.apiServer)) || a.includes(String(ports.etcdClient))));
        assert.deepEqual(components.map((p) => p.name).sort(), ["etcd", "etcd", "etcd", "kube-apiserver", "kube-apiserver"]);
        assert.deepEqual(components.filter((p) => !supervisors.pids.has(p.ppid)).map((p) => `${p.name} ${p.pid}`), [], "a component runs under a supervisor the state does not know");
        timings.push(`after the killed up: ${supervisors.pids.size} supervised processes, ${supervisors.pending.length} pending operations in the state`);
        // Pulumi keeps the killed run's pending create, though the resource exists now; the documented refresh drops it.
        assert.equal(supervisors.pending.length, 1);
        await wrapper("refresh", "--clear-pending-creates");
        const refreshed = await statedSupervisors();
        assert.deepEqual(refreshed.pending, []);
        assert.deepEqual([...refreshed.pids].sort(), [...supervisors.pids].sort(), "the refresh changed a supervised process");

        // distrust-old: the old-CA certificate is refused by every apiserver, the new-CA kubeconfig works.
        await setPhase(2, "distrust-old");
        admin = await upUnderProbes("distrust-old up", admin, admin);
        assert.deepEqual(fingerprints(fs.readFileSync(files.ca, "utf8")), [newCa.fingerprint256]);
        assert.deepEqual(await statusOn(oldAdmin, admin.caPem), [401, 401]);
        assert.deepEqual(await statusOn(admin, admin.caPem), [200, 200]);
        await until("kube-root-ca.crt holds only the new CA", 60, async () => fingerprints(await rootCa(admin)).length === 1 || undefined);
        assert.deepEqual(fingerprints(await rootCa(admin)), [newCa.fingerprint256]);
        assert.deepEqual(await published(admin), { clients: [newCa.fingerprint256], frontProxies: [newFrontProxyCa.fingerprint256] });
        // etcd: the new pair is answered, the old one refused in the handshake, on every client endpoint.
        const etcdTrust = fs.readFileSync(files.etcdCa, "utf8");
        assert.deepEqual(fingerprints(etcdTrust), [newEtcdCa.fingerprint256]);
        const newEtcdPair = { cert: fs.readFileSync(pairFiles.cert, "utf8"), key: fs.readFileSync(pairFiles.key, "utf8") };
        assert.ok(issuedBy(certsIn(newEtcdPair.cert)[0], newEtcdCa));
        const clients = etcdDials.filter((d) => d.process === "etcd (client)");
        assert.equal(clients.length, 3);
        for (const d of clients) {
            assert.equal(await etcdHealth(d.host, d.port, newEtcdPair, etcdTrust), "200", `${d.node.node.name}: the new pair`);
            assert.match(await etcdHealth(d.host, d.port, oldEtcdPair, etcdTrust), /^error: /, `${d.node.node.name} still accepts the old CA's pair`);
        }

        // steady: the old CAs leave the state; nothing a process reads changes.
        await setPhase(2, "steady");
        const pids = apiserverPids();
        await upUnderProbes("steady up", admin, admin);
        assert.deepEqual(apiserverPids(), pids, "steady restarted an apiserver");
        const cas = (JSON.parse(await ps.exportText()).deployment.resources as { type: string; urn: string }[])
            .filter((r) => r.type === "tls:index/selfSignedCert:SelfSignedCert").map((r) => r.urn.replace(/^.*-pki-/, "")).sort();
        assert.deepEqual(cas, ["ca-2", "etcd-ca-2", "front-proxy-ca-2"]);
    });

    it("passes kube-bench on a control-plane node after the rotation", function () {
        const bench = ha!.kubeBench();
        assert.equal(bench.scored, 53);
        assert.deepEqual(bench.failing, []);
    });
});
