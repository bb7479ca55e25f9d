// (h) etcd backup and restore of the local single stack holding 5,000 Secrets: the bundle's size and the time
// to take it, and the time a restore takes after etcd is killed -9 and its data deleted (the figure);
// then the same Secrets through a key rotation (rotation.ts).
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { takeBackup } from "../platforms/local/backup/backup";
import { restoreBackup } from "../platforms/local/backup/restore";
import { findSupervisor } from "../platforms/local/backup/supervised";
import { planLocalStack } from "../platforms/local/plan";
import { programStack, toolchain } from "../test/e2e/harness";
import { fromKubeconfig, request } from "../test/e2e/kube";
import { RotationFigures, rotationFigures } from "./rotation";

export interface BackupFigures { secrets: number; createMs: number; bundleBytes: number; backupMs: number; restoreMs: number; revision: number; rotation: RotationFigures }

export async function backupFigures(ports: Record<string, number>, secrets = 5000): Promise<BackupFigures> {
    const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "hc-bench-backup-"));
    const local = { layout: "user", stateDir, ports, purgeOnDestroy: true };
    const ps = await programStack({ name: "bench-backup", blueprint: true, config: { "hardened-cluster:local": { value: JSON.stringify(local) } } });
    try {
        const up = await ps.stack.up();
        const admin = fromKubeconfig(up.outputs.kubeconfig.value);
        const plan = planLocalStack({ stack: ps.stackName, local: local as never, toolchainBin: toolchain().bin, isRoot: false });
        // 16 writers at once: what a busy controller might do, without queueing behind API priority and fairness.
        const t0 = Date.now();
        let next = 0;
        await Promise.all(Array.from({ length: 16 }, async () => {
            while (next < secrets) {
                const i = next++;
                const r = await request(admin, "POST", "/api/v1/namespaces/default/secrets", { metadata: { name: `bench-${i}` }, stringData: { token: `value-${i}-${"x".repeat(64)}` } });
                if (r.status !== 201) throw new Error(`secret ${i}: ${r.status} ${r.body.slice(0, 200)}`);
            }
        }));
        const createMs = Date.now() - t0;
        const b = takeBackup(plan);
        const etcd = findSupervisor(plan.nodes[0].logFiles.etcd)!.children;
        etcd.forEach((p) => process.kill(p, "SIGKILL"));
        const dataDir = plan.nodes[0].node.layout.etcdDataDir;
        for (const e of fs.readdirSync(dataDir)) fs.rmSync(path.join(dataDir, e), { recursive: true, force: true });
        const r = await restoreBackup(plan, b.dir);
        const check = await request(admin, "GET", `/api/v1/namespaces/default/secrets/bench-${secrets - 1}`);
        if (check.status !== 200) throw new Error(`the last Secret did not come back: ${check.status}`);
        fs.rmSync(path.join(plan.local.runDir, "backup"), { recursive: true, force: true });
        // The same 5,000 Secrets, now moved to a new key.
        const rotation = await rotationFigures(ps);
        return { secrets, createMs, bundleBytes: b.bytes, backupMs: Math.round(b.seconds * 1000), restoreMs: Math.round(r.seconds * 1000), revision: b.status.revision, rotation };
    } finally {
        await ps.cleanup();
        fs.rmSync(stateDir, { recursive: true, force: true });
    }
}
