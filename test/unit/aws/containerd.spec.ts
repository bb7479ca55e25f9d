// The workers' containerd on a stock AMI: installed by cloud-init, configured with the kubelet's cgroup driver,
// started by the kubelet's unit. The config is read back by Python's tomllib, a parser independent of ours.
import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import { parse } from "yaml";
import { ConfigError } from "../../../components/common";
import { AwsCluster } from "../../../platforms/aws";
import { checkRuntimeSettings, renderContainerdConfig } from "../../../platforms/aws/containerd";
import { byType, clusterArgs, imageName, kubeletConfiguration, registered, setAwsMocks, settle, userDataOf } from "./fixtures";

function toml(text: string): any {
    const r = spawnSync("python3", ["-c", "import json, sys, tomllib; print(json.dumps(tomllib.load(sys.stdin.buffer)))"], { input: text, encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    return JSON.parse(r.stdout);
}

/** containerd's CRI runc options table (config version 2, as containerd 1.7's docs/cri/config.md lays it out). */
const runcOptions = (cfg: any) => cfg.plugins["io.containerd.grpc.v1.cri"].containerd.runtimes.runc.options;

async function workerCloudConfig(kubelet: Record<string, unknown>): Promise<any> {
    registered.splice(0);
    const args = clusterArgs();
    new AwsCluster("t", { ...args, workers: { ...args.workers, kubeletConfiguration: kubelet } });
    await settle();
    const lt = byType("aws:ec2/launchTemplate:LaunchTemplate").find((x) => x.name === "t-workers")!;
    return parse(userDataOf(lt).replace(/^#cloud-config\n/, ""));
}

describe("aws: the workers' containerd", function () {
    this.timeout(60000);
    before(() => setAwsMocks());

    it("renders a version 2 config whose runc runtime uses the kubelet's cgroup driver", () => {
        for (const [driver, systemd] of [["systemd", true], ["cgroupfs", false]] as const) {
            const cfg = toml(renderContainerdConfig(driver));
            assert.equal(cfg.version, 2);
            assert.equal(cfg.plugins["io.containerd.grpc.v1.cri"].containerd.runtimes.runc.runtime_type, "io.containerd.runc.v2");
            assert.equal(runcOptions(cfg).SystemdCgroup, systemd, driver);
        }
    });

    it("refuses a kubelet that would talk to another runtime socket, or an unknown cgroup driver", () => {
        const at = (key: string) => (e: unknown) => e instanceof ConfigError && e.key === key;
        assert.throws(() => checkRuntimeSettings("k", { containerRuntimeEndpoint: "unix:///run/crio/crio.sock" }), at("k.containerRuntimeEndpoint"));
        assert.throws(() => checkRuntimeSettings("k", { cgroupDriver: "systemd-ish" }), at("k.cgroupDriver"));
        assert.equal(checkRuntimeSettings("k", { containerRuntimeEndpoint: "unix:///run/containerd/containerd.sock", cgroupDriver: "systemd" }), "systemd");
        // The kubelet's own default driver when none is set.
        assert.equal(checkRuntimeSettings("k", {}), "cgroupfs");
    });

    it("installs containerd on workers, writes its config after the package (root's, 0644) and starts it with the kubelet", async () => {
        const cc = await workerCloudConfig({ ...kubeletConfiguration(), cgroupDriver: "systemd" });
        assert.deepEqual(cc.packages, ["containerd"]);
        const file = cc.write_files.find((f: { path: string }) => f.path === "/etc/containerd/config.toml");
        assert.deepEqual([file.permissions, file.owner, file.defer], ["0644", "root:root", true]);
        assert.equal(runcOptions(toml(file.content)).SystemdCgroup, true);
        const unit = cc.write_files.find((f: { path: string }) => f.path === "/etc/systemd/system/kubelet.service").content as string;
        const line = (k: string) => (unit.match(new RegExp(`^${k}=(.*)$`, "m"))?.[1] ?? "").split(" ");
        assert.ok(line("Wants").includes("containerd.service") && line("After").includes("containerd.service"), unit);
        const cp = byType("aws:ec2/launchTemplate:LaunchTemplate").filter((x) => /cp-\d$/.test(x.name));
        assert.equal(cp.length, 3);
        for (const lt of cp) assert.ok(!userDataOf(lt).includes("containerd"), lt.name);
    });

    it("follows the kubelet to cgroupfs, and refuses the worker's kubelet settings before anything exists", async () => {
        const cc = await workerCloudConfig({ ...kubeletConfiguration(), cgroupDriver: "cgroupfs" });
        const file = cc.write_files.find((f: { path: string }) => f.path === "/etc/containerd/config.toml");
        assert.equal(runcOptions(toml(file.content)).SystemdCgroup, false);
        const args = clusterArgs();
        assert.throws(
            () => new AwsCluster("bad", { ...args, workers: { ...args.workers, kubeletConfiguration: { ...kubeletConfiguration(), containerRuntimeEndpoint: "unix:///run/crio/crio.sock" } } }),
            (e: unknown) => e instanceof ConfigError && e.key === "aws.workers.kubeletConfiguration.containerRuntimeEndpoint",
        );
    });

    it("runs Pod sandboxes from the published pause image, which a oneshot unit imports and pins before the kubelet, after containerd and the fetch", async () => {
        const cc = await workerCloudConfig(kubeletConfiguration());
        const cfg = toml(cc.write_files.find((f: { path: string }) => f.path === "/etc/containerd/config.toml").content);
        // containerd 1.7's docs/cri/config.md: sandbox_image in the CRI plugin's table (containerd 2 migrates it).
        assert.equal(cfg.plugins["io.containerd.grpc.v1.cri"].sandbox_image, imageName("pause"));
        const unitFile = (n: string) => cc.write_files.find((f: { path: string }) => f.path === `/etc/systemd/system/${n}`)?.content as string;
        const images = unitFile("node-images.service");
        const lines = (unit: string, k: string) => [...unit.matchAll(new RegExp(`^${k}=(.*)$`, "gm"))].map((m) => m[1]);
        assert.deepEqual(lines(images, "Type"), ["oneshot"]);
        assert.deepEqual(lines(images, "RemainAfterExit"), ["yes"]);
        const ctr = "/usr/bin/ctr --address /run/containerd/containerd.sock --namespace k8s.io images";
        assert.deepEqual(lines(images, "ExecStart"), [
            `${ctr} import /var/lib/hardened-cluster/images/pause.tar`, `${ctr} label ${imageName("pause")} io.cri-containerd.pinned=pinned`,
            `${ctr} import /var/lib/hardened-cluster/images/coredns.tar`, `${ctr} label ${imageName("coredns")} io.cri-containerd.pinned=pinned`,
        ]);
        for (const k of ["Requires", "After"]) assert.deepEqual(lines(images, k)[0].split(" ").sort(), ["containerd.service", "hardened-cluster-fetch.service"], k);
        const kubelet = unitFile("kubelet.service");
        for (const k of ["Wants", "After"]) assert.ok(lines(kubelet, k)[0].split(" ").includes("node-images.service"), `${k} of ${kubelet}`);
        // Enabled before the kubelet, after the fetch.
        const enabled = cc.runcmd.filter((c: string[]) => c[1] === "enable").map((c: string[]) => c[3]);
        assert.ok(enabled.indexOf("hardened-cluster-fetch.service") < enabled.indexOf("node-images.service") && enabled.indexOf("node-images.service") < enabled.indexOf("kubelet.service"), enabled.join(" "));
    });

    it("refuses a worker unit of the caller's named node-images, which the platform adds itself", () => {
        const args = clusterArgs();
        const units = [...args.workers.units, { name: "node-images", description: "mine", execStart: ["/usr/local/bin/kubelet"] }];
        assert.throws(() => new AwsCluster("bad", { ...args, workers: { ...args.workers, units } }),
            (e: unknown) => e instanceof ConfigError && e.key === `aws.workers.units[${units.length - 1}].name` && /added by the AWS platform/.test(e.message));
    });

    it("with binaries from the AMI, leaves the sandbox image and the images to it: no import unit, no sandbox_image", async () => {
        registered.splice(0);
        const args = clusterArgs();
        new AwsCluster("t", { ...args, options: { ...args.options, binaries: { source: "ami" } } });
        await settle();
        const lt = byType("aws:ec2/launchTemplate:LaunchTemplate").find((x) => x.name === "t-workers")!;
        const cc = parse(userDataOf(lt).replace(/^#cloud-config\n/, ""));
        assert.equal(cc.write_files.some((f: { path: string }) => f.path.endsWith("node-images.service")), false);
        const cfg = toml(cc.write_files.find((f: { path: string }) => f.path === "/etc/containerd/config.toml").content);
        assert.equal(cfg.plugins["io.containerd.grpc.v1.cri"].sandbox_image, undefined);
    });
});
