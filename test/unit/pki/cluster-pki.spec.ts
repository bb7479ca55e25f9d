import { strict as assert } from "node:assert";
import * as pulumi from "@pulumi/pulumi";
import { parse } from "yaml";
import { ConfigError } from "../../../components/common";
import { apiServerHealthClientPair, certificateTable, ClusterPki, kubeconfigTable } from "../../../components/pki";
import { baseOptions, singleNodeOptions } from "./fixtures";
import { registered, setPkiMocks, valueOf } from "./mocks";

const TLS = {
    key: "tls:index/privateKey:PrivateKey",
    selfSigned: "tls:index/selfSignedCert:SelfSignedCert",
    csr: "tls:index/certRequest:CertRequest",
    signed: "tls:index/locallySignedCert:LocallySignedCert",
};
const servers = { external: "https://api.example.test:6443", local: "https://127.0.0.1:6443" };

// Registrations happen asynchronously after the constructor returns; this lets them land.
const settle = () => new Promise((r) => setTimeout(r, 50));
const unb64 = (s: string) => Buffer.from(s, "base64").toString("utf8");

describe("ClusterPki (mocked engine)", function () {
    this.timeout(20000);
    let pki: ClusterPki;
    const table = certificateTable(baseOptions());

    before(async () => {
        await setPkiMocks();
        registered.length = 0;
        pki = new ClusterPki("test", { options: baseOptions(), servers });
        await valueOf(pulumi.all(Object.values(pki.kubeconfigs)));
        await settle();
    });

    it("registers the component under its type token", () => {
        assert.deepEqual(registered.filter((r) => r.type === "hardened-cluster:pki:ClusterPki").map((r) => r.name), ["test"]);
    });

    it("creates a key and self-signed CA cert per CA, a key/CSR/signed cert per table row and the SA key", () => {
        const names = (type: string) => registered.filter((r) => r.type === type).map((r) => r.name).sort();
        const rows = table.map((r) => `test-${r.name}`);
        assert.deepEqual(names(TLS.selfSigned), ["test-ca", "test-etcd-ca", "test-front-proxy-ca"]);
        assert.deepEqual(names(TLS.key), ["test-ca", "test-etcd-ca", "test-front-proxy-ca", "test-sa", ...rows].sort());
        assert.deepEqual(names(TLS.csr), [...rows].sort());
        assert.deepEqual(names(TLS.signed), [...rows].sort());
    });

    it("makes the CAs CA certificates with long validity and no early renewal", () => {
        for (const ca of registered.filter((r) => r.type === TLS.selfSigned)) {
            assert.equal(ca.inputs.isCaCertificate, true);
            assert.equal(ca.inputs.validityPeriodHours, 87600);
            assert.equal(ca.inputs.earlyRenewalHours, 0);
            assert.deepEqual([...ca.inputs.allowedUses].sort(), ["cert_signing", "crl_signing", "digital_signature", "key_encipherment"]);
        }
        assert.deepEqual(registered.find((r) => r.name === "test-etcd-ca" && r.type === TLS.selfSigned)!.inputs.subject, { commonName: "etcd-ca" });
    });

    it("uses ECDSA P-256 keys by default", () => {
        for (const k of registered.filter((r) => r.type === TLS.key)) assert.deepEqual([k.inputs.algorithm, k.inputs.ecdsaCurve], ["ECDSA", "P256"], k.name);
    });

    it("signs each leaf with the CA its row names, with the leaf validity and early renewal", () => {
        const expectedCa = { kubernetes: "CA(test-ca)", etcd: "CA(test-etcd-ca)", frontProxy: "CA(test-front-proxy-ca)" };
        for (const row of table) {
            const signed = registered.find((r) => r.type === TLS.signed && r.name === `test-${row.name}`)!;
            assert.equal(signed.inputs.caCertPem, expectedCa[row.ca], row.name);
            assert.equal(signed.inputs.certRequestPem, `CSR(test-${row.name})`);
            assert.equal(signed.inputs.validityPeriodHours, 8760);
            assert.equal(signed.inputs.earlyRenewalHours, 720);
            assert.deepEqual(signed.inputs.allowedUses, row.usages);
        }
    });

    it("puts the row's subject and SANs into the CSR", () => {
        const csr = registered.find((r) => r.type === TLS.csr && r.name === "test-kubelet-client-cp-1")!;
        assert.deepEqual(csr.inputs.subject, { commonName: "system:node:cp-1", organization: "system:nodes" });
        const api = registered.find((r) => r.type === TLS.csr && r.name === "test-apiserver-cp-2")!;
        assert.deepEqual(api.inputs.subject, { commonName: "kube-apiserver" });
        assert.ok(api.inputs.ipAddresses.includes("10.96.0.1"));
        assert.ok(api.inputs.ipAddresses.includes("192.0.2.12") && !api.inputs.ipAddresses.includes("192.0.2.11"));
        assert.ok(api.inputs.dnsNames.includes("kubernetes.default.svc.cluster.local"));
    });

    it("marks every private key and kubeconfig output secret and leaves certificates public", async () => {
        assert.equal(await pulumi.isSecret(pki.cas.kubernetes.keyPem), true);
        assert.equal(await pulumi.isSecret(pki.cas.etcd.keyPem), true);
        assert.equal(await pulumi.isSecret(pki.cas.frontProxy.keyPem), true);
        assert.equal(await pulumi.isSecret(pki.serviceAccount.privateKeyPem), true);
        for (const [name, c] of Object.entries(pki.certificates)) assert.equal(await pulumi.isSecret(c.keyPem), true, name);
        for (const [name, k] of Object.entries(pki.kubeconfigs)) assert.equal(await pulumi.isSecret(k), true, name);
        assert.equal(await pulumi.isSecret(pki.cas.kubernetes.certPem), false);
        assert.equal(await pulumi.isSecret(pki.certificates["apiserver-cp-1"].certPem), false);
    });

    it("exposes one output per table row and per kubeconfig", () => {
        assert.deepEqual(Object.keys(pki.certificates).sort(), table.map((r) => r.name).sort());
        assert.deepEqual(Object.keys(pki.kubeconfigs).sort(), kubeconfigTable(baseOptions()).map((s) => s.name).sort());
    });

    it("embeds the right credential and server in each kubeconfig", async () => {
        const admin = parse(await valueOf(pki.kubeconfigs.admin));
        assert.equal(admin.clusters[0].cluster.server, servers.external);
        // The trust bundle, every PEM block ending in a newline: here the one CA.
        assert.equal(unb64(admin.clusters[0].cluster["certificate-authority-data"]), "CA(test-ca)\n");
        assert.equal(unb64(admin.users[0].user["client-certificate-data"]), "CERT(test-admin)");
        assert.equal(unb64(admin.users[0].user["client-key-data"]), "KEY(test-admin)");
        assert.equal(admin.users[0].name, "kubernetes-admin");
        const scheduler = parse(await valueOf(pki.kubeconfigs.scheduler));
        assert.equal(scheduler.clusters[0].cluster.server, servers.local);
        const kubelet = parse(await valueOf(pki.kubeconfigs["kubelet-worker-1"]));
        assert.equal(kubelet.clusters[0].cluster.server, servers.external);
        assert.equal(unb64(kubelet.users[0].user["client-certificate-data"]), "CERT(test-kubelet-client-worker-1)");
    });

    it("has no super-admin material without breakGlass", () => {
        assert.equal(pki.certificates["super-admin"], undefined);
        assert.equal(pki.kubeconfigs["super-admin"], undefined);
        assert.equal(pki.posture.breakGlass, false);
    });

    it("has no API server health-check client unless the options ask for one", () => {
        assert.equal(pki.certificates["apiserver-health-client"], undefined);
        assert.throws(() => apiServerHealthClientPair(pki), /apiServerHealthClient/);
    });
});

describe("ClusterPki service-account keys", function () {
    this.timeout(20000);
    before(setPkiMocks);

    it("signs with the first key, verifies with every key, and puts every key behind the rotation gate", async () => {
        registered.length = 0;
        const seen: { type: string; name: string; dependsOn: unknown[] }[] = [];
        const pki = new ClusterPki("rot", { options: { ...singleNodeOptions(), serviceAccountKeys: ["sa-2", "sa"] }, servers, serviceAccountTokenLifetimeSeconds: 7200 }, {
            transformations: [(a) => (seen.push({ type: a.type, name: a.name, dependsOn: [a.opts.dependsOn ?? []].flat() }), undefined)],
        });
        // "sa" keeps the name of the single key of earlier releases, so an existing stack keeps its key.
        assert.equal(await valueOf(pki.serviceAccount.privateKeyPem), "KEY(rot-sa-sa-2)");
        assert.equal(await valueOf(pki.serviceAccount.publicKeyPem), "PUB(rot-sa-sa-2)\nPUB(rot-sa)\n");
        await settle();
        const gate = registered.find((r) => r.name === "rot-sa-keys")!;
        assert.ok(gate, "no gate registered");
        assert.deepEqual([gate.inputs.keys, gate.inputs.lifetimeSeconds, gate.inputs.configKey], [["sa-2", "sa"], 7200, "pki.serviceAccountKeys"]);
        const keys = seen.filter((r) => r.type === TLS.key && /^rot-sa(-sa-2)?$/.test(r.name));
        assert.equal(keys.length, 2);
        for (const k of keys) assert.equal(k.dependsOn.length, 1, k.name);
    });

    it("refuses a token lifetime that is not a positive whole number of seconds", () => {
        assert.throws(() => new ClusterPki("bad-life", { options: singleNodeOptions(), servers, serviceAccountTokenLifetimeSeconds: 0 }), (e: ConfigError) => e.key === "pki.serviceAccountTokenLifetimeSeconds");
    });
});

describe("ClusterPki API server certificates", function () {
    this.timeout(20000);
    before(setPkiMocks);

    it("names the former shared apiserver resources as aliases of the first node's, and no others", async () => {
        // Transformations see each child's options before registration, aliases included.
        const seen: { type: string; name: string; aliases: unknown[] }[] = [];
        const pki = new ClusterPki("ha", { options: baseOptions(), servers }, {
            transformations: [(a) => (seen.push({ type: a.type, name: a.name, aliases: (a.opts.aliases ?? []) as unknown[] }), undefined)],
        });
        await valueOf(pki.kubeconfigs.admin);
        await settle();
        const aliased = seen.filter((r) => r.aliases.length > 0);
        assert.deepEqual(aliased.map((r) => [r.type, r.name]).sort(), [[TLS.csr, "ha-apiserver-cp-1"], [TLS.key, "ha-apiserver-cp-1"], [TLS.signed, "ha-apiserver-cp-1"]].sort());
        for (const r of aliased) assert.deepEqual(r.aliases, [{ name: "ha-apiserver" }], r.type);
        // The alias must not point at a resource this program still registers.
        assert.equal(seen.some((r) => r.name === "ha-apiserver"), false);
        assert.equal(seen.filter((r) => r.name === "ha-apiserver-cp-2").length, 3);
    });

    it("issues the health-check client with no O, from the cluster CA, and hands out its PEMs", async () => {
        registered.length = 0;
        const pki = new ClusterPki("lb", { options: { ...singleNodeOptions(), apiServerHealthClient: true }, servers });
        const pair = apiServerHealthClientPair(pki);
        assert.equal(await valueOf(pair.certPem), "CERT(lb-apiserver-health-client)");
        assert.equal(await valueOf(pair.keyPem), "KEY(lb-apiserver-health-client)");
        assert.equal(await valueOf(pair.caPem), "CA(lb-ca)\n");
        assert.equal(await pulumi.isSecret(pair.keyPem), true);
        await settle();
        const csr = registered.find((r) => r.type === TLS.csr && r.name === "lb-apiserver-health-client")!;
        assert.deepEqual(csr.inputs.subject, { commonName: "hardened-cluster:apiserver-health-check" });
        const signed = registered.find((r) => r.type === TLS.signed && r.name === "lb-apiserver-health-client")!;
        assert.deepEqual([...signed.inputs.allowedUses].sort(), ["client_auth", "digital_signature", "key_encipherment"]);
        // No kubeconfig: the balancer takes the bare pair.
        assert.deepEqual(Object.keys(pki.kubeconfigs).filter((k) => k.includes("health")), []);
    });
});

describe("ClusterPki options", function () {
    this.timeout(20000);
    before(setPkiMocks);

    it("uses the chosen RSA size for every key", async () => {
        registered.length = 0;
        const pki = new ClusterPki("rsa", { options: { ...singleNodeOptions(), algorithm: "RSA-3072" }, servers });
        await valueOf(pki.kubeconfigs.admin);
        await settle();
        const keys = registered.filter((r) => r.type === TLS.key);
        assert.ok(keys.length > 0);
        for (const k of keys) assert.deepEqual([k.inputs.algorithm, k.inputs.rsaBits], ["RSA", 3072], k.name);
    });

    it("issues super-admin.conf with breakGlass and reports the weakening", async () => {
        const pki = new ClusterPki("glass", { options: { ...singleNodeOptions(), breakGlass: true }, servers });
        const conf = parse(await valueOf(pki.kubeconfigs["super-admin"]));
        assert.equal(unb64(conf.users[0].user["client-certificate-data"]), "CERT(glass-super-admin)");
        assert.equal(await pulumi.isSecret(pki.kubeconfigs["super-admin"]), true);
        assert.deepEqual(pki.posture.weakenings.map((w) => w.option), ["pki.breakGlass"]);
    });

    const invalid: [string, () => ClusterPki, string][] = [
        ["bad options", () => new ClusterPki("bad1", { options: { ...singleNodeOptions(), algorithm: "DSA" as any }, servers }), "pki.algorithm"],
        ["an http server URL", () => new ClusterPki("bad2", { options: singleNodeOptions(), servers: { external: "http://127.0.0.1:6443" } }), "pki.servers.external"],
        ["an unknown server role", () => new ClusterPki("bad3", { options: singleNodeOptions(), servers: { ...servers, admin: "https://x" } as any }), "pki.servers.admin"],
        ["an unknown argument", () => new ClusterPki("bad4", { options: singleNodeOptions(), servers, cluster: "x" } as any), "pki.cluster"],
        ["a bad cluster name", () => new ClusterPki("bad5", { options: singleNodeOptions(), servers, clusterName: "My Cluster" }), "pki.clusterName"],
    ];
    for (const [what, build, expectedKey] of invalid) {
        it(`rejects ${what} before registering any resource`, async () => {
            registered.length = 0;
            assert.throws(build, (e: unknown) => e instanceof ConfigError && e.key === expectedKey && e.message.includes(expectedKey));
            await settle();
            assert.deepEqual(registered, []);
        });
    }

    it("checks a server URL that arrives as an Output when it resolves", async () => {
        const pki = new ClusterPki("late", { options: singleNodeOptions(), servers: { external: pulumi.output("https://api.example.test"), local: pulumi.output("ftp://127.0.0.1") } });
        assert.equal(parse(await valueOf(pki.kubeconfigs.admin)).clusters[0].cluster.server, "https://api.example.test");
        // Output has no public rejection API; its internal promise carries the apply's error.
        await assert.rejects((pki.kubeconfigs.scheduler as any).promise(), (e: unknown) => e instanceof ConfigError && e.key === "pki.servers.local");
    });
});
