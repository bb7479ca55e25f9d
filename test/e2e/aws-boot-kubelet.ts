// The boot drill's worker kubelet: the cluster CA it takes from its parameter, the real kubelet's join with the
// fetched bootstrap kubeconfig (and the kubeconfig it writes), a new trust bundle through the sync, and the
// rejoin after a sync that brings a signing CA its certificate is not from.
import { strict as assert } from "node:assert";
import { X509Certificate } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { parse, stringify } from "yaml";
import { KUBELET_CLIENT_CERT, KUBELET_REJOIN_SCRIPT } from "../../platforms/aws/kubelet-rejoin";
import { FLANNEL_UNIT } from "../../platforms/aws/pod-network";
import { BOOTSTRAP_KUBECONFIG_PATH, CLUSTER_CA_PATH, KUBELET_CONFIG_PATH } from "../../platforms/aws/workers";
import { opensslCa } from "../unit/pki/openssl-ca";
import { BootDrill, CLUSTER, cloudConfigOf } from "./aws-boot-drill";
import type { ControlPlaneState } from "./aws-boot-control-plane";
import { Credential, request } from "./kube";
import { inNode, startUnit, unitOf } from "./aws-node";
import { until } from "./processes";

/** Registers the kubelet cases; they run after the first worker started, before the second joins. */
export function kubeletCases(d: BootDrill, cp: ControlPlaneState): void {
    it("a worker takes the cluster CA from its parameter, and its kubelet, joining with the fetched bootstrap kubeconfig, writes a kubeconfig that names that file, so a new trust bundle reaches the joined node through its sync", async function () {
        this.timeout(180_000);
        assert.ok(cp.applied && cp.worker, "the worker case ran above");
        const { admin } = cp.applied;
        const w = cp.worker;
        const cc = cloudConfigOf(d.run, "aws-workers");
        // The file came from the workers' parameter (no CA is inline), and holds what the control plane trusts.
        assert.ok(!cc.write_files.some((f) => f.path === CLUSTER_CA_PATH), "the cluster CA is inline in the workers' user data");
        assert.equal(fs.readFileSync(w.root + CLUSTER_CA_PATH, "utf8"), fs.readFileSync(cp.hosts[0].root + CLUSTER_CA_PATH, "utf8"));
        assert.equal((fs.statSync(w.root + CLUSTER_CA_PATH).mode & 0o777).toString(8), "644");
        const bootstrap = parse(fs.readFileSync(w.root + BOOTSTRAP_KUBECONFIG_PATH, "utf8"));
        assert.equal(bootstrap.clusters[0].cluster["certificate-authority"], CLUSTER_CA_PATH);
        assert.equal(bootstrap.clusters[0].cluster["certificate-authority-data"], undefined);

        // The real kubelet, as its unit starts it (rotateCertificates on, as on EC2): it writes its kubeconfig from
        // the bootstrap one, leaves asking for its certificate to its certificate manager, in the background, and
        // stops at the container runtime, not started yet. Its ExecStartPre would set this machine's kernel sysctls.
        const kubeconfigPath = unitOf(cc, "kubelet").argv.find((a) => a.startsWith("--kubeconfig="))!.split("=")[1];
        const clientCert = KUBELET_CLIENT_CERT;
        const log = () => fs.readFileSync(path.join(w.root, "kubelet.log"), "utf8").slice(-3000);
        const untilStopped = (kubelet: ReturnType<typeof startUnit>) => until("the kubelet stopped at the container runtime", 120, async () => {
            if (kubelet.exitCode === null) return undefined;
            assert.match(log(), /validate CRI v1 runtime API/);
            return true;
        });
        assert.ok(!fs.existsSync(w.root + kubeconfigPath), "no kubelet kubeconfig before the join");
        await untilStopped(startUnit(w, "kubelet", {}, [], { runPre: false }));
        const written = parse(fs.readFileSync(w.root + kubeconfigPath, "utf8"));
        assert.equal(written.users[0].user["client-certificate"], clientCert);
        // Its certificate: with rotation off (the drill's copy of its config) the kubelet asks for it first, and
        // writes its kubeconfig with the same function (pkg/kubelet/certificate/bootstrap).
        const drillConfig = "/etc/kubernetes/kubelet-config.drill.yaml";
        fs.writeFileSync(w.root + drillConfig, stringify({ ...parse(fs.readFileSync(w.root + KUBELET_CONFIG_PATH, "utf8")), rotateCertificates: false }), { mode: 0o600 });
        const joinNow: [string, string][] = [[`--config=${KUBELET_CONFIG_PATH}`, `--config=${drillConfig}`]];
        fs.rmSync(w.root + kubeconfigPath);
        await untilStopped(startUnit(w, "kubelet", {}, joinNow, { runPre: false }));
        assert.ok(inNode(w, ["test", "-e", clientCert]).status === 0, `no client certificate: ${log()}`);
        assert.deepEqual(parse(fs.readFileSync(w.root + kubeconfigPath, "utf8")), written);
        assert.equal(written.clusters.length, 1);
        assert.deepEqual(written.clusters[0].cluster, { server: bootstrap.clusters[0].cluster.server, "certificate-authority": CLUSTER_CA_PATH });
        // Its client certificate, from the cluster CA, names the node; it reads its own Node and no Secret.
        const read = inNode(w, ["cat", "--", clientCert]);
        assert.equal(read.status, 0, read.stderr);
        const pem = read.stdout;
        const cert = new X509Certificate(pem);
        assert.equal(cert.subject.split("\n").find((l) => l.startsWith("CN=")), `CN=system:node:${w.hostname}`);
        assert.ok(cert.checkIssued(new X509Certificate(admin.caPem)) && cert.verify(new X509Certificate(admin.caPem).publicKey), "signed by the cluster CA");
        const joined: Credential = { server: cp.applied.server, caPem: fs.readFileSync(w.root + CLUSTER_CA_PATH, "utf8"), certPem: pem, keyPem: pem };
        assert.equal((await request(joined, "GET", `/api/v1/nodes/${w.hostname}`)).status, 200);
        assert.equal((await request(joined, "GET", "/api/v1/namespaces/kube-system/secrets")).status, 403);

        // A new trust bundle (trust-both's: a second CA after the first) reaches the joined worker through its sync,
        // which restarts the units that read the file: the kubelet, and flanneld through the kubelet's kubeconfig.
        const caParam = `/${CLUSTER}/workers/cluster-ca.crt`;
        const bundle = `${d.param(caParam).value.trimEnd()}\n${opensslCa("cluster-ca-2").certPem}`;
        d.ssm([d.put(d.param(caParam), { Value: bundle, Overwrite: true })]);
        const synced = d.sync(w.root, cc);
        assert.equal(synced.status, 0, synced.stdout + synced.stderr);
        assert.deepEqual(synced.stdout.split("\n").filter((l) => l.includes("replaced /")).map((l) => l.split(" ").pop()), [CLUSTER_CA_PATH]);
        assert.deepEqual(synced.calls, ["try-restart -- kubelet.service", `try-restart -- ${FLANNEL_UNIT}.service`]);
        assert.equal(fs.readFileSync(w.root + CLUSTER_CA_PATH, "utf8").trimEnd(), bundle.trimEnd());
        d.ssm([d.put(d.param(caParam), { Overwrite: true })]);
        assert.deepEqual(d.sync(w.root, cc).calls, ["try-restart -- kubelet.service", `try-restart -- ${FLANNEL_UNIT}.service`]);
    });

    it("after a sync that brings a signing CA its kubelet's client certificate is not from, a worker makes the kubelet join again, but only while its bootstrap token is accepted", async function () {
        this.timeout(300_000);
        assert.ok(cp.applied && cp.worker, "the kubelet joined above");
        const w = cp.worker;
        const cc = cloudConfigOf(d.run, "aws-workers");
        const kubeconfigPath = unitOf(cc, "kubelet").argv.find((a) => a.startsWith("--kubeconfig="))!.split("=")[1];
        const clientCert = KUBELET_CLIENT_CERT;
        const serialOf = () => {
            const r = inNode(w, ["cat", "--", clientCert]);
            assert.equal(r.status, 0, r.stderr);
            return new X509Certificate(r.stdout).serialNumber;
        };
        const exists = (p: string) => inNode(w, ["test", "-e", p]).status === 0;
        const script = cc.write_files.find((f) => f.path === KUBELET_REJOIN_SCRIPT)!.content;
        /** The script as the sync service's ExecStartPost runs it in the node, with a stand-in systemctl. */
        const rejoin = () => {
            const systemctl = d.standInSystemctl();
            const r = inNode(w, ["env", `PATH=${systemctl.bin}:${process.env.PATH}`, "bash", "-s"], script);
            return { ...r, calls: systemctl.calls() };
        };
        const sync = () => {
            const r = d.sync(w.root, cc);
            assert.equal(r.status, 0, r.stdout + r.stderr);
            return r;
        };
        const signing = `/${CLUSTER}/workers/cluster-signing-ca.crt`;
        const bootstrap = `/${CLUSTER}/workers/bootstrap-kubelet.conf`;

        // The signing CA the stack published is the one the controller manager signed the kubelet's certificate with.
        const steady = rejoin();
        assert.equal(steady.status, 0, steady.stderr);
        assert.match(steady.stdout, /the kubelet's certificates are from the signing CA/);
        assert.deepEqual(steady.calls, []);
        const first = serialOf();

        // issue-new's signing CA (here one the controller manager does not hold, so it signs as before) reaches
        // the worker through its sync, which restarts nothing for it.
        d.ssm([d.put(d.param(signing), { Value: opensslCa("cluster-ca-2").certPem, Overwrite: true })]);
        assert.deepEqual(sync().calls, []);
        // A bootstrap token the apiserver does not know (one past its expiry is removed from kube-system): the
        // kubelet keeps the credential it has, and the service fails, naming why.
        const bogus = d.param(bootstrap).value.replace(/token: [a-z0-9]{6}\.[a-z0-9]{16}/, "token: zzzzzz.zzzzzzzzzzzzzzzz");
        assert.notEqual(bogus, d.param(bootstrap).value);
        d.ssm([d.put(d.param(bootstrap), { Value: bogus, Overwrite: true })]);
        sync();
        const refused = rejoin();
        assert.equal(refused.status, 1, refused.stdout);
        assert.match(refused.stderr, /bootstrap token is not accepted \(HTTP 401\); keeping it until pulumi up renews the token/);
        assert.ok(!refused.stderr.includes("zzzzzz"), "the token is in the refusal");
        assert.deepEqual(refused.calls, []);
        assert.ok(exists(clientCert) && exists(kubeconfigPath), "the kubelet's credential kept");

        // With the stack's token, it removes the client certificate and the kubeconfig naming it, and restarts
        // the kubelet, which joins again: a new certificate, from whichever CA the controller manager signs with.
        d.ssm([d.put(d.param(bootstrap), { Overwrite: true })]);
        sync();
        const rejoined = rejoin();
        assert.equal(rejoined.status, 0, rejoined.stderr);
        assert.deepEqual(rejoined.stdout.split("\n").filter((l) => l.includes("removed")).map((l) => l.split(" ").pop()), ["kubelet-client-current.pem", kubeconfigPath]);
        assert.deepEqual(rejoined.calls, ["try-restart -- kubelet.service"]);
        assert.ok(!exists(clientCert) && !exists(kubeconfigPath), "both removed");
        // As in the case above, with rotation off, so that it asks for its certificate before it stops.
        const kubelet = startUnit(w, "kubelet", {}, [[`--config=${KUBELET_CONFIG_PATH}`, "--config=/etc/kubernetes/kubelet-config.drill.yaml"]], { runPre: false });
        await until("the kubelet's second join", 120, async () => (kubelet.exitCode !== null ? true : undefined));
        assert.ok(exists(kubeconfigPath) && exists(clientCert), fs.readFileSync(path.join(w.root, "kubelet.log"), "utf8").slice(-3000));
        assert.notEqual(serialOf(), first);

        // The stack's signing CA back: nothing to do.
        d.ssm([d.put(d.param(signing), { Overwrite: true })]);
        sync();
        const settled = rejoin();
        assert.deepEqual([settled.status, settled.calls], [0, []]);
    });
}
