import { strict as assert } from "node:assert";
import { BlockList, isIPv4 } from "node:net";
import { ConfigError } from "../../../components/common";
import {
    NETWORK_POLICY_NAMES,
    egressCidr,
    renderAllowDns,
    renderDenyAll,
    renderNetworkPolicies,
    validateNetwork,
    type NetworkPolicyObject,
} from "../../../components/secure-namespace";

const METADATA_V4 = "169.254.169.254";
const METADATA_V6 = "fd00:ec2::254";

/** Independent of the code under test: does this ipBlock let traffic to `addr` through? */
function ipBlockReaches(block: { cidr: string; except?: string[] }, addr: string): boolean {
    const family = isIPv4(addr) ? "ipv4" : "ipv6";
    const inList = (cidrs: string[]) => {
        const list = new BlockList();
        for (const c of cidrs) {
            const [a, p] = c.split("/");
            if (isIPv4(a) === (family === "ipv4")) list.addSubnet(a, Number(p), family);
        }
        return list.check(addr, family);
    };
    return inList([block.cidr]) && !inList(block.except ?? []);
}

function egressReaches(policies: NetworkPolicyObject[], addr: string): boolean {
    return policies.some((p) =>
        (p.spec.egress ?? []).some((rule) => rule.to.some((peer) => peer.ipBlock !== undefined && ipBlockReaches(peer.ipBlock, addr))),
    );
}

describe("secure-namespace network policies", () => {
    it("denies all ingress and egress with an empty pod selector", () => {
        const p = renderDenyAll("team-a");
        assert.equal(p.apiVersion, "networking.k8s.io/v1");
        assert.equal(p.kind, "NetworkPolicy");
        assert.deepEqual(p.metadata.name, NETWORK_POLICY_NAMES.denyAll);
        assert.equal(p.metadata.namespace, "team-a");
        assert.deepEqual(p.spec.podSelector, {});
        assert.deepEqual(p.spec.policyTypes, ["Ingress", "Egress"]);
        assert.equal(p.spec.ingress, undefined);
        assert.equal(p.spec.egress, undefined);
    });

    it("allows DNS only: port 53 UDP and TCP to the kube-dns pods of kube-system, egress only", () => {
        const p = renderAllowDns("team-a");
        assert.equal(p.metadata.name, NETWORK_POLICY_NAMES.allowDns);
        assert.deepEqual(p.spec.policyTypes, ["Egress"]);
        assert.equal(p.spec.ingress, undefined);
        assert.equal(p.spec.egress!.length, 1);
        const [rule] = p.spec.egress!;
        assert.deepEqual(rule.to, [
            { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } }, podSelector: { matchLabels: { "k8s-app": "kube-dns" } } },
        ]);
        assert.deepEqual(rule.ports, [
            { protocol: "UDP", port: 53 },
            { protocol: "TCP", port: 53 },
        ]);
    });

    it("renders only deny-all and DNS by default", () => {
        const n = validateNetwork("k", {});
        assert.deepEqual(renderNetworkPolicies("ns", n).map((p) => p.metadata.name), [NETWORK_POLICY_NAMES.denyAll, NETWORK_POLICY_NAMES.allowDns]);
        assert.deepEqual(renderNetworkPolicies("ns", validateNetwork("k", { allowDns: false })).map((p) => p.metadata.name), [NETWORK_POLICY_NAMES.denyAll]);
    });

    it("opt-in allows: same namespace both ways, ingress from labelled namespaces, egress CIDRs with ports", () => {
        const n = validateNetwork("k", {
            allowSameNamespace: true,
            allowIngressFromNamespaces: [{ namespaceLabels: { team: "web" }, ports: [{ port: 8080 }] }],
            allowEgressTo: [{ cidr: "10.20.0.0/16", ports: [{ port: 5432, protocol: "TCP" }] }],
        });
        const byName = Object.fromEntries(renderNetworkPolicies("ns", n).map((p) => [p.metadata.name, p]));
        assert.deepEqual(byName[NETWORK_POLICY_NAMES.allowSameNamespace].spec, {
            podSelector: {},
            policyTypes: ["Ingress", "Egress"],
            ingress: [{ from: [{ podSelector: {} }] }],
            egress: [{ to: [{ podSelector: {} }] }],
        });
        assert.deepEqual(byName[NETWORK_POLICY_NAMES.allowIngressFromNamespaces].spec.ingress, [
            { from: [{ namespaceSelector: { matchLabels: { team: "web" } } }], ports: [{ protocol: "TCP", port: 8080 }] },
        ]);
        assert.deepEqual(byName[NETWORK_POLICY_NAMES.allowEgressCidrs].spec.egress, [
            { to: [{ ipBlock: { cidr: "10.20.0.0/16" } }], ports: [{ protocol: "TCP", port: 5432 }] },
        ]);
    });

    const cidrs = [
        "0.0.0.0/0", "128.0.0.0/1", "169.254.0.0/16", "169.254.169.0/24", "169.254.169.254/31", "169.254.169.252/30",
        "10.0.0.0/8", "192.168.0.0/16", "::/0", "fd00::/8", "fd00:ec2::/64", "2001:db8::/32",
    ];
    it("never lets an egress allow reach the metadata service, whatever CIDRs are configured", () => {
        for (const cidr of cidrs) {
            const n = validateNetwork("k", { allowSameNamespace: true, allowEgressTo: [{ cidr }] });
            const policies = renderNetworkPolicies("ns", n);
            assert.equal(egressReaches(policies, METADATA_V4), false, `${cidr} reaches ${METADATA_V4}`);
            assert.equal(egressReaches(policies, METADATA_V6), false, `${cidr} reaches ${METADATA_V6}`);
        }
        const all = validateNetwork("k", { allowEgressTo: cidrs.map((cidr) => ({ cidr })) });
        assert.equal(egressReaches(renderNetworkPolicies("ns", all), METADATA_V4), false);
    });

    it("keeps the rest of a CIDR that contains the metadata address reachable", () => {
        const n = validateNetwork("k", { allowEgressTo: [{ cidr: "0.0.0.0/0" }, { cidr: "::/0" }] });
        const policies = renderNetworkPolicies("ns", n);
        assert.ok(egressReaches(policies, "1.1.1.1"));
        assert.ok(egressReaches(policies, "169.254.169.253"));
        assert.ok(egressReaches(policies, "2001:db8::1"));
        assert.deepEqual(egressCidr("k", "0.0.0.0/0"), { cidr: "0.0.0.0/0", except: ["169.254.169.254/32"] });
        assert.deepEqual(egressCidr("k", "::/0"), { cidr: "::/0", except: ["fd00:ec2::254/128"] });
        assert.deepEqual(egressCidr("k", "10.0.0.0/8"), { cidr: "10.0.0.0/8", except: [] });
    });

    it("refuses a CIDR that is only the metadata address, since it cannot be excepted", () => {
        for (const cidr of ["169.254.169.254/32", "fd00:ec2::254/128"]) {
            assert.throws(() => egressCidr("hc.allowEgressTo[0].cidr", cidr), (e: unknown) => e instanceof ConfigError && /metadata/.test(e.message) && e.message.includes("hc.allowEgressTo[0].cidr"));
        }
    });

    it("refuses CIDRs that do not parse or have host bits set", () => {
        for (const cidr of ["10.0.0.0", "10.0.0.0/33", "300.0.0.0/8", "example.com/8", "10.0.0.1/8"]) {
            assert.throws(() => egressCidr("hc.cidr", cidr), (e: unknown) => e instanceof ConfigError && e.message.includes("hc.cidr"), cidr);
        }
    });
});
