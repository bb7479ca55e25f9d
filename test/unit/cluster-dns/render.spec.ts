// The cluster's DNS, rendered: Pods the DNS-allow NetworkPolicy selects, a Service at the kubelets' address, a Pod
// the restricted Pod Security profile admits (checked against the profile's published rules), and no upstream
// unless one is named.
import { strict as assert } from "node:assert";
import { renderAllowDns } from "../../../components/secure-namespace";
import { renderClusterDns, renderCorefile, resolveClusterDns } from "../../../components/cluster-dns";

const objs = renderClusterDns({ replicas: 2, upstreams: [], image: "localhost/hardened-cluster/coredns:abc", clusterIp: "10.96.0.10", clusterDomain: "cluster.local" });
const of = (kind: string) => objs.find((o) => o.kind === kind)!;

describe("cluster DNS: rendered objects", () => {
    it("labels its Pods as the tenants' DNS-allow policy selects them, in the namespace it names", () => {
        const peer = renderAllowDns("team-a").spec.egress![0].to![0] as { namespaceSelector: { matchLabels: Record<string, string> }; podSelector: { matchLabels: Record<string, string> } };
        const dep = of("Deployment");
        assert.equal(dep.metadata.namespace, peer.namespaceSelector.matchLabels["kubernetes.io/metadata.name"]);
        for (const [k, v] of Object.entries(peer.podSelector.matchLabels)) assert.equal(dep.spec.template.metadata.labels[k], v);
        const ports = renderAllowDns("team-a").spec.egress![0].ports!.map((p) => `${p.protocol}/${p.port}`).sort();
        assert.deepEqual(dep.spec.template.spec.containers[0].ports.map((p: any) => `${p.protocol}/${p.containerPort}`).sort(), ports);
    });
    it("takes the kubelets' DNS address for its Service and selects its own Pods", () => {
        const svc = of("Service");
        assert.equal(svc.spec.clusterIP, "10.96.0.10");
        assert.deepEqual(svc.spec.selector, of("Deployment").spec.selector.matchLabels);
    });
    it("runs a Pod the restricted profile admits: non-root, no capability, no privilege escalation, RuntimeDefault seccomp, a safe sysctl only", () => {
        const spec = of("Deployment").spec.template.spec;
        const c = spec.containers[0];
        assert.equal(spec.securityContext.runAsNonRoot, true);
        assert.notEqual(spec.securityContext.runAsUser, 0);
        assert.equal(spec.securityContext.seccompProfile.type, "RuntimeDefault");
        assert.equal(c.securityContext.allowPrivilegeEscalation, false);
        assert.deepEqual(c.securityContext.capabilities, { drop: ["ALL"] });
        // The baseline profile's list of safe sysctls (Pod Security Standards) includes this one.
        assert.deepEqual(spec.securityContext.sysctls.map((x: any) => x.name), ["net.ipv4.ip_unprivileged_port_start"]);
        assert.equal(spec.hostNetwork, undefined);
    });
    it("may only list and watch what it answers from", () => {
        for (const r of of("ClusterRole").rules) assert.deepEqual(r.verbs, ["list", "watch"]);
    });
    it("forwards nothing out of the cluster domain unless upstreams are named", () => {
        assert.doesNotMatch(renderCorefile({ clusterDomain: "cluster.local", upstreams: [] }), /forward/);
        assert.match(renderCorefile({ clusterDomain: "corp.internal", upstreams: ["10.0.0.2"] }), /kubernetes corp\.internal in-addr\.arpa[\s\S]*forward \. 10\.0\.0\.2/);
    });
    it("refuses bad options, naming the key", () => {
        assert.throws(() => resolveClusterDns({ replicas: 0 }, "dns"), /dns\.replicas/);
        assert.throws(() => resolveClusterDns({ upstreams: ["8.8.8.8:53"] }, "dns"), /dns\.upstreams\[0\]/);
        assert.throws(() => resolveClusterDns({ replica: 2 }, "dns"), /dns\.replica/);
        assert.deepEqual(resolveClusterDns(undefined, "dns"), { replicas: 2, upstreams: [] });
    });
});
