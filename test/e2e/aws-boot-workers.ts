// The boot drill's workers: kube-proxy and the NetworkPolicy enforcer from a worker's fetched files, its kubelet
// (aws-boot-kubelet.ts), two workers' Pod network over flannel, and the node images in containerd with the
// cluster's DNS naming them.
import { strict as assert } from "node:assert";
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { parse, stringify } from "yaml";
import { CNI_TEMPLATE_PATH } from "../../platforms/aws/containerd";
import { FLANNEL_SUBNET_FILE, FLANNEL_UNIT } from "../../platforms/aws/pod-network";
import { BOOTSTRAP_KUBECONFIG_PATH, CLUSTER_CA_PATH, KUBELET_CONFIG_PATH } from "../../platforms/aws/workers";
import { GOBGP_API_PORT, KUBE_PROXY_CONFIG_PATH, KUBE_PROXY_KUBECONFIG_PATH, KUBE_PROXY_NFT_TABLE, KUBE_ROUTER_HEALTH_PORT, KUBE_ROUTER_KUBECONFIG_PATH } from "../../platforms/node-network";
import { FETCH_UNIT } from "../../platforms/aws/secrets";
import { joinNode, withServer } from "./aws-in-cluster";
import { fromKubeconfig, request } from "./kube";
import { fetchScript, Host, inNode, nodeEtc, relayIntoNode, stagedBinaries, startHost, startUnit, unitOf } from "./aws-node";
import { until } from "./processes";
import { BIN, BootDrill, CNI_BIN, IMAGES, cloudConfigOf, inCidr } from "./aws-boot-drill";
import type { ControlPlaneState } from "./aws-boot-control-plane";
import { kubeletCases } from "./aws-boot-kubelet";

/** Registers the worker cases; they run after the control plane's and use its nodes. */
export function workerCases(d: BootDrill, cp: ControlPlaneState): void {
    it("a worker runs kube-proxy and the NetworkPolicy enforcer from its fetched binaries and kubeconfigs: the Services in nftables, every policy in iptables, and neither credential can do more", async function () {
        this.timeout(300_000);
        assert.ok(cp.applied, "the in-cluster half (the enforcer's role) applied above");
        const { server, admin } = cp.applied;
        const cc = cloudConfigOf(d.run, "aws-workers");
        const root = path.join(d.tmp, "nodes", "worker");
        for (const unit of ["kube-proxy", "kube-router"]) {
            const f = cc.write_files.find((w) => w.path === `/etc/systemd/system/${unit}.service`)!.content;
            assert.match(f, /^After=.*kubelet\.service/m, unit);
            assert.match(f, new RegExp(`^Requires=.*${FETCH_UNIT.replace(/\./g, "\\.")}`, "m"), unit);
            assert.doesNotMatch(f, /^User=/m, `${unit} programs the node's firewall as root`);
        }
        // The node the approvers' case registered; on EC2 its name is the host name, which both look it up by.
        const node = "ip-10-0-0-78";
        cp.worker = await startHost("worker", root, root + BIN, cc, { address: "10.0.0.78", hostname: node });
        const w = cp.worker;
        const ok = (r: ReturnType<typeof inNode>) => assert.equal(r.status, 0, r.stderr);
        // Its address on an interface of its own (a veth pair with nothing beyond: this kernel may lack "dummy").
        ok(inNode(w, ["ip", "link", "add", "eth0", "type", "veth", "peer", "name", "eth0-end"]));
        ok(inNode(w, ["ip", "addr", "add", `${w.address}/24`, "dev", "eth0"]));
        for (const l of ["eth0", "eth0-end"]) ok(inNode(w, ["ip", "link", "set", l, "up"]));
        // Both dial the server in their kubeconfigs: the internal NLB's first address, relayed to cp-0's apiserver.
        const kubeconfigOf = (p: string) => parse(fs.readFileSync(root + p, "utf8"));
        const nlb = new URL(kubeconfigOf(KUBE_PROXY_KUBECONFIG_PATH).clusters[0].cluster.server);
        assert.equal(kubeconfigOf(KUBE_ROUTER_KUBECONFIG_PATH).clusters[0].cluster.server, nlb.href.replace(/\/$/, ""));
        ok(inNode(w, ["ip", "addr", "add", `${nlb.hostname}/32`, "dev", "lo"]));
        await relayIntoNode(w, Number(new URL(server).port), d.tmp, { address: nlb.hostname, port: Number(nlb.port) });

        // As rendered for EC2, kube-proxy sizes the conntrack table, which only the first network namespace may
        // change; this node is a namespace of this machine, so the drill's copy of the file leaves the size alone.
        const config = parse(fs.readFileSync(root + KUBE_PROXY_CONFIG_PATH, "utf8"));
        assert.deepEqual([config.mode, config.conntrack, config.hostnameOverride], ["nftables", undefined, undefined]);
        const drillConfig = "/etc/kubernetes/kube-proxy-config.drill.yaml";
        fs.writeFileSync(root + drillConfig, stringify({ ...config, conntrack: { maxPerCore: 0, min: 0 } }), { mode: 0o600 });
        startUnit(w, "kube-proxy", {}, [[`--config=${KUBE_PROXY_CONFIG_PATH}`, `--config=${drillConfig}`]]);
        startUnit(w, "kube-router");

        // kube-proxy: the kubernetes Service's address leads to the API servers' addresses.
        const svc = (await request(admin, "GET", "/api/v1/namespaces/default/services/kubernetes")).json();
        const endpoints = cp.hosts.map((h) => `${h.address}:6443`);
        await until("the kubernetes Service in kube-proxy's nftables table", 120, async () => {
            const r = inNode(w, ["nft", "list", "table", "ip", KUBE_PROXY_NFT_TABLE]);
            return r.status === 0 && r.stdout.includes(svc.spec.clusterIP) && endpoints.every((e) => r.stdout.includes(e)) ? true : undefined;
        });
        // The enforcer: one chain per NetworkPolicy in the cluster, team-a's default deny among them.
        const policies = (await request(admin, "GET", "/apis/networking.k8s.io/v1/networkpolicies")).json().items;
        assert.ok(policies.some((p: any) => p.metadata.namespace === "team-a"), "team-a has policies");
        await until("a chain for every NetworkPolicy", 120, async () => {
            const r = inNode(w, ["iptables-save", "-t", "filter"]);
            // Besides its own KUBE-NWPLCY-DEFAULT, kube-router names each policy's chain after a hash of it.
            const found = r.stdout.split("\n").filter((l) => l.startsWith(":KUBE-NWPLCY-") && !l.startsWith(":KUBE-NWPLCY-DEFAULT "));
            return r.status === 0 && r.stdout.includes(":KUBE-ROUTER-FORWARD") && found.length === policies.length ? found : undefined;
        });
        assert.equal(inNode(w, ["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "5", `http://127.0.0.1:${KUBE_ROUTER_HEALTH_PORT}/healthz`]).stdout, "200");
        // kube-proxy's endpoints on the node's loopback only; GoBGP, which the advisory concerns, nowhere.
        const listening = inNode(w, ["ss", "-ltnpH"]);
        ok(listening);
        const proxyListeners = listening.stdout.split("\n").filter((l) => l.includes('"kube-proxy"'));
        assert.ok(proxyListeners.length >= 2, listening.stdout);
        for (const l of proxyListeners) assert.match(l.split(/\s+/)[3], /^127\.0\.0\.1:/, l);
        assert.ok(!listening.stdout.split("\n").some((l) => l.split(/\s+/)[3]?.endsWith(`:${GOBGP_API_PORT}`)), listening.stdout);
        for (const unit of ["kube-proxy", "kube-router"]) assert.equal(w.units.get(unit)!.exitCode, null, `${unit} exited: ${fs.readFileSync(path.join(root, `${unit}.log`), "utf8").slice(-2000)}`);

        // What a thief of either node credential would try: neither reads a Secret, kube-proxy's writes no
        // Service, the enforcer's removes no policy.
        const credential = (p: string) => fromKubeconfig(withServer(fs.readFileSync(root + p, "utf8"), server));
        const proxy = credential(KUBE_PROXY_KUBECONFIG_PATH);
        const enforcer = credential(KUBE_ROUTER_KUBECONFIG_PATH);
        for (const c of [proxy, enforcer]) assert.equal((await request(c, "GET", "/api/v1/namespaces/kube-system/secrets")).status, 403);
        const service = { apiVersion: "v1", kind: "Service", metadata: { name: "stolen" }, spec: { ports: [{ port: 80 }] } };
        assert.equal((await request(proxy, "POST", "/api/v1/namespaces/team-a/services", service)).status, 403);
        const target = policies.find((p: any) => p.metadata.namespace === "team-a");
        const removed = await request(enforcer, "DELETE", `/apis/networking.k8s.io/v1/namespaces/team-a/networkpolicies/${target.metadata.name}`);
        assert.equal(removed.status, 403, removed.body);
        assert.equal((await request(admin, "GET", `/apis/networking.k8s.io/v1/namespaces/team-a/networkpolicies/${target.metadata.name}`)).status, 200);
    });

    kubeletCases(d, cp);

    it("two workers carry their Pods' packets over flannel's VXLAN, each Pod in its Node's range, keeping the sending Pod's address between Pods and masquerading it beyond, and flanneld, acting as its node, can change no other Node", async function () {
        this.timeout(300_000);
        assert.ok(cp.applied && cp.worker, "the worker case ran above");
        const { server, admin, token } = cp.applied;
        const w1 = cp.worker;
        const ok = (r: ReturnType<typeof inNode>) => assert.equal(r.status, 0, `${r.stderr}${r.error ?? ""}`);
        const cc = cloudConfigOf(d.run, "aws-workers");
        // Every worker of the group fetches the same files: the second is the first's, under its own name and address.
        const root1 = path.join(d.tmp, "nodes", "worker");
        const root2 = path.join(d.tmp, "nodes", "worker-2");
        for (const [from, to] of [[root1, root2], [nodeEtc(root1), nodeEtc(root2)]]) ok(spawnSync("cp", ["-a", "--", from, to], { encoding: "utf8" }));
        const node2 = "ip-10-0-0-79";
        cp.kubelets.set(node2, await joinNode(d.tmp, token, admin, node2, "10.0.0.79"));
        cp.worker2 = await startHost("worker-2", root2, root2 + BIN, cc, { address: "10.0.0.79", hostname: node2 });
        const w2 = cp.worker2;
        const workers = [w1, w2];

        // The VPC between them: the first worker's spare veth end becomes the second's eth0, and each routes by default through it.
        ok(inNode(w1, ["ip", "link", "set", "eth0-end", "netns", String(w2.pid)]));
        ok(inNode(w2, ["ip", "link", "set", "eth0-end", "name", "eth0"]));
        ok(inNode(w2, ["ip", "addr", "add", `${w2.address}/24`, "dev", "eth0"]));
        ok(inNode(w2, ["ip", "link", "set", "eth0", "up"]));
        for (const w of workers) ok(inNode(w, ["ip", "route", "add", "default", "dev", "eth0"]));
        const nlb = new URL(parse(fs.readFileSync(root1 + BOOTSTRAP_KUBECONFIG_PATH, "utf8")).clusters[0].cluster.server);
        ok(inNode(w2, ["ip", "addr", "add", `${nlb.hostname}/32`, "dev", "lo"]));
        await relayIntoNode(w2, Number(new URL(server).port), d.tmp, { address: nlb.hostname, port: Number(nlb.port) });

        // What the kubelet writes once it joined (its kubeconfig naming the CA file, as the case above shows; here
        // with the node's client pair from the approvers' case inline), and the files cloud-init writes to /etc
        // beside the fetched ones, which flanneld's unit applies before it starts.
        const kubeletConfig = unitOf(cc, "kubelet").argv.find((a) => a.startsWith("--kubeconfig="))!.split("=")[1];
        assert.equal(unitOf(cc, FLANNEL_UNIT).argv.find((a) => a.startsWith("--kubeconfig-file=")), `--kubeconfig-file=${kubeletConfig}`);
        for (const w of workers) {
            const cred = cp.kubelets.get(w.hostname!)!;
            const user = `system:node:${w.hostname}`;
            fs.writeFileSync(w.root + kubeletConfig, stringify({
                apiVersion: "v1", kind: "Config", "current-context": user,
                clusters: [{ name: "default", cluster: { server: nlb.href.replace(/\/$/, ""), "certificate-authority": CLUSTER_CA_PATH } }],
                users: [{ name: user, user: { "client-certificate-data": Buffer.from(cred.certPem!).toString("base64"), "client-key-data": Buffer.from(cred.keyPem!).toString("base64") } }],
                contexts: [{ name: user, context: { cluster: "default", user } }],
            }), { mode: 0o600 });
            for (const f of cc.write_files.filter((x) => x.path.startsWith("/etc/sysctl.d/") || x.path.startsWith("/etc/modules-load.d/"))) {
                const p = nodeEtc(w.root) + f.path.slice("/etc".length);
                fs.mkdirSync(path.dirname(p), { recursive: true });
                fs.writeFileSync(p, f.content, { mode: parseInt(f.permissions, 8) });
            }
            // Its ExecStartPre lines set forwarding and bridge filtering in the node's network namespace first.
            startUnit(w, FLANNEL_UNIT);
        }
        for (const w of workers) {
            for (const [k, v] of [["net/ipv4/ip_forward", "1"], ["net/bridge/bridge-nf-call-iptables", "1"]]) assert.equal(inNode(w, ["cat", `/proc/sys/${k}`]).stdout.trim(), v, `${w.node} ${k}`);
        }

        // Each node's lease is the Pod range the controller manager allocated to its Node; flannel annotates the
        // Node with its VXLAN endpoint, the node's own address.
        const podCidrs = new Map<Host, string>();
        for (const w of workers) {
            const flannelLog = () => fs.readFileSync(path.join(w.root, `${FLANNEL_UNIT}.log`), "utf8").slice(-3000);
            const lease = await until(`${w.node}'s flannel lease`, 120, async () => {
                assert.equal(w.units.get(FLANNEL_UNIT)!.exitCode, null, `flanneld exited: ${flannelLog()}`);
                const r = inNode(w, ["cat", FLANNEL_SUBNET_FILE]);
                return r.status === 0 && r.stdout.includes("FLANNEL_SUBNET=") ? r.stdout : undefined;
            }).catch((e: Error) => {
                throw new Error(`${e.message}\n${flannelLog()}`);
            });
            const n = (await request(admin, "GET", `/api/v1/nodes/${w.hostname}`)).json();
            assert.ok(n.spec.podCIDR, `${w.hostname} has a Pod range`);
            podCidrs.set(w, n.spec.podCIDR);
            // subnet.env names the node's gateway address in the range (x.y.z.1/24 for x.y.z.0/24).
            assert.equal(lease.match(/^FLANNEL_SUBNET=(.*)$/m)![1], n.spec.podCIDR.replace(/\.0\//, ".1/"));
            assert.equal(lease.match(/^FLANNEL_NETWORK=(.*)$/m)![1], "10.244.0.0/16");
            const notes = await until(`${w.hostname} annotated by flannel`, 60, async () => {
                const a = (await request(admin, "GET", `/api/v1/nodes/${w.hostname}`)).json().metadata.annotations ?? {};
                return a["flannel.alpha.coreos.com/public-ip"] ? a : undefined;
            });
            assert.deepEqual([notes["flannel.alpha.coreos.com/public-ip"], notes["flannel.alpha.coreos.com/backend-type"]], [w.address, "vxlan"]);
            const link = inNode(w, ["ip", "-d", "link", "show", "flannel.1"]);
            ok(link);
            assert.match(link.stdout, /vxlan id 1 local (\S+) dev eth0 .*dstport 8472/);
            assert.equal(link.stdout.match(/vxlan id 1 local (\S+)/)![1], w.address);
        }
        assert.notEqual(podCidrs.get(w1), podCidrs.get(w2));
        for (const [w, other] of [[w1, w2], [w2, w1]]) {
            await until(`${w.node}'s route to ${other.node}'s Pods through flannel.1`, 60, async () => {
                const r = inNode(w, ["ip", "route", "show", podCidrs.get(other)!]);
                return r.status === 0 && /dev flannel\.1 onlink/.test(r.stdout) ? true : undefined;
            });
        }

        // A Pod on each: a network namespace of its own, wired by the CNI plugins the node fetched, from the
        // configuration containerd writes from its template once the kubelet passes the node's Pod range.
        const template = cc.write_files.find((f) => f.path === CNI_TEMPLATE_PATH)!.content;
        const pods = new Map<Host, { pid: number; ip: string }>();
        for (const w of workers) {
            const conflist = JSON.parse(template.split("{{.PodCIDR}}").join(podCidrs.get(w)!));
            const holder = spawn("nsenter", ["-t", String(w.pid), "-m", "-u", "--", "unshare", "--net", "sleep", "infinity"], { stdio: "ignore", detached: true });
            w.units.set("pod", holder);
            const own = fs.readlinkSync(`/proc/${w.pid}/ns/net`);
            await until(`${w.node}'s Pod namespace`, 20, async () => (fs.readlinkSync(`/proc/${holder.pid}/ns/net`) !== own ? true : undefined));
            let prevResult: unknown;
            assert.deepEqual(conflist.plugins.map((p: { type: string }) => p.type), ["bridge", "portmap"]);
            for (const plugin of conflist.plugins) {
                const r = spawnSync("nsenter", ["-t", String(w.pid), "-m", "-n", "-u", "--", path.join(CNI_BIN, plugin.type)], {
                    input: JSON.stringify({ ...plugin, cniVersion: conflist.cniVersion, name: conflist.name, ...(prevResult ? { prevResult } : {}) }),
                    env: { PATH: process.env.PATH, CNI_COMMAND: "ADD", CNI_CONTAINERID: `drill-${w.node}`, CNI_NETNS: `/proc/${holder.pid}/ns/net`, CNI_IFNAME: "eth0", CNI_PATH: CNI_BIN },
                    encoding: "utf8", timeout: 60_000,
                });
                assert.equal(r.status, 0, `${plugin.type}: ${r.stdout}${r.stderr}`);
                prevResult = JSON.parse(r.stdout);
            }
            const ip = (prevResult as { ips: { address: string }[] }).ips[0].address.split("/")[0];
            assert.ok(inCidr(ip, podCidrs.get(w)!), `${ip} in ${podCidrs.get(w)}`);
            pods.set(w, { pid: holder.pid!, ip });
        }

        // Who connects, as each listener sees it: a Pod on the other node sees the sending Pod's own address
        // (no masquerade between Pods, so NetworkPolicy can match it); the other node itself sees this node's.
        const whoAmI = "require('net').createServer((c)=>c.end(c.remoteAddress)).listen(Number(process.argv[1]),process.argv[2])";
        const listen = (w: Host, netnsPid: number, address: string, port: number, label: string) => {
            w.units.set(label, spawn("nsenter", ["-t", String(netnsPid), "-n", "--", process.execPath, "-e", whoAmI, String(port), address], { stdio: "ignore", detached: true }));
        };
        const ask = (netnsPid: number, address: string, port: number) =>
            spawnSync("nsenter", ["-t", String(netnsPid), "-n", "--", "bash", "-c", `exec 3<>/dev/tcp/${address}/${port} && cat <&3`], { encoding: "utf8", timeout: 10_000 });
        const a = pods.get(w1)!;
        const b = pods.get(w2)!;
        listen(w2, b.pid, b.ip, 8080, "listen-pod");
        listen(w2, w2.pid, w2.address, 8081, "listen-node");
        const seen = await until("a Pod on the first worker reaches a Pod on the second", 60, async () => {
            const r = ask(a.pid, b.ip, 8080);
            return r.status === 0 && r.stdout ? r.stdout : undefined;
        });
        assert.equal(seen.replace(/^::ffff:/, ""), a.ip);
        const outside = await until("a Pod on the first worker reaches the second worker's address", 60, async () => {
            const r = ask(a.pid, w2.address, 8081);
            return r.status === 0 && r.stdout ? r.stdout : undefined;
        });
        assert.equal(outside.replace(/^::ffff:/, ""), w1.address);
        // The way back works too: the second worker's Pod reaches the first's.
        listen(w1, a.pid, a.ip, 8080, "listen-pod");
        const back = await until("a Pod on the second worker reaches a Pod on the first", 60, async () => {
            const r = ask(b.pid, a.ip, 8080);
            return r.status === 0 && r.stdout ? r.stdout : undefined;
        });
        assert.equal(back.replace(/^::ffff:/, ""), b.ip);

        // What a thief of the first worker's credential (flanneld's, the kubelet's) would try: point the second
        // Node's VXLAN endpoint at itself, or take its Pod range. NodeRestriction refuses both; nothing changed.
        const thief = cp.kubelets.get(w1.hostname!)!;
        const before = (await request(admin, "GET", `/api/v1/nodes/${node2}`)).json();
        const hijack = await request(thief, "PATCH", `/api/v1/nodes/${node2}/status`, { metadata: { annotations: { "flannel.alpha.coreos.com/public-ip": w1.address } } }, "application/json", "application/merge-patch+json");
        assert.equal(hijack.status, 403, hijack.body);
        const steal = await request(thief, "PATCH", `/api/v1/nodes/${node2}`, { spec: { podCIDR: podCidrs.get(w1) } }, "application/json", "application/merge-patch+json");
        assert.equal(steal.status, 403, steal.body);
        const after = (await request(admin, "GET", `/api/v1/nodes/${node2}`)).json();
        assert.deepEqual([after.metadata.annotations["flannel.alpha.coreos.com/public-ip"], after.spec.podCIDR], [before.metadata.annotations["flannel.alpha.coreos.com/public-ip"], before.spec.podCIDR]);
        for (const w of workers) assert.equal(w.units.get(FLANNEL_UNIT)!.exitCode, null, `${w.node}: flanneld exited`);
        // flanneld opens no port of its own; the kernel's VXLAN socket is UDP 8472.
        const tcp = inNode(w1, ["ss", "-ltnpH"]);
        assert.ok(!tcp.stdout.includes('"flanneld"'), tcp.stdout);
        assert.match(inNode(w1, ["ss", "-lunH"]).stdout, /:8472\b/);
    });

    it("a worker's containerd holds the fetched pause and CoreDNS images, pinned, once its node-images unit ran, runs sandboxes from that pause, and the cluster's DNS names exactly that CoreDNS at the kubelets' clusterDNS", async function () {
        this.timeout(300_000);
        assert.ok(cp.applied && cp.worker, "the in-cluster half applied and the worker started above");
        const { admin } = cp.applied;
        const w = cp.worker;
        const cc = cloudConfigOf(d.run, "aws-workers");
        const file = (p: string) => cc.write_files.find((f) => f.path === p);
        const unitFile = file("/etc/systemd/system/node-images.service")!.content;
        const lines = (k: string) => [...unitFile.matchAll(new RegExp(`^${k}=(.*)$`, "gm"))].map((m) => m[1]);
        // systemd.service(5): a oneshot may list several ExecStart lines, run in order; each must succeed.
        assert.deepEqual([lines("Type"), lines("RemainAfterExit")], [["oneshot"], ["yes"]]);
        assert.deepEqual(lines("Requires")[0].split(" ").sort(), ["containerd.service", FETCH_UNIT]);
        const kubelet = file("/etc/systemd/system/kubelet.service")!.content;
        assert.match(kubelet, /^After=.*node-images\.service/m);
        const enabled = cc.runcmd.filter((c) => c[0] === "systemctl" && c[1] === "enable").map((c) => c[3]);
        assert.ok(enabled.indexOf("node-images.service") < enabled.indexOf("kubelet.service"), enabled.join(" "));

        // The distribution's containerd with the rendered config (its package is AL2023's or Debian's; the
        // toolchain's containerd and ctr stand in for it, at the paths the unit names).
        const config = file("/etc/containerd/config.toml")!;
        fs.mkdirSync(path.join(nodeEtc(w.root), "containerd"), { recursive: true });
        fs.writeFileSync(path.join(nodeEtc(w.root), "containerd", "config.toml"), config.content, { mode: parseInt(config.permissions, 8) });
        const log = fs.openSync(path.join(w.root, "containerd.log"), "w");
        w.units.set("containerd", spawn("nsenter", ["-t", String(w.pid), "-m", "-n", "-u", "--", path.join(d.tc.bin, "containerd"), "--config", "/etc/containerd/config.toml"],
            { stdio: ["ignore", log, log], detached: true }));
        fs.closeSync(log);
        await until("containerd's socket in the worker", 60, async () => (inNode(w, ["test", "-S", "/run/containerd/containerd.sock"]).status === 0 ? true : undefined));
        const ctr = path.join(d.tc.bin, "ctr");
        const execs = lines("ExecStart");
        assert.equal(execs.length, 4, execs.join("\n"));
        for (const e of execs) {
            const argv = e.split(" ");
            assert.equal(argv[0], "/usr/bin/ctr", e);
            const r = inNode(w, [ctr, ...argv.slice(1)]);
            assert.equal(r.status, 0, `${e}: ${r.stderr}`);
        }
        // What containerd holds in the kubelet's namespace: each archive's image, pinned, and the CRI plugin's
        // "managed" label, which it adds as it sees the image.
        const archives = stagedBinaries(fetchScript(cc)).filter((b) => b.path.startsWith(`${IMAGES}/`));
        assert.deepEqual(archives.map((b) => path.basename(b.path)).sort(), ["coredns.tar", "pause.tar"]);
        const named = (tar: string) => JSON.parse(spawnSync("tar", ["-xOf", tar, "index.json"], { encoding: "utf8" }).stdout).manifests[0].annotations["io.containerd.image.name"] as string;
        const names = Object.fromEntries(archives.map((b) => [path.basename(b.path, ".tar"), named(w.root + b.path)]));
        const listed = inNode(w, [ctr, "--namespace", "k8s.io", "images", "ls"]);
        assert.equal(listed.status, 0, listed.stderr);
        for (const name of Object.values(names)) {
            const row = listed.stdout.split("\n").find((l) => l.startsWith(`${name} `));
            assert.ok(row, `${name} in\n${listed.stdout}`);
            assert.match(row, /io\.cri-containerd\.pinned=pinned/);
            assert.match(row, /io\.cri-containerd\.image=managed/);
        }
        // containerd's own reading of the rendered config: Pod sandboxes from the imported pause.
        const dump = inNode(w, [path.join(d.tc.bin, "containerd"), "--config", "/etc/containerd/config.toml", "config", "dump"]);
        assert.equal(dump.status, 0, dump.stderr);
        assert.match(dump.stdout, new RegExp(`\\[plugins\\.'io\\.containerd\\.cri\\.v1\\.images'\\.pinned_images\\]\\s+sandbox = '${names.pause.replace(/[.]/g, "\\.")}'`));

        // The cluster's DNS the in-cluster half applied: that CoreDNS image, its Pods labelled as the DNS-allow
        // policies select them, its Service at the address the worker's kubelet hands Pods.
        const kubeletConfig = parse(fs.readFileSync(w.root + KUBELET_CONFIG_PATH, "utf8"));
        const deployment = (await request(admin, "GET", "/apis/apps/v1/namespaces/kube-system/deployments/coredns")).json();
        assert.deepEqual(deployment.spec.template.spec.containers.map((c: { image: string }) => c.image), [names.coredns]);
        assert.deepEqual(deployment.spec.template.metadata.labels, { "k8s-app": "kube-dns" });
        const service = (await request(admin, "GET", "/api/v1/namespaces/kube-system/services/kube-dns")).json();
        assert.equal(service.spec.clusterIP, kubeletConfig.clusterDNS[0]);
        assert.deepEqual(service.spec.selector, { "k8s-app": "kube-dns" });
        const corefile = (await request(admin, "GET", "/api/v1/namespaces/kube-system/configmaps/coredns")).json().data.Corefile as string;
        assert.match(corefile, new RegExp(`kubernetes ${kubeletConfig.clusterDomain.replace(/\./g, "\\.")} in-addr\\.arpa`));
    });

}
