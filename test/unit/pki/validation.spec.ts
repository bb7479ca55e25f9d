import { strict as assert } from "node:assert";
import { ConfigError } from "../../../components/common";
import { certificateTable, kubeconfigTable, pkiPosture, PkiOptions } from "../../../components/pki";
import { baseOptions } from "./fixtures";

type Mutate = (o: any) => void;

// [what is wrong, how to break the fixture, the key the error must name, a fragment of the bad value]
const cases: [string, Mutate, string, string][] = [
    ["an unknown algorithm", (o) => (o.algorithm = "DSA-1024"), "pki.algorithm", "DSA-1024"],
    ["an endpoint name that is not a DNS name", (o) => (o.endpoint.dnsNames = ["ok.example.test", "not_a_name"]), "pki.endpoint.dnsNames[1]", "not_a_name"],
    ["an endpoint IP that is not an IP", (o) => (o.endpoint.ipAddresses = ["300.1.1.1"]), "pki.endpoint.ipAddresses[0]", "300.1.1.1"],
    ["a wildcard SAN on a node", (o) => (o.controlPlaneNodes[0].dnsNames = ["*.example.test"]), "pki.controlPlaneNodes[0].dnsNames[0]", "*.example.test"],
    ["a non-IP etcd member address", (o) => (o.etcdMembers[2].ipAddresses = ["etcd-c.local"]), "pki.etcdMembers[2].ipAddresses[0]", "etcd-c.local"],
    ["a zero leaf validity", (o) => (o.leafValidityHours = 0), "pki.leafValidityHours", "0"],
    ["a fractional CA validity", (o) => (o.caValidityHours = 87600.5), "pki.caValidityHours", "87600.5"],
    ["a validity given as a string", (o) => (o.leafValidityHours = "8760"), "pki.leafValidityHours", "8760"],
    ["early renewal as long as the leaf validity", (o) => ((o.leafValidityHours = 720), (o.earlyRenewalHours = 720)), "pki.earlyRenewalHours", "720"],
    ["negative early renewal", (o) => (o.earlyRenewalHours = -1), "pki.earlyRenewalHours", "-1"],
    ["CA early renewal beyond the CA validity", (o) => (o.caEarlyRenewalHours = 90000), "pki.caEarlyRenewalHours", "90000"],
    ["leaves outliving the CA", (o) => ((o.caValidityHours = 1000), (o.leafValidityHours = 2000), (o.earlyRenewalHours = 10)), "pki.leafValidityHours", "2000"],
    ["a duplicate etcd member", (o) => (o.etcdMembers[1].name = "etcd-a"), "pki.etcdMembers[1].name", "etcd-a"],
    ["a worker reusing a control-plane node name", (o) => (o.workerNodes[0].name = "cp-2"), "pki.workerNodes[0].name", "cp-2"],
    ["a duplicate user", (o) => (o.users[1].name = "alice"), "pki.users[1].name", "alice"],
    ["a node name that is not a DNS label", (o) => (o.controlPlaneNodes[0].name = "CP_1"), "pki.controlPlaneNodes[0].name", "CP_1"],
    ["a user name that is not a DNS label", (o) => (o.users[0].name = "system:alice"), "pki.users[0].name", "system:alice"],
    ["a user in system:masters", (o) => (o.users[1].groups = ["system:masters"]), "pki.users[1].groups[0]", "system:masters"],
    ["a user in another reserved system: group", (o) => (o.users[0].groups = ["system:nodes"]), "pki.users[0].groups[0]", "system:nodes"],
    ["a user in two groups", (o) => (o.users[1].groups = ["developers", "viewers"]), "pki.users[1].groups", "viewers"],
    ["an unknown top-level key", (o) => (o.breakglass = true), "pki.breakglass", "(value not shown)"],
    ["an unknown key on an etcd member", (o) => (o.etcdMembers[0].ip = "192.0.2.31"), "pki.etcdMembers[0].ip", "(value not shown)"],
    ["an unknown key on the endpoint", (o) => (o.endpoint.dnsName = "api.example.test"), "pki.endpoint.dnsName", "(value not shown)"],
    ["an empty etcd member list", (o) => (o.etcdMembers = []), "pki.etcdMembers", "[]"],
    ["no control-plane nodes", (o) => (o.controlPlaneNodes = []), "pki.controlPlaneNodes", "[]"],
    ["an IPv6 service CIDR", (o) => (o.serviceCidr = "fd00:10:96::/112"), "pki.serviceCidr", "fd00:10:96::/112"],
    ["a service CIDR wider than /12", (o) => (o.serviceCidr = "10.0.0.0/8"), "pki.serviceCidr", "10.0.0.0/8"],
    ["a missing service CIDR", (o) => delete o.serviceCidr, "pki.serviceCidr", "(missing)"],
    ["a cluster domain that is not a DNS name", (o) => (o.clusterDomain = "cluster..local"), "pki.clusterDomain", "cluster..local"],
    ["breakGlass given as a string", (o) => (o.breakGlass = "yes"), "pki.breakGlass", "yes"],
    ["apiServerHealthClient given as a string", (o) => (o.apiServerHealthClient = "true"), "pki.apiServerHealthClient", "true"],
    ["no service-account key", (o) => (o.serviceAccountKeys = []), "pki.serviceAccountKeys", "[]"],
    ["four service-account keys", (o) => (o.serviceAccountKeys = ["a", "b", "c", "d"]), "pki.serviceAccountKeys", "d"],
    ["a service-account key name that is not a DNS label", (o) => (o.serviceAccountKeys = ["sa", "Sa_2"]), "pki.serviceAccountKeys[1]", "Sa_2"],
    ["a service-account key named twice", (o) => (o.serviceAccountKeys = ["sa", "sa"]), "pki.serviceAccountKeys[1]", "sa"],
    // "apiserver-<node>" would be the name of the kubelet-client, etcd-client or health-client row.
    ["a control-plane node named after an API server client row", (o) => (o.controlPlaneNodes[1].name = "etcd-client"), "pki.controlPlaneNodes[1].name", "etcd-client"],
    ["a control-plane node named kubelet-client", (o) => (o.controlPlaneNodes[0].name = "kubelet-client"), "pki.controlPlaneNodes[0].name", "kubelet-client"],
    ["users given as an object", (o) => (o.users = { alice: {} }), "pki.users", "alice"],
];

function broken(mutate: Mutate): PkiOptions {
    const o = baseOptions();
    mutate(o);
    return o;
}

function assertConfigError(fn: () => unknown, expectedKey: string, fragment: string): void {
    assert.throws(fn, (e: unknown) => {
        assert.ok(e instanceof ConfigError, `expected a ConfigError, got ${String(e)}`);
        assert.equal(e.key, expectedKey);
        assert.ok(e.message.startsWith(`${expectedKey}: `), e.message);
        assert.ok(e.message.includes(fragment), `message should show ${fragment}: ${e.message}`);
        return true;
    });
}

describe("pki option validation", () => {
    it("accepts the fixture (so each case below fails for its own reason)", () => {
        assert.ok(certificateTable(baseOptions()).length > 0);
    });

    for (const [what, mutate, expectedKey, fragment] of cases) {
        it(`rejects ${what} naming ${expectedKey}`, () => assertConfigError(() => certificateTable(broken(mutate)), expectedKey, fragment));
    }

    it("roots keys at the caller's configKey", () => {
        assertConfigError(() => certificateTable(broken((o) => (o.endpoint.dnsNames = ["a", "b c"])), "hardened-cluster:pki"), "hardened-cluster:pki.endpoint.dnsNames[1]", "b c");
    });

    it("says what is allowed, e.g. the algorithms", () => {
        assert.throws(() => certificateTable(broken((o) => (o.algorithm = "ed25519"))), /ECDSA-P256, ECDSA-P384, RSA-2048, RSA-3072, RSA-4096/);
    });

    it("validates the same way from kubeconfigTable and pkiPosture", () => {
        const bad = broken((o) => (o.users[0].groups = ["system:masters"]));
        assertConfigError(() => kubeconfigTable(bad), "pki.users[0].groups[0]", "system:masters");
        assertConfigError(() => pkiPosture(bad), "pki.users[0].groups[0]", "system:masters");
    });
});
