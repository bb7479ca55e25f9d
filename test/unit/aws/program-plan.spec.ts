// The AWS program's pure plan: the same flags as the local platform for the same settings, the endpoint and
// SAN decisions, and every bad input refused (with the full key) before a single resource is registered.
import { strict as assert } from "node:assert";
import { ConfigError, FileLayout, kubeadmLayout } from "../../../components/common";
import { FlagMap } from "../../../components/control-plane";
import type { ClusterSettings } from "../../../components/cluster";
import { AwsOptions } from "../../../platforms/aws/options";
import { awsProgram } from "../../../platforms/aws/program";
import { AwsProgramInput, planAwsProgram as planAws } from "../../../platforms/aws/program-plan";
import { planLocalStack } from "../../../platforms/local/plan";
import { baseOptions, registered, setAwsMocks, settle } from "./fixtures";

const NS = "hardened-cluster";
const KEYS = { aws: `${NS}:aws`, pki: `${NS}:pki`, encryption: `${NS}:encryption`, audit: `${NS}:audit`, controlPlane: `${NS}:controlPlane` };
const CONTROL_PLANE = {
    apiServer: { extraArgs: { "event-ttl": "2h0m0s" } },
    controllerManager: { terminatedPodGcThreshold: 500 },
    tls: { minVersion: "VersionTLS13" as const },
    network: { serviceCidr: "10.112.0.0/16", clusterDomain: "corp.local" },
};
const AUDIT = { preset: "strict" as const, maxAge: 60 };

type Flat = ClusterSettings & { aws?: AwsOptions; name?: string };

function args(extra: Flat = {}): AwsProgramInput {
    const { aws, name: _name, ...settings } = extra;
    return { stack: "prod", aws: aws ?? baseOptions(), settings: { audit: AUDIT, controlPlane: CONTROL_PLANE, ...settings }, keys: KEYS };
}

/** The plan in the shape these tests read: the cluster plan's nodes with their rendered flags. */
function planAwsProgram(input: AwsProgramInput) {
    const p = planAws(input);
    return {
        ...p,
        server: p.cluster.server,
        pki: p.cluster.resolved.pki,
        encryption: p.cluster.resolved.encryption,
        nodes: p.cluster.resolved.nodes.map((n) => ({ node: { privateIp: n.member.ip }, controlPlane: n.controlPlane, etcd: n.etcd })),
    };
}

/**
 * The two platforms may differ only in where things are and whom they talk to. So both renderings are
 * normalised the same way: each layout directory becomes its role (<pki>, <etcd-pki>, ...), every IPv4
 * address becomes <ip>, etcd member names become <member>, and comma lists are de-duplicated (three etcd
 * URLs on AWS against one locally). Ports are not normalised: both use the defaults. After that, every
 * flag of every component must be present on both sides with the same value; the names of the flags that
 * needed the address normalisation are checked too, so a new difference cannot hide in it.
 */
function normaliser(dirs: [string, string][], members: string[], addresses = true) {
    const ordered = [...dirs].sort((a, b) => b[0].length - a[0].length);
    return (flags: FlagMap): FlagMap => Object.fromEntries(Object.entries(flags).map(([k, v]) => {
        let out = v;
        // A directory only as a whole path component: /x/audit must not match /x/audit-policy.yaml.
        for (const [dir, role] of ordered) out = out.replace(new RegExp(`${dir.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}(?=/|,|$)`, "g"), role);
        if (!addresses) return [k, out];
        out = out.replace(/\b\d{1,3}(\.\d{1,3}){3}\b/g, "<ip>");
        for (const m of members) out = out.replace(new RegExp(`\\b${m}\\b`, "g"), "<member>");
        return [k, [...new Set(out.split(","))].join(",")];
    }));
}

function layoutDirs(l: FileLayout, etcdOwnDir: string): [string, string][] {
    return [[l.configDir, "<config>"], [l.pkiDir, "<pki>"], [l.etcdPkiDir, "<etcd-pki>"], [etcdOwnDir, "<etcd-pki>"], [l.etcdDataDir, "<etcd-data>"], [l.auditLogDir, "<audit>"]];
}

const ADDRESS_FLAGS: Record<string, string[]> = {
    apiServer: ["advertise-address", "bind-address", "etcd-servers"],
    controllerManager: [],
    scheduler: [],
    etcd: ["advertise-client-urls", "initial-advertise-peer-urls", "initial-cluster", "listen-client-urls", "listen-peer-urls", "name"],
};

describe("aws program plan", function () {
    it("renders the same flags as the local platform for the same settings, modulo paths and addresses", function () {
        const aws = planAwsProgram(args());
        const lp = planLocalStack({ stack: "cmp", local: { stateDir: "/tmp/hc-cmp" }, settings: { audit: AUDIT, controlPlane: CONTROL_PLANE }, toolchainBin: "/tc", isRoot: false });
        const local = { local: lp.local, controlPlane: lp.cluster.resolved.nodes[0].controlPlane, etcd: lp.cluster.resolved.nodes[0].etcd };
        const awsDirs = layoutDirs(kubeadmLayout(), "/etc/etcd/pki");
        const localDirs = layoutDirs(local.local.layout, local.local.etcdServerPkiDir);
        const normAws = normaliser(awsDirs, ["cp-0", "cp-1", "cp-2"]);
        const normLocal = normaliser(localDirs, ["control-plane"]);
        const pathsAws = normaliser(awsDirs, [], false);
        const pathsLocal = normaliser(localDirs, [], false);
        const node = aws.nodes[1];
        const pairs: Record<string, [FlagMap, FlagMap]> = {
            apiServer: [node.controlPlane.apiServer.flags, local.controlPlane.apiServer.flags],
            controllerManager: [node.controlPlane.controllerManager.flags, local.controlPlane.controllerManager.flags],
            scheduler: [node.controlPlane.scheduler.flags, local.controlPlane.scheduler.flags],
            etcd: [node.etcd.flags, local.etcd.flags],
        };
        for (const [component, [a, l]] of Object.entries(pairs)) {
            assert.deepEqual(normAws(a), normLocal(l), component);
            const [pa, pl] = [pathsAws(a), pathsLocal(l)];
            assert.deepEqual(Object.keys(pa).filter((k) => pa[k] !== pl[k]).sort(), ADDRESS_FLAGS[component], `${component}: flags that differ in more than paths`);
        }
        // The settings did reach both: the comparison is not between two sets of defaults.
        assert.equal(node.controlPlane.apiServer.flags["event-ttl"], "2h0m0s");
        assert.equal(node.controlPlane.apiServer.flags["service-cluster-ip-range"], "10.112.0.0/16");
        assert.equal(node.controlPlane.apiServer.flags["audit-log-maxage"], "60");
    });

    it("makes every node an etcd member at its fixed address, and gives the PKI the same hosts", function () {
        const plan = planAwsProgram(args({ aws: baseOptions({ controlPlane: { etcdMembers: 5 } }) }));
        const ips = ["10.0.0.10", "10.0.32.10", "10.0.64.10", "10.0.0.11", "10.0.32.11"];
        assert.deepEqual(plan.nodes.map((n) => n.node.privateIp), ips);
        for (const [i, n] of plan.nodes.entries()) {
            assert.equal(n.etcd.flags.name, `cp-${i}`);
            assert.equal(n.etcd.flags["initial-cluster"], ips.map((ip, j) => `cp-${j}=https://${ip}:2380`).join(","));
            assert.equal(n.etcd.flags["listen-client-urls"], `https://127.0.0.1:2379,https://${ips[i]}:2379`);
            assert.equal(n.controlPlane.apiServer.flags["etcd-servers"], ips.map((ip) => `https://${ip}:2379`).join(","));
        }
        assert.deepEqual(plan.pki.etcdMembers.map((m) => m.ipAddresses![0]), ips);
        assert.deepEqual(plan.pki.controlPlaneNodes.map((m) => m.name), ["cp-0", "cp-1", "cp-2", "cp-3", "cp-4"]);
        assert.equal(plan.pki.serviceCidr, "10.112.0.0/16");
        assert.equal(plan.pki.clusterDomain, "corp.local");
    });

    it("uses a configured DNS name as the server and keeps the NLB addresses as SANs (private endpoint)", function () {
        const plan = planAwsProgram(args({ pki: { endpoint: { dnsNames: ["api.prod1.internal"] } } }));
        assert.equal(plan.server, "https://api.prod1.internal:6443");
        assert.deepEqual(plan.pki.endpoint, { dnsNames: ["api.prod1.internal"], ipAddresses: ["10.0.0.5", "10.0.32.5", "10.0.64.5"] });
    });

    it("needs a DNS name for a public endpoint, whose addresses are not known in advance", function () {
        const aws = baseOptions({ endpoint: "public" });
        const plan = planAwsProgram(args({ aws, pki: { endpoint: { dnsNames: ["api.example.com"] } } }));
        assert.equal(plan.server, "https://api.example.com:6443");
        assert.deepEqual(plan.pki.endpoint, { dnsNames: ["api.example.com"], ipAddresses: [] });
    });

    it("accepts an explicit KMS configuration on the plugin's socket", function () {
        const encryption = { provider: "kms" as const, keys: [{ name: "aws-kms", endpoint: "unix:///var/run/kmsplugin/socket.sock", timeout: "5s" }] };
        assert.deepEqual(planAwsProgram(args({ encryption })).encryption, encryption);
    });
});

describe("aws program: bad input fails before any resource", function () {
    this.timeout(60000);
    before(() => setAwsMocks());

    const kms = (extra: object) => ({ provider: "kms" as const, keys: [{ name: "aws-kms", endpoint: "unix:///var/run/kmsplugin/socket.sock", ...extra }] });
    const cases: [string, Flat, string][] = [
        ["secretbox encryption", { encryption: { provider: "secretbox" } }, `${NS}:encryption.provider`],
        ["the local default encryption block", { encryption: {} }, `${NS}:encryption.provider`],
        ["an aescbc key", { encryption: { keys: [{ name: "k1", provider: "aescbc" }] } }, `${NS}:encryption.keys[0].provider`],
        ["a KMS key on another socket", { encryption: kms({ endpoint: "unix:///run/other.sock" }) }, `${NS}:encryption.keys[0].endpoint`],
        ["one etcd member in prod", { aws: baseOptions({ controlPlane: { etcdMembers: 1 } }) }, `${NS}:aws.controlPlane.etcdMembers`],
        ["four etcd members", { aws: baseOptions({ controlPlane: { etcdMembers: 4 } }) }, `${NS}:aws.controlPlane.etcdMembers`],
        ["a public endpoint without a DNS name", { aws: baseOptions({ endpoint: "public" }) }, `${NS}:pki.endpoint.dnsNames`],
        ["a wildcard endpoint name", { pki: { endpoint: { dnsNames: ["*.example.com"] } } }, `${NS}:pki.endpoint.dnsNames[0]`],
        ["endpoint addresses", { pki: { endpoint: { ipAddresses: ["1.2.3.4"] } as any } }, `${NS}:pki.endpoint.ipAddresses`],
        ["per-worker certificates", { pki: { workerNodes: [{ name: "w1" }] } as any }, `${NS}:pki.workerNodes`],
        ["a platform-filled PKI field", { pki: { serviceCidr: "10.96.0.0/12" } as any }, `${NS}:pki.serviceCidr`],
        ["a bad PKI algorithm", { pki: { algorithm: "DSA" as any } }, `${NS}:pki.algorithm`],
        ["PKI and network disagreeing on the domain", { pki: { clusterDomain: "other.local" } }, `${NS}:pki.clusterDomain`],
        ["an apiserver port", { controlPlane: { network: { apiServerPort: 443 } as any } }, `${NS}:controlPlane.network.apiServerPort`],
        ["etcd members in the control-plane block", { controlPlane: { network: { etcdMembers: [] } as any } }, `${NS}:controlPlane.network.etcdMembers`],
        ["a Service range inside the VPC", { controlPlane: { network: { serviceCidr: "10.0.0.0/16" } } }, `${NS}:controlPlane.network.serviceCidr`],
        ["the default Service range inside the VPC", { aws: baseOptions({ network: { vpcCidr: "10.96.0.0/16" } }), controlPlane: {} }, `${NS}:controlPlane.network.serviceCidr`],
        ["kubelet serving files", { controlPlane: { kubelet: { servingCert: { certFile: "/a.crt", keyFile: "/a.key" } } } }, `${NS}:controlPlane.kubelet.servingCert`],
        ["a bootstrap kubeconfig override", { controlPlane: { kubelet: { extraArgs: { "bootstrap-kubeconfig": "/x" } } } }, `${NS}:controlPlane.kubelet.extraArgs.bootstrap-kubeconfig`],
        ["anonymous auth through extraArgs", { controlPlane: { apiServer: { extraArgs: { "anonymous-auth": true } } } }, `${NS}:controlPlane.apiServer.extraArgs.anonymous-auth`],
        ["audit settings inside the control-plane block", { controlPlane: { audit: { preset: "minimal" } } as any }, `${NS}:controlPlane.audit`],
        ["an unknown audit preset", { audit: { preset: "verbose" as any } }, `${NS}:audit.preset`],
        ["reduced audit retention", { audit: { maxAge: 7 } }, `${NS}:audit.maxAge`],
        ["a misspelt AWS option", { aws: { ...baseOptions(), regoin: "x" } as any }, `${NS}:aws.regoin`],
        ["no Pod ranges for the Nodes, from which the workers' Pod network takes each node's", { controlPlane: { controllerManager: { allocateNodeCidrs: false } } }, `${NS}:controlPlane.controllerManager.allocateNodeCidrs`],
    ];
    for (const [name, extra, keyPath] of cases) {
        it(`${name}: ${keyPath}`, async function () {
            await settle();
            registered.splice(0);
            assert.throws(() => awsProgram({ plan: planAws(args(extra)), name: "bad" }), (e: unknown) => {
                assert.ok(e instanceof ConfigError, String(e));
                assert.equal(e.key, keyPath);
                assert.ok(e.message.startsWith(`${keyPath}: `), e.message);
                return true;
            });
            await settle();
            assert.deepEqual(registered.map((r) => r.name), []);
        });
    }
});
