// The workers' containerd on a stock AMI: installed by cloud-init, configured with the kubelet's cgroup driver,
// started by the kubelet's unit. The config is read back by Python's tomllib, a parser independent of ours.
import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import { parse } from "yaml";
import { ConfigError } from "../../../components/common";
import { AwsCluster } from "../../../platforms/aws";
import { checkRuntimeSettings, renderContainerdConfig } from "../../../platforms/aws/containerd";
import { byType, clusterArgs, kubeletConfiguration, registered, setAwsMocks, settle, userDataOf } from "./fixtures";

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
});
