// What awsProgram puts on every node, read back from the registered launch templates and parameters: the URL
// workers join at (a SAN of the apiserver certificate), the mode and owner of every file a node gets, and
// the kernel settings the workers' kubelet requires before it starts.
import { strict as assert } from "node:assert";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import * as pulumi from "@pulumi/pulumi";
import { parse } from "yaml";
import type { ClusterSettings } from "../../../components/cluster";
import { AwsOptions } from "../../../platforms/aws/options";
import { awsProgram, AwsProgramArgs } from "../../../platforms/aws/program";
import { planAwsProgram } from "../../../platforms/aws/program-plan";
import { FETCH_SCRIPT_PATH } from "../../../platforms/aws/secrets";
import { decodeUserData, encodeUserData } from "../../../platforms/aws/userdata";
import { BACKUP_SCRIPT } from "../../../platforms/aws/backup";
import { CERT_EXPIRY_SCRIPT } from "../../../platforms/aws/cert-expiry";
import { baseOptions, calls, fakePem, Registered, registered, setAwsMocks, settle, userDataOf, valueOf, WORKER_IPS } from "./fixtures";
import { PACKAGED_CONTAINERD_UNIT, systemdVerify } from "./host-tools";
import { REPORT_SCRIPT } from "../../../platforms/aws/report";
import { KUBELET_REJOIN_SCRIPT } from "../../../platforms/aws/kubelet-rejoin";

const LT = "aws:ec2/launchTemplate:LaunchTemplate";
const NS = "hardened-cluster";

interface NodeFile { path: string; mode: string; owner: string; fetched: boolean; content?: string; kind?: string }

type Extra = ClusterSettings & { aws?: AwsOptions };

function args(name: string, extra: Extra = {}): AwsProgramArgs {
    const { aws, ...settings } = extra;
    const plan = planAwsProgram({
        stack: "unit",
        aws: aws ?? baseOptions(),
        settings,
        keys: { aws: `${NS}:aws`, pki: `${NS}:pki`, encryption: `${NS}:encryption`, audit: `${NS}:audit`, controlPlane: `${NS}:controlPlane` },
    });
    return { name, plan, nowMs: Date.UTC(2030, 0, 1, 12) };
}

function unwrap(v: any): string {
    return v && typeof v === "object" && v[pulumi.runtime.specialSigKey] === pulumi.runtime.specialSecretSig ? v.value : v;
}

/** Every file one launch template's user data writes or fetches, with the mode and owner it gets. */
function filesOf(lt: Registered): NodeFile[] {
    const doc = parse(userDataOf(lt).replace(/^#cloud-config\n/, ""));
    const inline: NodeFile[] = doc.write_files.map((f: any) => ({ path: f.path, mode: f.permissions, owner: f.owner, fetched: false, content: f.content }));
    const script = inline.find((f) => f.path === FETCH_SCRIPT_PATH)!.content!;
    const fetched = script.split("\n").filter((l) => l.startsWith("stage ")).map((l) => {
        const [, , path, mode, owner, kind] = l.split(" ");
        return { path, mode, owner, fetched: true, kind };
    });
    return [...inline, ...fetched];
}

interface Built { name: string; server: string; resources: Registered[] }

async function build(name: string, extra: Extra = {}): Promise<Built> {
    await settle();
    registered.splice(0);
    const program = awsProgram(args(name, extra));
    await settle();
    return { name, server: await valueOf(program.server), resources: [...registered] };
}

/** Directories of services that run as their own user, and that user. */
const OWN_DIRS: [string, string][] = [["/etc/etcd/pki/", "etcd"], ["/etc/kubernetes/csr-approver/", "csr-approver"]];

describe("aws: files and join URL on every node (mocked awsProgram)", function () {
    this.timeout(60000);
    before(() => setAwsMocks());

    const cases: [string, Extra, string][] = [
        ["private endpoint", {}, "https://10.0.0.5:6443"],
        ["private endpoint with a DNS name", { pki: { endpoint: { dnsNames: ["api.prod1.internal"] } } }, "https://api.prod1.internal:6443"],
        ["public endpoint with a DNS name", { aws: baseOptions({ environment: "staging", endpoint: "public" }), pki: { endpoint: { dnsNames: ["api.example.com"] } } }, "https://api.example.com:6443"],
    ];
    const built: Built[] = [];
    before(async () => {
        for (const [i, [, extra]] of cases.entries()) built.push(await build(`n${i}`, extra));
    });

    cases.forEach(([title, , url], i) => {
        it(`${title}: workers join at ${url}, a SAN of the apiserver certificate, not the NLB's DNS name`, () => {
            const b = built[i];
            const param = b.resources.find((r) => r.type === "aws:ssm/parameter:Parameter" && r.inputs.name === "/prod1/workers/bootstrap-kubelet.conf");
            assert.ok(param, "the bootstrap kubeconfig parameter");
            const server = parse(unwrap(param!.inputs.value)).clusters[0].cluster.server;
            assert.equal(server, url);
            assert.equal(server, b.server, "the same URL admins and AdminBootstrap use");
            // Workers may land on any control-plane node behind the NLB, so every node's certificate must name it.
            const csrs = b.resources.filter((r) => r.type === "tls:index/certRequest:CertRequest" && /-pki-apiserver-cp-\d$/.test(r.name));
            assert.deepEqual(csrs.map((c) => c.name).sort(), ["cp-0", "cp-1", "cp-2"].map((n) => `${b.name}-pki-apiserver-${n}`));
            for (const csr of csrs) {
                const sans: string[] = [...(csr.inputs.ipAddresses ?? []), ...(csr.inputs.dnsNames ?? [])];
                assert.ok(sans.includes(new URL(server).hostname), `${csr.name}: ${new URL(server).hostname} in ${sans.join(", ")}`);
            }
            const lb = b.resources.find((r) => r.type === "aws:lb/loadBalancer:LoadBalancer")!;
            assert.ok(!server.includes(`${lb.name}.elb.`), "not the NLB's generated name");
        });
    });

    it("fits every node's user data in EC2's limit of 16 KB before base64 encoding, gzipped as cloud-init reads it", () => {
        const lts = built[0].resources.filter((r) => r.type === LT);
        assert.equal(lts.length, 4);
        for (const lt of lts) {
            const raw = Buffer.from(lt.inputs.userData, "base64");
            // As text every node's would be far past the limit; gzip's magic bytes tell cloud-init to decompress.
            assert.deepEqual([raw[0], raw[1]], [0x1f, 0x8b], lt.name);
            assert.ok(raw.length <= 16384, `${lt.name}: ${raw.length} bytes`);
            assert.ok(Buffer.byteLength(gunzipSync(raw)) > 16384 || lt.name.endsWith("workers"), `${lt.name} needs no gzip`);
            assert.match(gunzipSync(raw).toString("utf8"), /^#cloud-config\n/);
        }
    });

    it("gives an etcd CA rotation's gate every control-plane node's report, and what each must hold and serve", async () => {
        const b = await build("rot", { pki: { rotation: { etcd: { generation: 2, phase: "trust-both" } } } });
        const gates = b.resources.filter((r) => /-pki-.*-rotation$/.test(r.name));
        assert.equal(gates.length, 3);
        for (const g of gates) {
            const r = unwrap(g.inputs.reports) as any;
            assert.ok(r, `${g.name} has reports`);
            assert.deepEqual(r.expected.map((e: any) => e.node), ["cp-0", "cp-1", "cp-2"], g.name);
            // Read by path: the node that reported is found by its name.
            assert.deepEqual(r.reports, { "cp-0": '{"node":"cp-0"}' });
            assert.match(r.schedule, /^every 15 minutes/);
            // kube-root-ca.crt is read through the URL the program reaches the API at.
            assert.equal(r.api, b.server);
            assert.match(r.api, /^https:\/\/[^/]+:\d+$/);
            for (const e of r.expected) {
                assert.deepEqual(e.served.etcd, ["etcd-client", "etcd-peer"]);
                assert.deepEqual(e.served.kubernetes, ["kube-apiserver", "kube-controller-manager", "kube-scheduler"]);
                assert.ok(e.trust.etcd.includes("/etc/etcd/pki/ca.crt") && e.trust.etcd.includes("/etc/kubernetes/pki/etcd/ca.crt"), e.trust.etcd.join(" "));
                assert.deepEqual(e.trust.frontProxy, ["/etc/kubernetes/pki/front-proxy-ca.crt"]);
            }
        }
    });

    it("at the cluster CA's issue-new, verifies the apiservers with both CAs while it signs with the new one, and expects a report from every running worker", async () => {
        calls.splice(0);
        const b = await build("crot", { pki: { rotation: { kubernetes: { generation: 2, phase: "issue-new" } } } });
        // Named after kubeadm's ca.crt, the second generation with its number.
        const CLUSTER_CAS = ["crot-pki-ca", "crot-pki-ca-2"];
        const pems = (v: unknown) => String(unwrap(v)).match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g) ?? [];
        const names = b.resources.filter((r) => r.type === "tls:index/selfSignedCert:SelfSignedCert").map((r) => r.name);
        assert.ok(names.includes(CLUSTER_CAS[0]) && names.includes(CLUSTER_CAS[1]), `the first and the second cluster CA are kept: ${names.join(" ")}`);
        const [oldCa, newCa] = CLUSTER_CAS.map((n) => pems(fakePem("CERTIFICATE", n))[0]);
        let checked = 0;
        for (const type of ["ApiServerReady", "AdminBootstrap"]) {
            const r = b.resources.find((x) => x.type === `pulumi-nodejs:dynamic/hardened-cluster:${type}`)!;
            // The probe's credential is minted from the CA that signs now; the apiserver, which may not have
            // synced yet, is verified with the bundle.
            assert.deepEqual(pems(r.inputs.caCertPem), [newCa], type);
            assert.deepEqual(pems(r.inputs.trustPem).sort(), [oldCa, newCa].sort(), type);
            checked++;
        }
        assert.equal(checked, 2);
        // The workers are found by the cluster's and the worker role's tags, running only.
        const listed = calls.filter((c) => c.token === "aws:ec2/getInstances:getInstances");
        assert.equal(listed.length, 1);
        assert.deepEqual(listed[0].inputs.instanceTags, { "hardened-cluster/cluster": "prod1", "hardened-cluster/role": "worker" });
        assert.deepEqual(listed[0].inputs.instanceStateNames, ["running"]);
        const gate = b.resources.find((r) => r.name === "crot-pki-ca-rotation")!;
        const expected = (unwrap(gate.inputs.reports) as any).expected.map((e: any) => e.node);
        assert.deepEqual(expected, ["cp-0", "cp-1", "cp-2", ...[...WORKER_IPS].sort().map((ip) => `workers/${ip}`)]);
        // What the apiservers publish is pruned to the same bundle, and again at each rotation step.
        const trust = b.resources.find((r) => r.type === "pulumi-nodejs:dynamic/hardened-cluster:AuthenticationTrust")!;
        assert.deepEqual(pems(trust.inputs.clusterTrustPem).sort(), [oldCa, newCa].sort());
        assert.deepEqual(pems(trust.inputs.signerCertPem), [newCa]);
        assert.equal(JSON.parse(trust.inputs.positions).kubernetes.phase, "issue-new");
    });

    it("after a rotation (steady, generation 2) still reads every node's report, workers' included: the step to steady is checked on them", async () => {
        calls.splice(0);
        const b = await build("after", { pki: { rotation: { kubernetes: { generation: 2, phase: "steady" } } } });
        const gate = b.resources.find((r) => r.name === "after-pki-ca-rotation")!;
        assert.deepEqual((unwrap(gate.inputs.reports) as any).expected.map((e: any) => e.node).slice(3), [...WORKER_IPS].sort().map((ip) => `workers/${ip}`));
        assert.equal(calls.filter((c) => c.token === "aws:ec2/getInstances:getInstances").length, 1);
        // A stack that never rotated reads neither.
        calls.splice(0);
        const never = await build("never");
        assert.equal(unwrap(never.resources.find((r) => r.name === "never-pki-ca-rotation")!.inputs.reports), undefined);
        assert.deepEqual(calls.filter((c) => /getInstances|getParametersByPath/.test(c.token)), []);
    });

    it("refuses, naming the template, user data that EC2 would refuse even gzipped", () => {
        const noise = randomBytes(20 * 1024).toString("base64");
        assert.throws(() => encodeUserData(`#cloud-config\n# ${noise}\n`, "t-cp-cp-0"), /t-cp-cp-0: user data is \d+ bytes gzipped; EC2 takes at most 16384/);
        assert.equal(decodeUserData(encodeUserData("#cloud-config\n", "x")), "#cloud-config\n");
    });

    it("writes keys, kubeconfigs and the kubelet config 0600 root:root, and etcd's and the approver's own keys root:<their group> 0640 (read, never written)", () => {
        const lts = built[0].resources.filter((r) => r.type === LT);
        assert.deepEqual(lts.map((lt) => lt.name).sort(), ["n0-cp-cp-0", "n0-cp-cp-1", "n0-cp-cp-2", "n0-workers"]);
        let checked = 0;
        for (const lt of lts) {
            for (const f of filesOf(lt)) {
                const where = `${lt.name} ${f.path}`;
                checked++;
                // Nothing any node gets is writable by group or others, and only the five scripts are executable.
                assert.equal(parseInt(f.mode, 8) & 0o022, 0, `${where} ${f.mode}`);
                if (![FETCH_SCRIPT_PATH, CERT_EXPIRY_SCRIPT, BACKUP_SCRIPT, REPORT_SCRIPT, KUBELET_REJOIN_SCRIPT].includes(f.path)) assert.equal(parseInt(f.mode, 8) & 0o111, 0, `${where} ${f.mode}`);
                // A service that runs as its own user reads its own directory's files through its group.
                const service = OWN_DIRS.find(([dir]) => f.path.startsWith(dir))?.[1];
                if (service) {
                    assert.equal(f.owner, `root:${service}`, where);
                    assert.equal(f.mode, f.path.endsWith(".key") ? "0640" : "0644", where);
                    continue;
                }
                // Certificates are fetched too (a renewal must reach a running node), and only they may be read by all.
                if (f.fetched) assert.equal(f.mode, f.kind === "public" ? "0644" : "0600", `${where}: a fetched ${f.kind} file`);
                if (f.kind === "public") assert.match(f.path, /\.(crt|pub)$/, where);
                assert.equal(f.owner, "root:root", where);
                if (/^\/etc\/kubernetes\/.*\.(key|conf|yaml)$/.test(f.path)) assert.equal(f.mode, "0600", where);
            }
        }
        assert.ok(checked > 40, `checked ${checked} files`);
        const worker = filesOf(lts.find((lt) => lt.name === "n0-workers")!);
        const byPath = new Map(worker.map((f) => [f.path, f]));
        for (const p of ["/etc/kubernetes/kubelet-config.yaml", "/etc/kubernetes/bootstrap-kubelet.conf"]) {
            assert.deepEqual([byPath.get(p)?.mode, byPath.get(p)?.owner], ["0600", "root:root"], p);
        }
        const cp = filesOf(lts.find((lt) => lt.name === "n0-cp-cp-1")!);
        for (const p of ["/etc/etcd/pki/server.key", "/etc/etcd/pki/peer.key"]) {
            assert.deepEqual(cp.filter((f) => f.path === p).map((f) => [f.mode, f.owner, f.fetched]), [["0640", "root:etcd", true]], p);
        }
        assert.deepEqual(cp.filter((f) => f.path.startsWith("/etc/kubernetes/csr-approver/")).map((f) => [f.path, f.mode, f.owner, f.fetched]), [
            ["/etc/kubernetes/csr-approver/ca.crt", "0644", "root:csr-approver", true],
            ["/etc/kubernetes/csr-approver/client.crt", "0644", "root:csr-approver", true],
            ["/etc/kubernetes/csr-approver/client.key", "0640", "root:csr-approver", true],
        ]);
    });

    describe("the kubelet's kernel settings (protectKernelDefaults)", () => {
        // What the kubelet checks at start (pkg/kubelet/cm setupKernelTunables), written out here on purpose.
        const REQUIRED: Record<string, string> = {
            "vm.overcommit_memory": "1",
            "vm.panic_on_oom": "0",
            "kernel.panic": "10",
            "kernel.panic_on_oops": "1",
            "kernel.keys.root_maxkeys": "1000000",
            "kernel.keys.root_maxbytes": "25000000",
        };
        const worker = () => filesOf(built[0].resources.find((r) => r.type === LT && r.name === "n0-workers")!);

        it("writes /etc/sysctl.d/90-kubelet.conf with exactly those values, for a kubelet that protects them", () => {
            const file = worker().find((f) => f.path === "/etc/sysctl.d/90-kubelet.conf");
            assert.ok(file, "the sysctl file");
            assert.deepEqual([file!.mode, file!.owner], ["0644", "root:root"]);
            const lines = file!.content!.split("\n").filter((l) => l.trim() !== "" && !l.startsWith("#"));
            const values = Object.fromEntries(lines.map((l) => l.split("=").map((x) => x.trim())));
            assert.deepEqual(values, REQUIRED);
            for (const k of Object.keys(values)) assert.ok(existsSync(`/proc/sys/${k.replace(/\./g, "/")}`), `${k} is a kernel setting`);
            const kubeletConfig = parse(worker().find((f) => f.path === "/etc/kubernetes/kubelet-config.yaml")!.content!);
            assert.equal(kubeletConfig.protectKernelDefaults, true);
        });

        it("applies the file before every kubelet start, first boot included", () => {
            const unit = worker().find((f) => f.path === "/etc/systemd/system/kubelet.service")!.content!;
            const service = unit.slice(unit.indexOf("[Service]"));
            assert.match(service, /^ExecStartPre=\/usr\/sbin\/sysctl -p \/etc\/sysctl\.d\/90-kubelet\.conf$/m);
            assert.match(service, /^ExecStart=\/usr\/local\/bin\/kubelet /m);
            // Control-plane nodes run no kubelet and get no such file.
            const cp = filesOf(built[0].resources.find((r) => r.type === LT && r.name === "n0-cp-cp-0")!);
            assert.ok(!cp.some((f) => f.path.startsWith("/etc/sysctl.d/")));
        });
    });

    describe("Services and NetworkPolicies on the workers (units, not privileged Pods)", () => {
        const lt = () => built[0].resources.find((r) => r.type === LT && r.name === "n0-workers")!;
        const worker = () => filesOf(lt());
        const unit = (name: string) => worker().find((f) => f.path === `/etc/systemd/system/${name}.service`)?.content ?? "";
        const exec = (name: string) => unit(name).match(/^ExecStart=(.*)$/m)?.[1].split(" ") ?? [];

        it("runs kube-proxy in nftables mode and kube-router with only its firewall controller, as root units after the kubelet", () => {
            assert.deepEqual(exec("kube-proxy"), ["/usr/local/bin/kube-proxy", "--config=/etc/kubernetes/kube-proxy-config.yaml"]);
            const router = exec("kube-router");
            assert.equal(router[0], "/usr/local/bin/kube-router");
            // The service proxy (GHSA-phqm-jgc3-qf8g) and BGP routing with its GoBGP API (GHSA-v5mh-h5hx-7v92) stay off.
            for (const flag of ["--run-firewall=true", "--run-router=false", "--run-service-proxy=false", "--run-loadbalancer=false", "--kubeconfig=/etc/kubernetes/kube-router.conf"]) {
                assert.ok(router.includes(flag), `${flag} in ${router.join(" ")}`);
            }
            // It finds its Node by the host name, as the kubelet registers it.
            assert.ok(!router.some((a) => a.startsWith("--hostname-override")));
            for (const name of ["kube-proxy", "kube-router"]) {
                assert.match(unit(name), /^After=.*kubelet\.service/m, name);
                assert.doesNotMatch(unit(name), /^User=/m, name);
            }
            const config = parse(worker().find((f) => f.path === "/etc/kubernetes/kube-proxy-config.yaml")!.content!);
            // CIS 4.3.1: metrics on loopback; the Pod range from the cluster's settings (default 10.244.0.0/16).
            assert.deepEqual([config.kind, config.mode, config.metricsBindAddress, config.healthzBindAddress, config.clusterCIDR], ["KubeProxyConfiguration", "nftables", "127.0.0.1:10249", "127.0.0.1:10256", "10.244.0.0/16"]);
            assert.equal(config.clientConnection.kubeconfig, "/etc/kubernetes/kube-proxy.conf");
            // NodePorts on the node's primary address only (kube-proxy's own advice when the field is unset).
            assert.deepEqual(config.nodePortAddresses, ["primary"]);
            // On a machine of its own kube-proxy sizes the conntrack table (its defaults).
            assert.equal(config.conntrack, undefined);
        });

        it("systemd-analyze verify accepts every unit the program gives a worker, the node images' import among them", () => {
            const doc = parse(userDataOf(lt()).replace(/^#cloud-config\n/, ""));
            const units = doc.write_files.filter((f: { path: string }) => f.path.startsWith("/etc/systemd/system/"))
                .map((f: { path: string; content: string }) => ({ name: f.path.split("/").pop()!, text: f.content }));
            assert.deepEqual(units.map((u: { name: string }) => u.name), [
                "hardened-cluster-fetch.service", "node-images.service", "kubelet.service", "kube-proxy.service", "kube-router.service", "flanneld.service",
                "hardened-cluster-sync.service", "hardened-cluster-sync.timer",
            ]);
            const r = systemdVerify([...units, PACKAGED_CONTAINERD_UNIT]);
            assert.ok(r.ok, r.output);
        });

        it("publishes their binaries, flanneld's and the CNI plugins, and installs what they call: nft, ipset, iptables and modprobe", () => {
            const doc = parse(userDataOf(lt()).replace(/^#cloud-config\n/, ""));
            for (const p of ["nftables", "ipset", "iptables-nft", "kmod"]) assert.ok(doc.packages.includes(p), `${p} in ${doc.packages.join(" ")}`);
            const script = worker().find((f) => f.path === FETCH_SCRIPT_PATH)!.content!;
            const bins = script.split("\n").filter((l) => l.startsWith("stage_binary ")).map((l) => l.split(" ")[2]);
            assert.deepEqual(bins.sort(), [
                "/opt/cni/bin/bridge", "/opt/cni/bin/host-local", "/opt/cni/bin/loopback", "/opt/cni/bin/portmap",
                "/usr/local/bin/flanneld", "/usr/local/bin/kube-proxy", "/usr/local/bin/kube-router", "/usr/local/bin/kubelet",
                "/var/lib/hardened-cluster/images/coredns.tar", "/var/lib/hardened-cluster/images/pause.tar",
            ]);
        });

        it("fetches their kubeconfigs 0600 root:root from the workers' parameters, each with a client certificate of its own and no group", () => {
            const files = worker();
            for (const [p, user, cert] of [["/etc/kubernetes/kube-proxy.conf", "system:kube-proxy", "kube-proxy-client"], ["/etc/kubernetes/kube-router.conf", "hardened-cluster:network-policy", "network-policy-client"]]) {
                assert.deepEqual(files.filter((f) => f.path === p).map((f) => [f.mode, f.owner, f.fetched]), [["0600", "root:root", true]], p);
                const param = built[0].resources.find((r) => r.type === "aws:ssm/parameter:Parameter" && r.inputs.name === `/prod1/workers/${p.slice("/etc/".length).replace(/\//g, "-")}`);
                assert.ok(param, `the parameter for ${p}`);
                assert.equal(param!.inputs.type, "SecureString");
                const kubeconfig = parse(unwrap(param!.inputs.value));
                assert.equal(kubeconfig.users[0].name, user);
                assert.equal(kubeconfig.clusters[0].cluster.server, built[0].server);
                const csr = built[0].resources.find((r) => r.type === "tls:index/certRequest:CertRequest" && r.name === `n0-pki-${cert}`);
                assert.ok(csr, `the ${cert} request`);
                assert.deepEqual([csr!.inputs.subject.commonName, csr!.inputs.subject.organization], [user, undefined]);
            }
        });

        it("applies the enforcer's role through the cluster's provider: it may read what it builds rules from, and change nothing", () => {
            const role = built[0].resources.find((r) => r.type === "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole" && r.inputs.metadata?.name === "hardened-cluster:network-policy");
            assert.ok(role, "the enforcer's ClusterRole");
            const verbs = new Set(role!.inputs.rules.flatMap((r: { verbs: string[] }) => r.verbs));
            assert.deepEqual([...verbs].sort(), ["get", "list", "watch"]);
            const binding = built[0].resources.find((r) => r.type === "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding" && r.inputs.roleRef?.name === "hardened-cluster:network-policy");
            assert.deepEqual(binding?.inputs.subjects.map((x: { kind: string; name: string }) => [x.kind, x.name]), [["User", "hardened-cluster:network-policy"]]);
        });
    });

    describe("the Pod network on the workers (flannel VXLAN, containerd's bridge)", () => {
        const lt = () => built[0].resources.find((r) => r.type === LT && r.name === "n0-workers")!;
        const worker = () => filesOf(lt());
        const file = (p: string) => worker().find((f) => f.path === p);
        const unit = () => file("/etc/systemd/system/flanneld.service")?.content ?? "";
        const lines = (k: string) => unit().split("\n").filter((l) => l.startsWith(`${k}=`)).map((l) => l.slice(k.length + 1));

        it("runs flanneld as a root unit after the kubelet, as the node: the kubelet's kubeconfig and the host name the kubelet registers", () => {
            const kubelet = file("/etc/systemd/system/kubelet.service")!.content!.match(/^ExecStart=(.*)$/m)![1].split(" ");
            const kubeconfig = kubelet.find((a) => a.startsWith("--kubeconfig="))!.split("=")[1];
            const argv = lines("ExecStart")[0].split(" ");
            assert.equal(argv[0], "/usr/local/bin/flanneld");
            // flannel's documented mode without etcd: the Node's podCIDR is the node's lease.
            for (const flag of ["--kube-subnet-mgr", `--kubeconfig-file=${kubeconfig}`, "--net-config-path=/etc/kubernetes/flannel-net-conf.json", "--ip-masq", "--healthz-port=0"]) {
                assert.ok(argv.includes(flag), `${flag} in ${argv.join(" ")}`);
            }
            // flannel reads the node's name from NODE_NAME; systemd.unit(5): %H is the host name.
            assert.deepEqual(lines("Environment"), ["NODE_NAME=%H"]);
            assert.match(unit(), /^After=.*kubelet\.service/m);
            assert.doesNotMatch(unit(), /^User=/m);
        });

        it("loads br_netfilter and sets forwarding and bridge filtering before every start, and at every boot", () => {
            // systemd.service(5): a "-" prefix lets modprobe fail (module built in); sysctl -p fails if a key is missing.
            assert.deepEqual(lines("ExecStartPre"), ["-/usr/sbin/modprobe br_netfilter", "/usr/sbin/sysctl -p /etc/sysctl.d/90-pod-network.conf"]);
            const values = Object.fromEntries(file("/etc/sysctl.d/90-pod-network.conf")!.content!.split("\n").filter((l) => l && !l.startsWith("#")).map((l) => l.split("=").map((x) => x.trim())));
            assert.deepEqual(values, { "net.ipv4.ip_forward": "1", "net.bridge.bridge-nf-call-iptables": "1" });
            assert.deepEqual(file("/etc/modules-load.d/pod-network.conf")!.content!.split("\n").filter((l) => l && !l.startsWith("#")), ["br_netfilter"]);
        });

        it("configures flannel for VXLAN over the cluster's Pod range (default 10.244.0.0/16)", () => {
            const conf = JSON.parse(file("/etc/kubernetes/flannel-net-conf.json")!.content!);
            assert.deepEqual([conf.Network, conf.Backend.Type, conf.EnableIPv6], ["10.244.0.0/16", "vxlan", false]);
            assert.equal(file("/etc/kubernetes/flannel-net-conf.json")!.mode, "0644");
        });

        it("has containerd write the bridge's CNI configuration from a template with the node's Pod range, MTU 50 bytes under 1500 for VXLAN", () => {
            const config = file("/etc/containerd/config.toml")!.content!;
            const cni = config.slice(config.indexOf('[plugins."io.containerd.grpc.v1.cri".cni]'));
            assert.match(cni, /^ {2}bin_dir = "\/opt\/cni\/bin"$/m);
            assert.match(cni, /^ {2}conf_template = "\/etc\/containerd\/cni\.conflist\.template"$/m);
            const template = JSON.parse(file("/etc/containerd/cni.conflist.template")!.content!);
            const bridge = template.plugins.find((p: { type: string }) => p.type === "bridge");
            assert.deepEqual([bridge.mtu, bridge.ipMasq, bridge.isGateway, bridge.ipam.type, bridge.ipam.ranges[0][0].subnet], [1450, false, true, "host-local", "{{.PodCIDR}}"]);
        });

        it("gives flannel no credential of its own, and the nodes' group only the read of every Node that the Node authorizer no longer gives a node", () => {
            assert.ok(!worker().some((f) => f.fetched && f.path.includes("flannel")));
            const role = built[0].resources.find((r) => r.type === "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole" && r.inputs.metadata?.name === "hardened-cluster:pod-network");
            assert.deepEqual(role?.inputs.rules, [{ apiGroups: [""], resources: ["nodes"], verbs: ["get", "list", "watch"] }]);
            const binding = built[0].resources.find((r) => r.type === "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding" && r.inputs.roleRef?.name === "hardened-cluster:pod-network");
            // kubelet TLS bootstrapping puts every node's client certificate in system:nodes.
            assert.deepEqual(binding?.inputs.subjects.map((x: { kind: string; name: string }) => [x.kind, x.name]), [["Group", "system:nodes"]]);
        });
    });
});
