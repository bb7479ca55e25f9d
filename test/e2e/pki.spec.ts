// The cluster PKI through the real engine and tls provider: every certificate in the table is issued, chains
// to the CA the table names, carries its subject, usages and SANs, and lives as long as configured; the state
// holds no private key in plaintext.
import { strict as assert } from "node:assert";
import { X509Certificate } from "node:crypto";
import { certificateTable, CertSpec, PkiOptions } from "../../components/pki";
import { privateKeyBlocks, programStack, ProgramStack } from "./harness";

const options: PkiOptions = {
    serviceCidr: "10.96.0.0/12",
    endpoint: { dnsNames: ["api.e2e.example.com"], ipAddresses: ["192.0.2.10"] },
    controlPlaneNodes: [{ name: "cp-0", ipAddresses: ["10.0.1.10"] }, { name: "cp-1", ipAddresses: ["10.0.2.10"] }],
    workerNodes: [{ name: "worker-0", ipAddresses: ["10.0.3.10"] }],
    etcdMembers: [{ name: "cp-0", ipAddresses: ["10.0.1.10"] }, { name: "cp-1", ipAddresses: ["10.0.2.10"] }],
    users: [{ name: "vera", groups: ["viewers"] }],
    leafValidityHours: 2000,
    apiServerHealthClient: true,
};

const program = `
import * as pulumi from "@pulumi/pulumi";
import { ClusterPki } from "./components/pki";
const pki = new ClusterPki("pki", { options: ${JSON.stringify(options)}, servers: { external: "https://api.e2e.example.com:6443" } });
export const cas = Object.fromEntries(Object.entries(pki.cas).map(([k, v]) => [k, v.certPem]));
export const certificates = Object.fromEntries(Object.entries(pki.certificates).map(([k, v]) => [k, v.certPem]));
`;

/** IPv6 the way node:crypto prints SANs: eight groups, no zero compression, no leading zeros. */
function ipText(ip: string): string {
    if (!ip.includes(":")) return ip;
    const [head, tail] = ip.split("::");
    const h = head ? head.split(":") : [];
    const t = tail !== undefined && tail !== "" ? tail.split(":") : [];
    const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill("0"), ...t];
    return groups.map((g) => parseInt(g, 16).toString(16)).join(":");
}

const EKU = { server_auth: "1.3.6.1.5.5.7.3.1", client_auth: "1.3.6.1.5.5.7.3.2" } as const;

describe("PKI e2e: every certificate of the table, issued by the real tls provider", function () {
    this.timeout(10 * 60_000);
    let ps: ProgramStack;
    let cas: Record<string, X509Certificate>;
    let certs: Record<string, X509Certificate>;
    const table: CertSpec[] = certificateTable(options);

    before(async function () {
        ps = await programStack({ name: "pki", program, binaries: ["pulumi-resource-tls"] });
        const res = await ps.stack.up();
        assert.equal(res.summary.result, "succeeded");
        cas = Object.fromEntries(Object.entries(res.outputs.cas.value as Record<string, string>).map(([k, v]) => [k, new X509Certificate(v)]));
        certs = Object.fromEntries(Object.entries(res.outputs.certificates.value as Record<string, string>).map(([k, v]) => [k, new X509Certificate(v)]));
    });
    after(async function () {
        await ps?.cleanup();
    });

    it("issues exactly the certificates the table lists", function () {
        assert.deepEqual(Object.keys(certs).sort(), table.map((r) => r.name).sort());
    });

    it("makes three self-signed CAs valid for 10 years", function () {
        for (const [name, ca] of Object.entries(cas)) {
            assert.equal(ca.ca, true, name);
            assert.equal(ca.verify(ca.publicKey), true, name);
            const years = (Date.parse(ca.validTo) - Date.parse(ca.validFrom)) / (365 * 24 * 3600_000);
            assert.ok(years > 9.9 && years < 10.1, `${name}: ${years} years`);
        }
    });

    it("chains every leaf to the CA the table names, and to no other", function () {
        for (const row of table) {
            const cert = certs[row.name];
            for (const [caName, ca] of Object.entries(cas)) {
                assert.equal(cert.verify(ca.publicKey), caName === row.ca, `${row.name} vs CA ${caName}`);
            }
            assert.equal(cert.ca, false, row.name);
        }
    });

    it("carries each row's subject and extended key usages", function () {
        for (const row of table) {
            const cert = certs[row.name];
            const subject = cert.subject.split("\n");
            assert.ok(subject.includes(`CN=${row.commonName}`), `${row.name}: ${cert.subject}`);
            for (const o of row.organizations) assert.ok(subject.includes(`O=${o}`), `${row.name}: ${cert.subject}`);
            const expected = (["server_auth", "client_auth"] as const).filter((u) => row.usages.includes(u)).map((u) => EKU[u]).sort();
            assert.deepEqual([...(cert.keyUsage ?? [])].sort(), expected, row.name);
        }
    });

    it("puts every SAN of the table, and only those, into each certificate", function () {
        for (const row of table) {
            const sans = (certs[row.name].subjectAltName ?? "").split(", ").filter(Boolean).sort();
            const expected = [...row.dnsNames.map((d) => `DNS:${d}`), ...row.ipAddresses.map((ip) => `IP Address:${ipText(ip)}`)].sort();
            assert.deepEqual(sans, expected, row.name);
        }
    });

    it("gives each API server a certificate that verifies for its own node and for no other", function () {
        const nodes = [["cp-0", "10.0.1.10"], ["cp-1", "10.0.2.10"]];
        for (const [node, ip] of nodes) {
            const cert = certs[`apiserver-${node}`];
            // X509Certificate.checkHost/checkIP answer as a TLS client's name check would.
            for (const host of ["kubernetes.default.svc.cluster.local", "api.e2e.example.com", node]) assert.equal(cert.checkHost(host), host, `${node} ${host}`);
            for (const addr of ["10.96.0.1", "192.0.2.10", "127.0.0.1", ip]) assert.equal(cert.checkIP(addr), addr, `${node} ${addr}`);
            for (const [other, otherIp] of nodes.filter(([n]) => n !== node)) {
                assert.equal(cert.checkHost(other), undefined, `${node} answers for ${other}`);
                assert.equal(cert.checkIP(otherIp), undefined, `${node} answers for ${otherIp}`);
            }
        }
    });

    it("issues the API server health-check client with no O, so RBAC gives it only what every authenticated user has", function () {
        const subject = certs["apiserver-health-client"].subject.split("\n");
        assert.deepEqual(subject, ["CN=hardened-cluster:apiserver-health-check"]);
    });

    it("keeps the admin out of system:masters", function () {
        assert.doesNotMatch(certs["admin"].subject, /system:masters/);
        assert.match(certs["admin"].subject, /O=kubeadm:cluster-admins/);
    });

    it("makes leaves live as long as configured", function () {
        for (const row of table) {
            const hours = (Date.parse(certs[row.name].validTo) - Date.parse(certs[row.name].validFrom)) / 3600_000;
            assert.ok(Math.abs(hours - 2000) < 1, `${row.name}: ${hours} h`);
        }
    });

    it("keeps every private key out of `pulumi stack export` plaintext", async function () {
        assert.deepEqual(privateKeyBlocks(await ps.exportText()), []);
    });
});
