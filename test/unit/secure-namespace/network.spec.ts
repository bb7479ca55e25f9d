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

// Credential endpoints as the clouds document them, and the IPv6 spellings that carry 169.254.169.254 there:
// IPv4-mapped (RFC 4291 2.5.5.2), its hex form, NAT64 well-known prefix (RFC 6052), IPv4-compatible, SIIT.
const CREDENTIAL_ADDRESSES = [
    "169.254.169.254", "169.254.170.2", "169.254.170.23", "100.100.100.200", "fd00:ec2::254", "fd00:ec2::23", "fe80::a9fe:a9fe",
    "::ffff:169.254.169.254", "::ffff:a9fe:a9fe", "64:ff9b::a9fe:a9fe", "64:ff9b::169.254.169.254", "::169.254.169.254", "::ffff:0:a9fe:a9fe",
    "::ffff:100.100.100.200", "64:ff9b::6464:64c8", "::ffff:169.254.170.2",
];

/**
 * IPv4-mapped addresses (::ffff:a.b.c.d) are IPv4 on the wire and in Go's net.IPNet, which both the API
 * server and Go-written network plugins use: a mapped address or block is compared as its IPv4 form. The
 * WHATWG URL parser (not the code under test) gives the compressed hex form to recognise them by.
 */
function asGoSees(addr: string, prefix: number): { addr: string; prefix: number; family: "ipv4" | "ipv6" } {
    if (isIPv4(addr)) return { addr, prefix, family: "ipv4" };
    const m = /^\[::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})\]$/.exec(new URL(`http://[${addr}]/`).hostname);
    if (!m || prefix < 96) return { addr, prefix, family: "ipv6" };
    const [hi, lo] = [parseInt(m[1], 16), parseInt(m[2], 16)];
    return { addr: [hi >> 8, hi & 255, lo >> 8, lo & 255].join("."), prefix: prefix - 96, family: "ipv4" };
}

/** Independent of the code under test: does this ipBlock let traffic to `addr` through? */
function ipBlockReaches(block: { cidr: string; except?: string[] }, target: string): boolean {
    const t = asGoSees(target, isIPv4(target) ? 32 : 128);
    const inList = (cidrs: string[]) => {
        const list = new BlockList();
        for (const c of cidrs) {
            const [a, p] = c.split("/");
            const b = asGoSees(a, Number(p));
            // Only blocks of the target's family: BlockList itself would fold mapped addresses differently.
            if (b.family === t.family) list.addSubnet(b.addr, b.prefix, b.family);
        }
        return list.check(t.addr, t.family);
    };
    return inList([block.cidr]) && !inList(block.except ?? []);
}

/** What the API server checks of an except (networking validation): a strict subset of cidr, as Go sees both. */
function exceptIsValid(cidr: string, except: string): boolean {
    const [c, e] = [cidr, except].map((x) => asGoSees(x.split("/")[0], Number(x.split("/")[1])));
    if (c.family !== e.family || e.prefix <= c.prefix) return false;
    const list = new BlockList();
    list.addSubnet(c.addr, c.prefix, c.family);
    return list.check(e.addr, e.family);
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
        "0.0.0.0/0", "128.0.0.0/1", "0.0.0.0/1", "169.254.0.0/15", "160.0.0.0/4", "100.64.0.0/10", "100.100.100.0/24",
        "10.0.0.0/8", "192.168.0.0/16", "::/0", "::/1", "::/8", "::/96", "::ffff:0:0/96", "::ffff:0:0:0/96", "64:ff9b::/96", "64::/16",
        "fd00::/8", "fd00:ec2::/64", "fc00::/7", "fe00::/7", "fe80::/9", "2001:db8::/32",
    ];
    it("never lets an egress allow reach a credential endpoint, in any spelling, whatever CIDRs are configured", () => {
        assert.equal(cidrs.length, 23);
        let checked = 0;
        for (const cidr of cidrs) {
            const n = validateNetwork("k", { allowSameNamespace: true, allowEgressTo: [{ cidr }] });
            const policies = renderNetworkPolicies("ns", n);
            for (const addr of CREDENTIAL_ADDRESSES) {
                assert.equal(egressReaches(policies, addr), false, `${cidr} reaches ${addr}`);
                checked++;
            }
        }
        assert.equal(checked, cidrs.length * CREDENTIAL_ADDRESSES.length);
        const all = validateNetwork("k", { allowEgressTo: cidrs.map((cidr) => ({ cidr })) });
        for (const addr of CREDENTIAL_ADDRESSES) assert.equal(egressReaches(renderNetworkPolicies("ns", all), addr), false, addr);
    });

    it("excepts the whole link-local ranges and the named endpoints from the world", () => {
        const v4 = egressCidr("k", "0.0.0.0/0");
        assert.equal(v4.cidr, "0.0.0.0/0");
        assert.deepEqual([...v4.except].sort(), ["100.100.100.200/32", "169.254.0.0/16"]);
        const v6 = egressCidr("k", "::/0");
        for (const e of ["fe80::/10", "fd00:ec2::254/128", "fd00:ec2::23/128", "64:ff9b::a9fe:0/112", "::a9fe:0/112"]) {
            assert.ok(v6.except.includes(e), `::/0 does not except ${e}: ${v6.except.join(", ")}`);
        }
    });

    it("renders only excepts the API server accepts as strict subsets of their cidr", () => {
        let checked = 0;
        for (const cidr of cidrs) {
            const { except } = egressCidr("k", cidr);
            for (const e of except) {
                assert.ok(exceptIsValid(cidr, e), `${e} is not a strict subset of ${cidr} as the API server sees it`);
                checked++;
            }
        }
        assert.ok(checked >= 40, `only ${checked} excepts checked`);
        assert.deepEqual(egressCidr("k", "::ffff:0:0/96").except, ["::ffff:169.254.0.0/112", "::ffff:100.100.100.200/128"]);
    });

    it("keeps the rest of a CIDR that contains a credential endpoint reachable", () => {
        const n = validateNetwork("k", { allowEgressTo: [{ cidr: "0.0.0.0/0" }, { cidr: "::/0" }] });
        const policies = renderNetworkPolicies("ns", n);
        assert.ok(egressReaches(policies, "1.1.1.1"));
        assert.ok(egressReaches(policies, "169.253.255.255"));
        assert.ok(egressReaches(policies, "169.255.0.0"));
        assert.ok(egressReaches(policies, "2001:db8::1"));
        assert.ok(egressReaches(policies, "64:ff9b::808:808"));
        assert.deepEqual(egressCidr("k", "10.0.0.0/8"), { cidr: "10.0.0.0/8", except: [] });
    });

    it("refuses a CIDR inside a forbidden block, since NetworkPolicy cannot except a whole block", () => {
        const inside = [
            "169.254.169.254/32", "fd00:ec2::254/128", "169.254.170.2/32", "169.254.170.23/32", "fd00:ec2::23/128", "100.100.100.200/32",
            "169.254.0.0/16", "169.254.169.0/24", "fe80::/10", "fe80::/64", "::ffff:169.254.169.254/128", "::ffff:a9fe:a9fe/128",
            "64:ff9b::a9fe:a9fe/128", "64:ff9b::169.254.0.0/112", "::a9fe:a9fe/128", "::ffff:0:a9fe:a9fe/128",
        ];
        assert.equal(inside.length, 16);
        for (const cidr of inside) {
            assert.throws(() => egressCidr("hc.allowEgressTo[0].cidr", cidr), (e: unknown) => e instanceof ConfigError && /never allowed/.test(e.message) && e.message.includes("hc.allowEgressTo[0].cidr"), cidr);
        }
    });

    it("renders every CIDR in canonical form, so the same block is never spelled two ways", () => {
        assert.deepEqual(egressCidr("k", "2001:DB8:0:0::/32"), { cidr: "2001:db8::/32", except: [] });
        assert.equal(egressCidr("k", "::FFFF:0:0/96").cidr, "::ffff:0.0.0.0/96");
    });

    it("refuses CIDRs that do not parse or have host bits set, in both families", () => {
        for (const cidr of ["10.0.0.0", "10.0.0.0/33", "300.0.0.0/8", "example.com/8", "10.0.0.1/8", "10.1/16", "010.0.0.0/8", "fd00::1/64", "2001:db8::/129", "fe80::%eth0/64", "10.0.0.0/08"]) {
            assert.throws(() => egressCidr("hc.cidr", cidr), (e: unknown) => e instanceof ConfigError && e.message.includes("hc.cidr"), cidr);
        }
    });
});
