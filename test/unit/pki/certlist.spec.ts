import { strict as assert } from "node:assert";
import { CA_SPECS, CertSpec, certificateTable, CLUSTER_ADMINS_GROUP } from "../../../components/pki";
import { baseOptions, singleNodeOptions } from "./fixtures";

const byName = (table: CertSpec[], name: string): CertSpec => {
    const row = table.find((r) => r.name === name);
    assert.ok(row, `no certificate named ${name}`);
    return row;
};
const sorted = (xs: string[]) => [...xs].sort();

describe("pki certificate table", () => {
    const table = certificateTable(baseOptions());

    it("has the three CAs with signing usages and kubeadm's names", () => {
        assert.deepEqual(
            CA_SPECS.map((c) => [c.name, c.commonName, c.file.base, c.file.etcd]),
            [
                ["kubernetes", "kubernetes", "ca", false],
                ["etcd", "etcd-ca", "ca", true],
                ["frontProxy", "front-proxy-ca", "front-proxy-ca", false],
            ],
        );
        for (const ca of CA_SPECS) assert.deepEqual(sorted(ca.usages), ["cert_signing", "crl_signing", "digital_signature", "key_encipherment"]);
    });

    // What kubeadm issues for a control plane, as [row, CA, CN, O, extended usages, kubeadm file, etcd dir].
    const kubeadmLeaves: [string, string, string, string[], string[], string | undefined, boolean][] = [
        ["apiserver-cp-1", "kubernetes", "kube-apiserver", [], ["server_auth"], "apiserver", false],
        ["apiserver-cp-2", "kubernetes", "kube-apiserver", [], ["server_auth"], "apiserver", false],
        ["apiserver-kubelet-client", "kubernetes", "kube-apiserver-kubelet-client", ["kubeadm:cluster-admins"], ["client_auth"], "apiserver-kubelet-client", false],
        ["apiserver-etcd-client", "etcd", "kube-apiserver-etcd-client", [], ["client_auth"], "apiserver-etcd-client", false],
        ["front-proxy-client", "frontProxy", "front-proxy-client", [], ["client_auth"], "front-proxy-client", false],
        ["etcd-healthcheck-client", "etcd", "kube-etcd-healthcheck-client", [], ["client_auth"], "healthcheck-client", true],
        ["etcd-server-etcd-a", "etcd", "etcd-a", [], ["client_auth", "server_auth"], "server", true],
        ["etcd-peer-etcd-a", "etcd", "etcd-a", [], ["client_auth", "server_auth"], "peer", true],
        // kubeadm embeds these two in their kubeconfigs; here they are files the kubeconfigs name (see files.spec).
        ["controller-manager", "kubernetes", "system:kube-controller-manager", [], ["client_auth"], "controller-manager-client", false],
        ["scheduler", "kubernetes", "system:kube-scheduler", [], ["client_auth"], "scheduler-client", false],
        ["admin", "kubernetes", "kubernetes-admin", ["kubeadm:cluster-admins"], ["client_auth"], undefined, false],
    ];
    it("issues the controller manager's and scheduler's loopback serving pairs from the cluster CA", () => {
        for (const [row, cn] of [["controller-manager-serving", "kube-controller-manager"], ["scheduler-serving", "kube-scheduler"]]) {
            const r = byName(table, row);
            assert.deepEqual([r.ca, r.commonName, r.file], ["kubernetes", cn, { base: cn, etcd: false }]);
            assert.deepEqual(sorted(r.usages), sorted(["digital_signature", "key_encipherment", "server_auth"]));
            // They bind to loopback only (CIS 1.3.7, 1.4.2): no other name may be in the certificate.
            assert.deepEqual([r.dnsNames, r.ipAddresses], [["localhost"], ["127.0.0.1"]]);
        }
    });

    for (const [name, ca, cn, o, eku, file, etcd] of kubeadmLeaves) {
        it(`issues ${name} from the ${ca} CA as CN=${cn}`, () => {
            const row = byName(table, name);
            assert.equal(row.ca, ca);
            assert.equal(row.commonName, cn);
            assert.deepEqual(row.organizations, o);
            assert.deepEqual(sorted(row.usages), sorted(["digital_signature", "key_encipherment", ...eku]));
            assert.deepEqual(row.file, file === undefined ? undefined : { base: file, etcd });
        });
    }

    // The kube-apiserver row of "PKI certificates and requirements" (kubernetes.io/docs/setup/best-practices/
    // certificates): <hostname>, <Host_IP>, <advertise_IP>, the load balancer's name and address, kubernetes,
    // kubernetes.default, kubernetes.default.svc and kubernetes.default.svc.<domain>; kubeadm adds the first
    // Service IP. localhost and 127.0.0.1 are this blueprint's: its health checks dial loopback.
    const expectedApiserverSans = (node: { name: string; dns: string[]; ips: string[] }) => ({
        dns: sorted(["kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local", "localhost", "api.example.test", node.name, ...node.dns]),
        ips: sorted(["10.96.0.1", "127.0.0.1", "203.0.113.10", ...node.ips]),
    });
    const cpNodes = [
        { name: "cp-1", dns: ["cp-1.example.test"], ips: ["192.0.2.11"] },
        { name: "cp-2", dns: [], ips: ["192.0.2.12"] },
    ];

    it("gives each control-plane node its own API server cert naming that node and no other", () => {
        const rows = table.filter((r) => r.commonName === "kube-apiserver");
        assert.deepEqual(rows.map((r) => [r.name, r.host, r.hostKind]), [["apiserver-cp-1", "cp-1", "node"], ["apiserver-cp-2", "cp-2", "node"]]);
        for (const node of cpNodes) {
            const row = byName(table, `apiserver-${node.name}`);
            assert.deepEqual({ dns: sorted(row.dnsNames), ips: sorted(row.ipAddresses) }, expectedApiserverSans(node), node.name);
        }
        const [a, b] = [byName(table, "apiserver-cp-1"), byName(table, "apiserver-cp-2")];
        assert.ok(a.ipAddresses.includes("192.0.2.11") && !a.ipAddresses.includes("192.0.2.12"));
        assert.ok(b.ipAddresses.includes("192.0.2.12") && !b.ipAddresses.includes("192.0.2.11"));
        assert.ok(!b.dnsNames.includes("cp-1") && !b.dnsNames.includes("cp-1.example.test"));
        // Workers do not serve the API, so their names must not be in any API server certificate.
        assert.ok(rows.every((r) => !r.dnsNames.includes("worker-1") && !r.ipAddresses.includes("192.0.2.21")));
    });

    it("lets only the first node's API server row take over the former shared row's name", () => {
        assert.equal(byName(table, "apiserver-cp-1").formerName, "apiserver");
        assert.equal(byName(table, "apiserver-cp-2").formerName, undefined);
        assert.deepEqual(table.filter((r) => r.formerName !== undefined).map((r) => r.name), ["apiserver-cp-1"]);
        assert.equal(table.find((r) => r.name === "apiserver"), undefined);
    });

    it("keeps a single node's API server SANs in the former shared row's order, so the renamed request is unchanged", () => {
        // A CSR is replaced on any change to its lists; with one node the alias then moves the old pair over as is.
        const row = byName(certificateTable(singleNodeOptions()), "apiserver-node-0");
        assert.deepEqual(row.dnsNames, ["kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local", "localhost", "node-0"]);
        assert.deepEqual(row.ipAddresses, ["10.43.0.1", "127.0.0.1"]);
    });

    it("derives the Service IP and cluster domain from the options", () => {
        const row = byName(certificateTable({ ...singleNodeOptions(), clusterDomain: "corp.internal" }), "apiserver-node-0");
        assert.ok(row.ipAddresses.includes("10.43.0.1"));
        assert.ok(!row.ipAddresses.includes("10.96.0.1"));
        assert.ok(row.dnsNames.includes("kubernetes.default.svc.corp.internal"));
    });

    it("adds the API server health-check client only when asked, with no group and no file", () => {
        assert.equal(table.find((r) => r.name === "apiserver-health-client"), undefined);
        assert.equal(certificateTable({ ...baseOptions(), apiServerHealthClient: false }).find((r) => r.name === "apiserver-health-client"), undefined);
        const row = byName(certificateTable({ ...baseOptions(), apiServerHealthClient: true }), "apiserver-health-client");
        assert.deepEqual([row.ca, row.commonName, row.organizations, row.file, row.host], ["kubernetes", "hardened-cluster:apiserver-health-check", [], undefined, undefined]);
        assert.deepEqual(sorted(row.usages), sorted(["digital_signature", "key_encipherment", "client_auth"]));
        assert.deepEqual([row.dnsNames, row.ipAddresses], [[], []]);
        // system: names are reserved for Kubernetes components; the balancer is not one.
        assert.ok(!row.commonName.startsWith("system:"));
    });

    it("gives each etcd member a server and a peer cert naming the member, loopback and its addresses", () => {
        for (const [member, ips] of [["etcd-a", ["192.0.2.31"]], ["etcd-b", ["192.0.2.32", "2001:db8::32"]], ["etcd-c", ["192.0.2.33"]]] as const) {
            for (const kind of ["server", "peer"]) {
                const row = byName(table, `etcd-${kind}-${member}`);
                assert.equal(row.host, member);
                assert.deepEqual(sorted(row.dnsNames), sorted([member, "localhost"]));
                assert.deepEqual(sorted(row.ipAddresses), sorted(["127.0.0.1", "::1", ...ips]));
            }
        }
    });

    it("issues a kubelet client (system:node:<name>, system:nodes) and serving cert for every node", () => {
        for (const [node, ip] of [["cp-1", "192.0.2.11"], ["cp-2", "192.0.2.12"], ["worker-1", "192.0.2.21"]]) {
            const client = byName(table, `kubelet-client-${node}`);
            assert.equal(client.commonName, `system:node:${node}`);
            assert.deepEqual(client.organizations, ["system:nodes"]);
            assert.ok(client.usages.includes("client_auth") && !client.usages.includes("server_auth"));
            const serving = byName(table, `kubelet-serving-${node}`);
            assert.ok(serving.usages.includes("server_auth") && !serving.usages.includes("client_auth"));
            assert.ok(serving.dnsNames.includes(node));
            assert.ok(serving.ipAddresses.includes(ip));
            assert.equal(serving.ca, "kubernetes");
        }
        assert.equal(table.filter((r) => r.name.startsWith("kubelet-client-")).length, 3);
    });

    it("issues per-user client certs with the user as CN and the groups as O", () => {
        const alice = byName(table, "user-alice");
        assert.deepEqual([alice.commonName, alice.organizations, alice.ca], ["alice", ["kubeadm:cluster-admins"], "kubernetes"]);
        const bob = byName(table, "user-bob");
        assert.deepEqual([bob.commonName, bob.organizations], ["bob", ["developers"]]);
        assert.ok(bob.usages.includes("client_auth") && !bob.usages.includes("server_auth"));
    });

    it("puts the admin in the cluster-admins group and nothing in system:masters by default", () => {
        assert.equal(CLUSTER_ADMINS_GROUP, "kubeadm:cluster-admins");
        assert.deepEqual(byName(table, "admin").organizations, [CLUSTER_ADMINS_GROUP]);
        assert.equal(table.find((r) => r.name === "super-admin"), undefined);
        assert.deepEqual(table.filter((r) => r.organizations.includes("system:masters")), []);
    });

    it("adds the break-glass super-admin (system:masters) only when breakGlass is true", () => {
        const row = byName(certificateTable({ ...baseOptions(), breakGlass: true }), "super-admin");
        assert.equal(row.commonName, "kubernetes-super-admin");
        assert.deepEqual(row.organizations, ["system:masters"]);
        assert.ok(row.usages.includes("client_auth"));
        assert.equal(certificateTable({ ...baseOptions(), breakGlass: false }).find((r) => r.name === "super-admin"), undefined);
    });

    it("gives every leaf digital_signature and key_encipherment and no CA usage, and unique names", () => {
        for (const row of table) {
            assert.ok(row.usages.includes("digital_signature") && row.usages.includes("key_encipherment"), row.name);
            assert.ok(!row.usages.includes("cert_signing"), row.name);
        }
        assert.equal(new Set(table.map((r) => r.name)).size, table.length);
    });

    it("lists a SAN once even when the endpoint repeats a node address", () => {
        const o = singleNodeOptions();
        o.endpoint = { ipAddresses: ["127.0.0.1"], dnsNames: ["node-0"] };
        const row = byName(certificateTable(o), "apiserver-node-0");
        assert.equal(row.ipAddresses.filter((ip) => ip === "127.0.0.1").length, 1);
        assert.equal(row.dnsNames.filter((n) => n === "node-0").length, 1);
    });
});
