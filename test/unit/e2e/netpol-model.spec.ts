// The e2e suite's NetworkPolicy model, checked against the examples of the Kubernetes documentation ("Network
// Policies"): the sample `test-network-policy`, default deny per direction, and a peer whose namespace and Pod
// selectors must both match versus two peers either of which may.
import { strict as assert } from "node:assert";
import { allowed, NetworkPolicy, PodEnd } from "../../e2e/netpol-model";

const pod = (namespace: string, labels: Record<string, string>, ip = "10.244.0.9"): PodEnd => ({ kind: "pod", namespace, labels, ip });
const namespaces = { default: {}, other: { project: "myproject" }, alice: { user: "alice" }, bob: { user: "bob" } };

// The documentation's sample policy, as written there.
const sample: NetworkPolicy = {
    metadata: { name: "test-network-policy", namespace: "default" },
    spec: {
        podSelector: { matchLabels: { role: "db" } },
        policyTypes: ["Ingress", "Egress"],
        ingress: [{
            from: [
                { ipBlock: { cidr: "172.17.0.0/16", except: ["172.17.1.0/24"] } },
                { namespaceSelector: { matchLabels: { project: "myproject" } } },
                { podSelector: { matchLabels: { role: "frontend" } } },
            ],
            ports: [{ protocol: "TCP", port: 6379 }],
        }],
        egress: [{ to: [{ ipBlock: { cidr: "10.0.0.0/24" } }], ports: [{ protocol: "TCP", port: 5978 }] }],
    },
};
const db = pod("default", { role: "db" }, "10.244.0.5");

describe("e2e NetworkPolicy model: the documentation's examples", () => {
    it("allows everything when no policy selects either end", () => {
        assert.equal(allowed({ from: pod("default", {}), to: db, port: 80, protocol: "TCP" }, [], namespaces), true);
    });
    it("the sample policy: frontend and myproject Pods reach db on 6379 only; others not", () => {
        const cases: [PodEnd, number, boolean][] = [
            [pod("default", { role: "frontend" }), 6379, true],
            [pod("default", { role: "frontend" }), 80, false],
            [pod("other", {}), 6379, true],
            [pod("default", { role: "backend" }), 6379, false],
            // A frontend Pod elsewhere: the podSelector peer alone means the policy's own namespace.
            [pod("bob", { role: "frontend" }), 6379, false],
        ];
        assert.equal(cases.length, 5);
        for (const [from, port, want] of cases) assert.equal(allowed({ from, to: db, port, protocol: "TCP" }, [sample], namespaces), want, `${from.namespace}/${JSON.stringify(from.labels)}:${port}`);
    });
    it("the sample policy: db's egress reaches 10.0.0.0/24 on 5978 only", () => {
        assert.equal(allowed({ from: db, to: { kind: "address", ip: "10.0.0.7" }, port: 5978, protocol: "TCP" }, [sample], namespaces), true);
        assert.equal(allowed({ from: db, to: { kind: "address", ip: "10.0.1.7" }, port: 5978, protocol: "TCP" }, [sample], namespaces), false);
        assert.equal(allowed({ from: db, to: { kind: "address", ip: "10.0.0.7" }, port: 5979, protocol: "TCP" }, [sample], namespaces), false);
        assert.equal(allowed({ from: db, to: { kind: "address", ip: "10.0.0.7" }, port: 5978, protocol: "UDP" }, [sample], namespaces), false);
    });
    it("default deny ingress isolates ingress only; egress stays open", () => {
        const deny: NetworkPolicy = { metadata: { name: "default-deny-ingress", namespace: "default" }, spec: { podSelector: {}, policyTypes: ["Ingress"] } };
        assert.equal(allowed({ from: pod("other", {}), to: pod("default", {}), port: 80, protocol: "TCP" }, [deny], namespaces), false);
        assert.equal(allowed({ from: pod("default", {}), to: { kind: "address", ip: "192.0.2.1" }, port: 80, protocol: "TCP" }, [deny], namespaces), true);
    });
    it("one peer with both selectors needs both; two peers need either", () => {
        const peer = (from: object[]): NetworkPolicy => ({ metadata: { name: "p", namespace: "default" }, spec: { podSelector: {}, policyTypes: ["Ingress"], ingress: [{ from }] } });
        const and = peer([{ namespaceSelector: { matchLabels: { user: "alice" } }, podSelector: { matchLabels: { role: "client" } } }]);
        const or = peer([{ namespaceSelector: { matchLabels: { user: "alice" } } }, { podSelector: { matchLabels: { role: "client" } } }]);
        const to = pod("default", {});
        const aliceOther = pod("alice", { role: "server" });
        const aliceClient = pod("alice", { role: "client" });
        const localClient = pod("default", { role: "client" });
        assert.deepEqual([aliceOther, aliceClient, localClient].map((from) => allowed({ from, to, port: 80, protocol: "TCP" }, [and], namespaces)), [false, true, false]);
        assert.deepEqual([aliceOther, aliceClient, localClient].map((from) => allowed({ from, to, port: 80, protocol: "TCP" }, [or], namespaces)), [true, true, true]);
    });
    it("matchExpressions select as the label selector rules say", () => {
        const p: NetworkPolicy = { metadata: { name: "x", namespace: "default" }, spec: { podSelector: { matchExpressions: [{ key: "tier", operator: "NotIn", values: ["web"] }] }, policyTypes: ["Ingress"] } };
        assert.equal(allowed({ from: pod("other", {}), to: pod("default", { tier: "web" }), port: 80, protocol: "TCP" }, [p], namespaces), true);
        assert.equal(allowed({ from: pod("other", {}), to: pod("default", {}), port: 80, protocol: "TCP" }, [p], namespaces), false);
    });
});
