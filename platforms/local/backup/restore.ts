// The restore choreography on the local platform, one path for one member and for three:
//   1. pre-flight (local.ts): refuses before any data directory is touched;
//   2. every member's data is restored from the same snapshot into a new directory inside its data directory;
//   3. apiservers, controller-managers, schedulers, then etcd members are held down (supervised.ts);
//   4. each member's member/ directory is moved aside (kept in the data directory as pre-restore-<time>/, named
//      in the result) and the restored one takes its place;
//   5. etcd members are released and must report healthy with one cluster ID;
//   6. the apiservers' stale /registry/masterleases/ keys are dropped (they would list dead endpoints);
//   7. apiservers are released and must answer /readyz; then controller-managers and schedulers.
// Anything that fails after step 3 still releases every held supervisor, so the stack is never left frozen.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { claimedDirs, LocalStackPlan, MARKER } from "../plan";
import { restoreArgs } from "../../../components/backup";
import { defaultKeyFile, preflight, runTool } from "./backup";
import { BackupTarget, backupTarget, etcdClient, etcdMembers } from "./target";
import { hold, Held, release } from "./supervised";

const DEFAULT_BUMP = 1_000_000_000;

/** The highest revision any member still reports; 0 when none answers (every member lost). */
function liveRevision(target: BackupTarget): number {
    let max = 0;
    for (const m of target.members) {
        try {
            const st = JSON.parse(runTool(path.join(target.toolchainBin, "etcdctl"), [...etcdClient(target, m.clientUrl), "--command-timeout=3s", "endpoint", "status", "-w", "json"]));
            max = Math.max(max, Number(st[0]?.Status?.header?.revision ?? 0));
        } catch { /* this member is down */ }
    }
    return max;
}

export interface RestoreResult {
    /** Where each member's previous member/ directory was moved (inside its data directory). */
    previous: string[];
    revision: number;
    /** How far revisions were moved past the snapshot's. */
    bump: number;
    clusterId: string;
    seconds: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, seconds: number, probe: () => Promise<T | undefined> | T | undefined): Promise<T> {
    const deadline = Date.now() + seconds * 1000;
    let last = "";
    for (;;) {
        try {
            const v = await probe();
            if (v !== undefined) return v;
        } catch (e) {
            last = (e as Error).message;
        }
        if (Date.now() > deadline) throw new Error(`timed out after ${seconds}s waiting for ${what}${last ? ` (last: ${last})` : ""}`);
        await sleep(250);
    }
}

function chownTree(dir: string, uid: number, gid: number): void {
    fs.lchownSync(dir, uid, gid);
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
        const p = path.join(dir, e.name);
        if (e.isDirectory()) chownTree(p, uid, gid);
        else fs.lchownSync(p, uid, gid);
    }
}

function ids(user: string): { uid: number; gid: number } {
    const id = (flag: string) => Number(execFileSync("id", [flag, user], { encoding: "utf8" }).trim());
    return { uid: id("-u"), gid: id("-g") };
}

/** Restores a bundle into the running stack `plan` describes; see the file comment for the order. */
export async function restoreBackup(plan: LocalStackPlan, bundleDir: string, opts: { keyFile?: string; log?: (line: string) => void } = {}): Promise<RestoreResult> {
    const t0 = Date.now();
    const log = opts.log ?? (() => undefined);
    const verified = preflight(plan, bundleDir, opts.keyFile ?? defaultKeyFile(plan));
    const members = etcdMembers(plan);
    const target = backupTarget(plan);
    // Revisions must move past any a client saw: past the live cluster's, when a member still answers (a second
    // restore of the same snapshot), and by a billion in any case (etcd's own guidance for a lost cluster).
    const live = liveRevision(target);
    const bump = Math.max(DEFAULT_BUMP, live - verified.status.revision + 1_000_000);
    const stamp = new Date().toISOString().replace(/[:.]/g, "-");
    const staged: string[] = [];
    const held: Held[] = [];
    const previous: string[] = [];
    try {
        for (const m of members) {
            // Staged inside the data directory, never beside it: the data directory may be a mount point of its
            // own (a dedicated etcd disk, or kubeadm's /var/lib/etcd), which a rename cannot cross. etcd ignores
            // (and logs) entries there other than member/.
            if (!fs.existsSync(m.dataDir)) fs.mkdirSync(m.dataDir, { recursive: true, mode: 0o700 });
            const dest = path.join(m.dataDir, `restore-${stamp}`);
            staged.push(dest);
            runTool(path.join(plan.toolchainBin, "etcdutl"), restoreArgs(m.argv, verified.snapshotFile, dest, bump));
            fs.chmodSync(dest, 0o700);
            if (m.user && process.getuid?.() === 0) {
                const { uid, gid } = ids(m.user);
                chownTree(dest, uid, gid);
                fs.lchownSync(m.dataDir, uid, gid);
            }
            fs.chmodSync(m.dataDir, 0o700);
        }
        log(`restored ${members.length} member data director${members.length === 1 ? "y" : "ies"} from revision ${verified.status.revision} (revisions bumped by ${bump})`);
        const control = (name: "kube-apiserver" | "kube-controller-manager" | "kube-scheduler") =>
            plan.nodes.filter((n) => n.bundle.processes.some((p) => p.name === name)).map((n) => ({ what: `${n.node.name}/${name}`, log: n.logFiles[name] }));
        const apiservers = control("kube-apiserver");
        const controllers = [...control("kube-controller-manager"), ...control("kube-scheduler")];
        const etcds = plan.nodes.map((n) => ({ what: `${n.node.name}/etcd`, log: n.logFiles.etcd }));
        for (const c of [...apiservers, ...controllers, ...etcds]) held.push(await hold(c.what, c.log));
        log(`holding ${held.length} components`);
        members.forEach((m, i) => {
            const live = path.join(m.dataDir, "member");
            if (fs.existsSync(live)) {
                const aside = path.join(m.dataDir, `pre-restore-${stamp}`);
                fs.mkdirSync(aside, { mode: 0o700 });
                // etcd's own user owns everything in its data directory (the platform's purge runs as that user).
                if (m.user && process.getuid?.() === 0) {
                    const { uid, gid } = ids(m.user);
                    fs.lchownSync(aside, uid, gid);
                }
                fs.renameSync(live, path.join(aside, "member"));
                previous.push(aside);
            }
            fs.renameSync(path.join(staged[i], "member"), live);
            fs.rmdirSync(staged[i]);
        });
        staged.length = 0;
        // A data directory the stack claims with its marker (the single system layout's) lost it with its data:
        // written back, or the next plan would refuse the directory as someone else's.
        for (const dir of claimedDirs(plan.local)) {
            const marker = path.join(dir, MARKER);
            if (members.some((m) => m.dataDir === dir) && fs.existsSync(dir) && fs.lstatSync(marker, { throwIfNoEntry: false }) === undefined) {
                fs.writeFileSync(marker, plan.stack, { mode: 0o600, flag: "wx" });
            }
        }
        const byName = (what: string) => held.filter((h) => what === h.what);
        for (const e of etcds) byName(e.what).forEach(release);
        const etcdctl = path.join(plan.toolchainBin, "etcdctl");
        const clusterId = await until("every etcd member healthy with one cluster ID", 120, () => {
            const st = JSON.parse(runTool(etcdctl, [...etcdClient(target), "endpoint", "status", "-w", "json"])) as { Status: { header: { cluster_id: number | string } } }[];
            const clusters = new Set(st.map((s) => String(s.Status.header.cluster_id)));
            return st.length === members.length && clusters.size === 1 ? [...clusters][0] : undefined;
        });
        runTool(etcdctl, [...etcdClient(target), "del", "--prefix", "/registry/masterleases/"]);
        for (const a of apiservers) byName(a.what).forEach(release);
        let check: { caFile?: string; certFile?: string; keyFile?: string } | undefined;
        for (const n of plan.nodes) {
            const p = n.bundle.processes.find((x) => x.name === "kube-apiserver");
            if (!p || p.health.kind !== "https") continue;
            const h = p.health;
            check ??= h;
            await until(`${n.node.name}/kube-apiserver /readyz`, 120, () => probe(h.url, h.caFile, h.certFile, h.keyFile));
        }
        // Clients reach the cluster through its server URL (the ha balancer, which takes a server back only after
        // its own checks pass): the restore is done when that answers too.
        if (check) {
            const c = check;
            await until(`${plan.cluster.server}/readyz`, 60, () => probe(`${plan.cluster.server}/readyz`, c.caFile, c.certFile, c.keyFile));
        }
        for (const c of controllers) byName(c.what).forEach(release);
        held.length = 0;
        log(`restore done in ${((Date.now() - t0) / 1000).toFixed(1)}s`);
        return { previous, revision: verified.status.revision, bump, clusterId, seconds: (Date.now() - t0) / 1000 };
    } finally {
        // Every supervisor still frozen is thawed whatever happened; staged copies never used are dropped.
        held.forEach(release);
        for (const s of staged) fs.rmSync(s, { recursive: true, force: true });
        fs.rmSync(verified.scratch, { recursive: true, force: true });
    }
}

function probe(url: string, ca?: string, cert?: string, key?: string): Promise<true | undefined> {
    const https: typeof import("node:https") = require("node:https");
    const read = (f?: string) => (f ? fs.readFileSync(f) : undefined);
    return new Promise((resolve) => {
        const req = https.get(url, { ca: read(ca), cert: read(cert), key: read(key), timeout: 2000 }, (res) => {
            res.resume();
            resolve(res.statusCode === 200 ? true : undefined);
        });
        req.on("timeout", () => req.destroy(new Error("timeout")));
        req.on("error", () => resolve(undefined));
    });
}
