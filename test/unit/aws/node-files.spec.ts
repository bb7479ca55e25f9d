// What awsProgram puts on every node, read back from the registered launch templates and parameters: the URL
// workers join at (a SAN of the apiserver certificate), the mode and owner of every file a node gets, and
// the kernel settings the workers' kubelet requires before it starts.
import { strict as assert } from "node:assert";
import { existsSync } from "node:fs";
import * as pulumi from "@pulumi/pulumi";
import { parse } from "yaml";
import type { ClusterSettings } from "../../../components/cluster";
import { AwsOptions } from "../../../platforms/aws/options";
import { awsProgram, AwsProgramArgs } from "../../../platforms/aws/program";
import { planAwsProgram } from "../../../platforms/aws/program-plan";
import { FETCH_SCRIPT_PATH } from "../../../platforms/aws/secrets";
import { BACKUP_SCRIPT } from "../../../platforms/aws/backup";
import { CERT_EXPIRY_SCRIPT } from "../../../platforms/aws/cert-expiry";
import { baseOptions, Registered, registered, setAwsMocks, settle, userDataOf, valueOf } from "./fixtures";

const LT = "aws:ec2/launchTemplate:LaunchTemplate";
const NS = "hardened-cluster";

interface NodeFile { path: string; mode: string; owner: string; fetched: boolean; content?: string }

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
        const [, , path, mode, owner] = l.split(" ");
        return { path, mode, owner, fetched: true };
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

    it("writes keys, kubeconfigs and the kubelet config 0600 root:root, and etcd's and the approver's own keys root:<their group> 0640 (read, never written)", () => {
        const lts = built[0].resources.filter((r) => r.type === LT);
        assert.deepEqual(lts.map((lt) => lt.name).sort(), ["n0-cp-cp-0", "n0-cp-cp-1", "n0-cp-cp-2", "n0-workers"]);
        let checked = 0;
        for (const lt of lts) {
            for (const f of filesOf(lt)) {
                const where = `${lt.name} ${f.path}`;
                checked++;
                // Nothing any node gets is writable by group or others, and only the three scripts are executable.
                assert.equal(parseInt(f.mode, 8) & 0o022, 0, `${where} ${f.mode}`);
                if (f.path !== FETCH_SCRIPT_PATH && f.path !== CERT_EXPIRY_SCRIPT && f.path !== BACKUP_SCRIPT) assert.equal(parseInt(f.mode, 8) & 0o111, 0, `${where} ${f.mode}`);
                // A service that runs as its own user reads its own directory's files through its group.
                const service = OWN_DIRS.find(([dir]) => f.path.startsWith(dir))?.[1];
                if (service) {
                    assert.equal(f.owner, `root:${service}`, where);
                    assert.equal(f.mode, f.path.endsWith(".key") ? "0640" : "0644", where);
                    continue;
                }
                if (f.fetched) assert.equal(f.mode, "0600", `${where}: fetched files are secrets`);
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
            ["/etc/kubernetes/csr-approver/ca.crt", "0644", "root:csr-approver", false],
            ["/etc/kubernetes/csr-approver/client.crt", "0644", "root:csr-approver", false],
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
});
