// kube-bench on a drill's control-plane node, as the AWS platform renders it: the components' settings are their
// unit files (their ExecStart), as a static pod's are its manifest.
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { parse, stringify } from "yaml";
import { kubeBenchConfig } from "../../platforms/local/kube-bench";
import { runKubeBench } from "./kube-bench-run";
import { Host, inNode, nodePath, unitOf } from "./aws-node";
import type { BootDrill } from "./aws-boot-drill";

/**
 * Runs kube-bench (CIS 1.12 master and etcd) on `h` and requires every scored check to pass but the two about an
 * admin kubeconfig, which no AWS node holds (proven absent here). Prints the counts under `label`.
 */
export function assertKubeBench(d: BootDrill, h: Host, label: string): void {
    const stock = parse(fs.readFileSync(path.join(d.tc.kubeBenchCfg, "config.yaml"), "utf8"));
    const unit = (n: string) => `/etc/systemd/system/${n}.service`;
    const config = path.join(d.tmp, `kube-bench-${h.node}.yaml`);
    fs.writeFileSync(config, stringify(kubeBenchConfig(stock, {
        apiServerArgs: unit("kube-apiserver"),
        controllerManagerArgs: unit("kube-controller-manager"),
        controllerManagerKubeconfig: nodePath(h.cc, "/controller-manager.conf"),
        schedulerArgs: unit("kube-scheduler"),
        schedulerKubeconfig: nodePath(h.cc, "/scheduler.conf"),
        etcdArgs: unit("etcd"),
        etcdDataDir: unitOf(h.cc, "etcd").argv.find((a) => a.startsWith("--data-dir="))!.split("=")[1],
    })));
    const report = runKubeBench(d.tc.bin, d.tc.kubeBenchCfg, config, { enter: ["nsenter", "-t", String(h.pid), "-m", "--"] });
    const scored = report.filter((c) => c.scored);
    const counts = { PASS: 0, FAIL: 0, WARN: 0, INFO: 0 };
    for (const c of scored) counts[c.status]++;
    console.log(`      kube-bench (AWS rendering, ${h.node}, ${label}): ${scored.length} scored: ${JSON.stringify(counts)}`);
    assert.equal(scored.length, 53, `expected 53 scored checks (47 master + 6 etcd), got ${scored.length}`);
    // CIS 1.1.13/1.1.14 apply to an admin kubeconfig if one exists (their audit stats it only then). AWS nodes
    // hold none at all; kube-bench fails the empty result. Proven absent here, so they fail for that alone.
    const noAdminCredential = ["1.1.13", "1.1.14"];
    for (const f of ["/etc/kubernetes/admin.conf", "/etc/kubernetes/super-admin.conf"]) {
        assert.equal(inNode(h, ["test", "-e", f]).status, 1, `${f} exists on ${h.node}`);
    }
    const notPassing = scored.filter((c) => c.status !== "PASS");
    assert.deepEqual(notPassing.filter((c) => noAdminCredential.includes(c.id)).map((c) => [c.id, c.actual ?? ""]), noAdminCredential.map((id) => [id, ""]));
    assert.deepEqual(notPassing.filter((c) => !noAdminCredential.includes(c.id)).map((c) => `${c.id} ${c.status}: ${c.text} ${c.reason ?? ""} ${c.actual ?? ""}`), []);
}
