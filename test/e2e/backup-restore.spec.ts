// etcd backup and restore on the local ha topology, for real: marker ConfigMaps every 10 s while the stack's
// schedule (backup.intervalMinutes: 1) takes bundles, then every etcd member killed -9 and every data directory
// deleted; the restore of the latest scheduled bundle must bring both apiservers back with the markers up to
// the snapshot, a Secret still encrypted at rest and revisions above anything seen before. A bundle with one
// flipped byte is refused with no data directory changed.
import { strict as assert } from "node:assert";
import { createHash } from "node:crypto";
import { execFile, execFileSync } from "node:child_process";
import { promisify } from "node:util";
import * as fs from "node:fs";
import * as path from "node:path";
import { configuredKeys, Manifest, unseal } from "../../components/backup/bundle";
import { RestoreRefused, takeBackup, defaultKeyFile, loadKey, preflight, Verified } from "../../platforms/local/backup/backup";
import type { ScheduleStatus } from "../../platforms/local/backup/schedule";
import { listBundles } from "../../platforms/local/backup/stored";
import { scheduleStatusFile } from "../../platforms/local/backup/target";
import { restoreBackup, RestoreResult } from "../../platforms/local/backup/restore";
import { findSupervisor } from "../../platforms/local/backup/supervised";
import { LocalStackPlan, planLocalStack } from "../../platforms/local/plan";
import { e2eLocal, ProgramStack, programStack, toolchain } from "./harness";
import { Credential, fromKubeconfig, request } from "./kube";
import { runKubeBench, USER_LAYOUT_ROOT_ONLY } from "./kube-bench-run";
import { processesOn, until } from "./processes";
import { E2E_PORTS } from "./ports";

const ports = E2E_PORTS.backup;
const system = process.getuid?.() === 0;
const BINARIES = ["pulumi-resource-pulumi-nodejs", "pulumi-resource-tls", "pulumi-resource-random", "pulumi-resource-kubernetes",
    "etcd", "etcdctl", "etcdutl", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "haproxy", "kube-bench"];
const RTO_SECONDS = 120;
// The bound for a one-minute schedule with markers every 10 s.
const RPO_SECONDS = 70;
const SCHEDULE = { intervalMinutes: 1, retention: 10 };
const execFileAsync = promisify(execFile);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** sha256 over every file's path, mode and bytes below each directory (a missing directory hashes as such). */
function treeHash(dirs: string[]): string {
    const h = createHash("sha256");
    const walk = (d: string) => {
        for (const e of fs.readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
            const p = path.join(d, e.name);
            h.update(`${p}\0${fs.lstatSync(p).mode}\0`);
            if (e.isDirectory()) walk(p);
            else if (e.isFile()) h.update(fs.readFileSync(p));
        }
    };
    for (const d of dirs) (fs.existsSync(d) ? walk(d) : h.update(`${d}: missing`));
    return h.digest("hex");
}

describe("etcd backup and restore on the local ha topology (real processes)", function () {
    this.timeout(20 * 60_000);
    let ps: ProgramStack;
    let plan: LocalStackPlan;
    let admin: Credential;
    let stateDir: string | undefined;
    let backup: { dir: string; manifest: Manifest; verified: Verified };
    let restored: RestoreResult;
    /** sent: when the request left; at: when it was answered (committed). */
    const markers: { name: string; sent: number; at: number; rv: number }[] = [];
    let maxRv = 0;
    /** The bundle's createdAt (the schedule's slot, before the snapshot) and its manifest's mtime (after it). */
    let backupStart = 0;
    let backupEnd = 0;
    let disasterAt = 0;
    /** When the first restore (after the disaster) was done. */
    let restoredAt = 0;
    /** Data directories the restores kept aside. */
    const asides: string[] = [];

    const etcdctl = (endpoint: string | undefined, ...args: string[]) => etcdctlWith(endpoint, undefined, ...args);
    const etcdctlWith = (endpoint: string | undefined, input: Buffer | undefined, ...args: string[]) => {
        const files = plan.nodes[0].bundle.files.map((f) => f.path);
        const pick = (suffix: string) => files.find((f) => f.endsWith(suffix))!;
        const eps = endpoint ?? plan.nodes.map((n) => `https://${n.node.ip}:${ports.etcdClient}`).join(",");
        return execFileSync(path.join(toolchain().bin, "etcdctl"), [`--endpoints=${eps}`, `--cacert=${pick("/pki/etcd/ca.crt")}`,
            `--cert=${pick("/etcd/healthcheck-client.crt")}`, `--key=${pick("/etcd/healthcheck-client.key")}`, ...args],
        { encoding: "utf8", stdio: [input ? "pipe" : "ignore", "pipe", "pipe"], maxBuffer: 64 * 1024 * 1024, ...(input ? { input } : {}) });
    };
    const masterleases = () => ((JSON.parse(etcdctl(undefined, "get", "--prefix", "/registry/masterleases/", "--keys-only", "-w", "json")) as { kvs?: { key: string }[] }).kvs ?? [])
        .map((kv) => Buffer.from(kv.key, "base64").toString().replace("/registry/masterleases/", "")).sort();
    const STALE_LEASE = "127.0.0.99";
    const direct = (i: number): Credential => ({ ...admin, server: `https://${plan.nodes[i].node.ip}:${ports.apiServer}` });
    const ready = async (i: number) => (await request(direct(i), "GET", "/readyz").catch(() => undefined))?.status === 200;
    const dataDirs = () => plan.nodes.map((n) => n.node.layout.etcdDataDir);
    const noteRv = (rv: unknown) => (maxRv = Math.max(maxRv, Number(rv)));

    /**
     * What RBAC answers for a fixed set of subjects (SubjectAccessReview): the admin credential's user, the
     * scheduler's and controller-manager's identities, and an authenticated nobody. A restore brings back the
     * bindings with the data, so the answers must not change.
     */
    const accessAnswers = async (): Promise<string[]> => {
        const asks: [string, string[], string, string, string][] = [
            ["kubernetes-admin", [], "list", "secrets", "kube-system"],
            ["system:kube-scheduler", [], "create", "bindings", "default"],
            ["system:kube-controller-manager", [], "get", "secrets", "kube-system"],
            ["mallory", ["system:authenticated"], "list", "secrets", "default"],
            ["mallory", ["system:authenticated"], "create", "clusterrolebindings", ""],
        ];
        const out: string[] = [];
        for (const [user, groups, verb, resource, namespace] of asks) {
            const r = await request(admin, "POST", "/apis/authorization.k8s.io/v1/subjectaccessreviews", {
                apiVersion: "authorization.k8s.io/v1", kind: "SubjectAccessReview",
                spec: { user, groups, resourceAttributes: { verb, resource, ...(namespace ? { namespace } : {}) } },
            });
            assert.equal(r.status, 201, r.body);
            out.push(`${user} ${verb} ${resource}: ${r.json().status.allowed === true}`);
        }
        return out;
    };
    let accessBefore: string[] = [];

    const writeMarker = async () => {
        const name = `marker-${markers.length}`;
        const sent = Date.now();
        const r = await request(admin, "POST", "/api/v1/namespaces/default/configmaps", { metadata: { name }, data: { n: String(markers.length) } });
        assert.equal(r.status, 201, r.body);
        const rv = Number(r.json().metadata.resourceVersion);
        noteRv(rv);
        markers.push({ name, sent, at: Date.now(), rv });
    };

    before(async function () {
        toolchain(...BINARIES);
        const e2e = e2eLocal("backup", ports, system);
        stateDir = e2e.stateDir;
        const local = { ...e2e.local, topology: "ha" };
        ps = await programStack({
            name: "backup", blueprint: true, binaries: BINARIES,
            config: { "hardened-cluster:local": { value: JSON.stringify(local) }, "hardened-cluster:backup": { value: JSON.stringify(SCHEDULE) } },
        });
        plan = planLocalStack({ stack: ps.stackName, local: local as never, toolchainBin: toolchain().bin, isRoot: system, backup: SCHEDULE });
        const res = await ps.stack.up({ onOutput: (o) => process.env.HC_E2E_VERBOSE && process.stdout.write(o) });
        assert.equal(res.summary.result, "succeeded");
        admin = fromKubeconfig(res.outputs.kubeconfig.value);
    });
    after(async function () {
        await ps?.cleanup();
        if (stateDir) fs.rmSync(stateDir, { recursive: true, force: true });
    });

    it("takes scheduled backups every minute between markers written every 10 s", async function () {
        const secret = await request(admin, "POST", "/api/v1/namespaces/default/secrets", { metadata: { name: "before-backup" }, stringData: { token: "s3cr3t-value" } });
        assert.equal(secret.status, 201, secret.body);
        noteRv(secret.json().metadata.resourceVersion);
        accessBefore = await accessAnswers();
        console.log(`    RBAC answers before the backup: ${accessBefore.join("; ")}`);
        // Both answers occur, so an unchanged list after the restore says something.
        assert.ok(accessBefore.some((a) => a.endsWith("true")) && accessBefore.some((a) => a.endsWith("false")), JSON.stringify(accessBefore));
        // An apiserver that is gone but whose lease is in the snapshot: the restore must not bring it back. A copy
        // of a live lease's value, without etcd's lease TTL, so nothing but the restore removes it.
        const live = JSON.parse(etcdctl(undefined, "get", "/registry/masterleases/127.0.0.11", "-w", "json")) as { kvs: { value: string }[] };
        assert.equal(live.kvs.length, 1, "the apiserver at 127.0.0.11 holds a master lease");
        etcdctlWith(undefined, Buffer.from(live.kvs[0].value, "base64"), "put", `/registry/masterleases/${STALE_LEASE}`);
        assert.deepEqual(masterleases(), ["127.0.0.11", "127.0.0.12", STALE_LEASE]);
        // Markers every 10 s until the schedule has taken a bundle after at least two of them (its first slot
        // is one minute after the up started it), then two more.
        const deadline = Date.now() + 150_000;
        let found: { dir: string; manifest: Manifest } | undefined;
        while (!found) {
            assert.ok(Date.now() < deadline, "no scheduled bundle within 150 s of a one-minute schedule");
            await writeMarker();
            await sleep(10_000);
            const second = markers[1]?.at ?? Infinity;
            found = listBundles(plan.backup.directory, plan.stack).find((b) => Date.parse(b.manifest.createdAt) > second);
        }
        await writeMarker();
        await sleep(10_000);
        await writeMarker();
        backupStart = Date.parse(found.manifest.createdAt);
        backupEnd = fs.statSync(path.join(found.dir, "manifest.json")).mtimeMs;
        // The whole pre-flight a restore runs: hashes, etcd release, snapshot integrity, CAs, encryption keys.
        const verified = preflight(plan, found.dir);
        fs.rmSync(verified.scratch, { recursive: true, force: true });
        backup = { ...found, verified };
        const status = JSON.parse(fs.readFileSync(scheduleStatusFile(plan), "utf8")) as ScheduleStatus;
        console.log(`    scheduled backup ${path.basename(found.dir)}: revision ${verified.status.revision}, ${verified.status.totalKey} keys; status ${JSON.stringify(status.last)}`);
        assert.equal(status.intervalMinutes, 1);
        assert.equal(status.overdue, false);
        assert.ok(status.attempts >= 1 && status.lastSuccess, JSON.stringify(status));
        assert.equal(fs.statSync(scheduleStatusFile(plan)).mode & 0o777, 0o600);
        // What the bundle is: a 0700 directory of 0600 files, each matching the manifest's sha256.
        assert.equal(fs.statSync(backup.dir).mode & 0o777, 0o700);
        const entries = fs.readdirSync(backup.dir).sort();
        assert.deepEqual(entries, ["cas.json.sealed", "keys.json.sealed", "manifest.json", "snapshot.db.sealed", "status.json.sealed"]);
        for (const e of entries) assert.equal(fs.statSync(path.join(backup.dir, e)).mode & 0o777, 0o600, e);
        assert.equal(fs.statSync(defaultKeyFile(plan)).mode & 0o777, 0o600);
        for (const [f, h] of Object.entries(backup.manifest.files)) {
            assert.equal(createHash("sha256").update(fs.readFileSync(path.join(backup.dir, f))).digest("hex"), h, f);
        }
        // Sealed at rest: the Secret's name is in the snapshot, but not readable in the stored file.
        assert.equal(fs.readFileSync(path.join(backup.dir, "snapshot.db.sealed")).includes(Buffer.from("before-backup")), false);
        // Secrets are encrypted at rest (CIS 1.2.27): the snapshot references at least one key, each one configured.
        const encFile = plan.nodes[0].bundle.files.find((f) => f.kind === "encryption")!.path;
        const configured = configuredKeys(fs.readFileSync(encFile, "utf8"));
        const refs = Object.keys(verified.refs);
        assert.ok(refs.length >= 1 && Object.values(verified.refs).reduce((a, b) => a + b, 0) >= 1, JSON.stringify(verified.refs));
        for (const r of refs) assert.ok(configured.includes(r), `${r} not in ${configured.join(", ")}`);
        const cas = JSON.parse(unseal(loadKey(defaultKeyFile(plan), false), fs.readFileSync(path.join(backup.dir, "cas.json.sealed")), "cas.json.sealed").toString("utf8"));
        assert.equal(Object.keys(cas).sort().join(","), "etcd,front-proxy,kubernetes");
    });

    it("refuses a bundle with one flipped byte in the snapshot, leaving every data directory as it was", async function () {
        const bad = `${backup.dir}-flipped`;
        fs.cpSync(backup.dir, bad, { recursive: true });
        const snap = path.join(bad, "snapshot.db.sealed");
        const bytes = fs.readFileSync(snap);
        bytes[Math.floor(bytes.length / 2)] ^= 0x01;
        fs.writeFileSync(snap, bytes);
        // The members are paused so their own writes cannot change the hash while the restore is refused.
        const etcds = plan.nodes.map((n) => findSupervisor(n.logFiles.etcd)!.children).flat();
        assert.equal(etcds.length, 3);
        etcds.forEach((p) => process.kill(p, "SIGSTOP"));
        try {
            const before = treeHash(dataDirs());
            await assert.rejects(restoreBackup(plan, bad), (e: unknown) => e instanceof RestoreRefused && /snapshot\.db\.sealed: sha256/.test((e as Error).message));
            assert.equal(treeHash(dataDirs()), before, "a data directory changed");
        } finally {
            etcds.forEach((p) => process.kill(p, "SIGCONT"));
            fs.rmSync(bad, { recursive: true, force: true });
        }
    });

    it("restores after every member is killed -9 and every data directory deleted", async function () {
        const rvBefore = maxRv;
        const victims = plan.nodes.map((n) => findSupervisor(n.logFiles.etcd)!.children).flat();
        assert.equal(victims.length, 3, "one etcd per member");
        disasterAt = Date.now();
        victims.forEach((p) => process.kill(p, "SIGKILL"));
        for (const d of dataDirs()) fs.rmSync(d, { recursive: true, force: true });
        await sleep(2000);
        restored = await restoreBackup(plan, backup.dir, { log: (l) => console.log(`    ${l}`) });
        const rto = (Date.now() - disasterAt) / 1000;
        restoredAt = Date.now();
        const rpo = (disasterAt - backupStart) / 1000;
        console.log(`    RTO: ${restored.seconds.toFixed(1)}s restore, ${rto.toFixed(1)}s from the disaster; RPO: ${rpo.toFixed(1)}s (the scheduled bundle's age)`);
        assert.ok(restored.seconds <= RTO_SECONDS, `restore took ${restored.seconds}s`);
        assert.ok(rpo <= RPO_SECONDS, `RPO ${rpo}s`);
        for (let i = 0; i < 2; i++) assert.equal(await ready(i), true, `${plan.nodes[i].node.name} /readyz`);

        // Three healthy members, one cluster ID.
        const health = JSON.parse(etcdctl(undefined, "endpoint", "health", "-w", "json")) as { health: boolean }[];
        assert.equal(health.filter((m) => m.health).length, 3, JSON.stringify(health));
        const status = JSON.parse(etcdctl(undefined, "endpoint", "status", "-w", "json")) as { Status: { header: { cluster_id: number } } }[];
        assert.equal(new Set(status.map((s) => String(s.Status.header.cluster_id))).size, 1);
        assert.equal(status.length, 3);

        // Markers up to the snapshot are back; those written after it are gone.
        const kept = markers.filter((m) => m.at < backupStart);
        const lost = markers.filter((m) => m.sent > backupEnd);
        assert.ok(kept.length >= 2, `${kept.length} markers before the snapshot`);
        assert.equal(lost.length, 2);
        const names = new Set((await request(admin, "GET", "/api/v1/namespaces/default/configmaps")).json().items.map((c: { metadata: { name: string } }) => c.metadata.name));
        for (const m of kept) assert.ok(names.has(m.name), `${m.name} missing`);
        for (const m of lost) assert.ok(!names.has(m.name), `${m.name} survived a restore to before it`);
        console.log(`    RPO: markers ${kept.map((m) => m.name).join(", ")} kept; ${lost.map((m) => m.name).join(", ")} lost (written after the snapshot)`);

        // The Secret reads back and is still encrypted in etcd.
        const s = await request(admin, "GET", "/api/v1/namespaces/default/secrets/before-backup");
        assert.equal(s.status, 200, s.body);
        assert.equal(Buffer.from(s.json().data.token, "base64").toString(), "s3cr3t-value");
        const raw = JSON.parse(etcdctl(undefined, "get", "/registry/secrets/default/before-backup", "-w", "json")) as { kvs: { value: string }[] };
        assert.equal(raw.kvs.length, 1);
        assert.ok(Buffer.from(raw.kvs[0].value, "base64").toString("latin1").startsWith("k8s:enc:"), "the Secret is stored in clear");

        // The first write after the restore is above every revision a client saw before.
        const w = await request(admin, "POST", "/api/v1/namespaces/default/configmaps", { metadata: { name: "after-restore" } });
        assert.equal(w.status, 201, w.body);
        assert.ok(Number(w.json().metadata.resourceVersion) > rvBefore, `${w.json().metadata.resourceVersion} <= ${rvBefore}`);
        noteRv(w.json().metadata.resourceVersion);
        asides.push(...restored.previous);

        // A watch resumed from a revision seen before the disaster is told to relist (410 Gone: the restore
        // marked everything up to the snapshot compacted), never served a history that no longer exists.
        const watch = await request(admin, "GET", `/api/v1/namespaces/default/configmaps?watch=1&timeoutSeconds=2&resourceVersion=${markers[0].rv}`);
        const gone = watch.status === 410 || (watch.status === 200 && watch.body.split("\n").filter(Boolean).some((l) => {
            const ev = JSON.parse(l) as { type: string; object?: { code?: number } };
            return ev.type === "ERROR" && ev.object?.code === 410;
        }));
        assert.ok(gone, `a watch from revision ${markers[0].rv} got ${watch.status} ${watch.body.slice(0, 300)}`);

        // Only the live apiservers hold master leases: the stale one in the snapshot was dropped, and each live one
        // wrote its own again (every 10 s).
        await until("both apiservers' master leases", 30, async () => (masterleases().length === 2 ? true : undefined));
        assert.deepEqual(masterleases(), ["127.0.0.11", "127.0.0.12"]);

        // RBAC answers as before the disaster (the bindings came back with the data).
        assert.deepEqual(await accessAnswers(), accessBefore);

        // Every restored member still passes kube-bench's etcd checks (CIS 1.12 section 2: 6 scored).
        let benched = 0;
        for (const n of plan.nodes) {
            const report = runKubeBench(toolchain().bin, toolchain().kubeBenchCfg, n.kubeBenchConfig, { targets: "etcd", ...(system ? { nodeRoot: n.node.runDir } : {}) });
            const scored = report.filter((c) => c.scored);
            const skip: Readonly<Record<string, string>> = system ? {} : USER_LAYOUT_ROOT_ONLY;
            assert.equal(scored.length, 6, n.node.name);
            assert.deepEqual(scored.filter((c) => c.status !== "PASS" && !(c.id in skip)).map((c) => `${n.node.name} ${c.id} ${c.status}: ${c.text}`), []);
            benched++;
        }
        assert.equal(benched, 3);
    });

    it("restores the same bundle again over live data directories, keeping them aside and revisions rising", async function () {
        const rvBefore = maxRv;
        const again = await restoreBackup(plan, backup.dir);
        assert.equal(again.previous.length, 3, "each live data directory is kept aside");
        for (const p of again.previous) assert.ok(fs.existsSync(path.join(p, "member")), `${p} holds no etcd member data`);
        asides.push(...again.previous);
        for (let i = 0; i < 2; i++) assert.equal(await ready(i), true, `${plan.nodes[i].node.name} /readyz`);
        assert.equal((await request(admin, "GET", "/api/v1/namespaces/default/configmaps/after-restore")).status, 404);
        assert.equal((await request(admin, "GET", "/api/v1/namespaces/default/configmaps/marker-0")).status, 200);
        const w = await request(admin, "POST", "/api/v1/namespaces/default/configmaps", { metadata: { name: "after-second-restore" } });
        assert.equal(w.status, 201, w.body);
        assert.ok(Number(w.json().metadata.resourceVersion) > rvBefore, `${w.json().metadata.resourceVersion} <= ${rvBefore}`);
        console.log(`    second restore: ${again.seconds.toFixed(1)}s, revisions bumped by ${again.bump}`);
    });

    it("keeps its one-minute cadence through the disaster and both restores, and backs up the restored cluster", async function () {
        // A slot after the restore takes a bundle of the restored data.
        assert.ok(restoredAt > 0, "the restore ran");
        const stamps = () => listBundles(plan.backup.directory, plan.stack).map((b) => Date.parse(b.manifest.createdAt)).sort((a, b) => a - b);
        await until("a scheduled bundle after the restore", 75, async () => (stamps().some((t) => t > restoredAt) ? true : undefined));
        // Each scheduled bundle is stamped with its slot: consecutive ones are whole minutes apart (a slot whose
        // attempt failed while etcd was down leaves a gap of two or more), never drifting.
        const slots = stamps();
        assert.ok(slots.length >= 2, `${slots.length} scheduled bundles`);
        const gaps = slots.slice(1).map((t, i) => (t - slots[i]) / 1000);
        for (const g of gaps) {
            const minutes = Math.round(g / 60);
            assert.ok(minutes >= 1 && Math.abs(g - minutes * 60) < 2, `bundles ${g}s apart: ${gaps.join(", ")}`);
        }
        const status = JSON.parse(fs.readFileSync(scheduleStatusFile(plan), "utf8")) as ScheduleStatus;
        assert.ok(status.attempts >= slots.length, JSON.stringify(status));
        console.log(`    schedule: ${status.attempts} attempts, ${slots.length} bundles kept, gaps ${gaps.join("s, ")}s; last ${JSON.stringify(status.last)}`);
    });

    it("leaves nothing behind once destroyed", async function () {
        assert.ok(restored, "the restore ran");
        const scheduleLog = path.join(path.dirname(scheduleStatusFile(plan)), "etcd-backup.log");
        assert.ok(findSupervisor(scheduleLog), "the schedule runs before the destroy");
        // A restore keeps each member's previous member/ directory inside its data directory (the first restore had
        // none: the disaster deleted them), which destroy purges with it; its staged copies never outlive it. The
        // bundle key stays beside the stack for the operator to keep or remove.
        const extras = () => dataDirs().flatMap((d) => (fs.existsSync(d) ? fs.readdirSync(d).filter((e) => e !== "member").map((e) => path.join(d, e)) : []));
        assert.equal(asides.length, 3);
        assert.deepEqual(extras().sort(), [...asides].sort());
        assert.equal(fs.existsSync(defaultKeyFile(plan)), true);
        await ps.cleanup();
        await until("no process on the spec's ports", 60, async () => (processesOn(Object.values(ports)).length === 0 ? true : undefined));
        assert.equal(findSupervisor(scheduleLog), undefined, "the schedule outlived the destroy");
        assert.match(fs.readFileSync(scheduleLog, "utf8"), /etcd-backup: stopped\n/);
        fs.rmSync(path.dirname(defaultKeyFile(plan)), { recursive: true, force: true });
        for (const d of dataDirs()) assert.equal(fs.existsSync(d), false, `${d} survived destroy`);
        assert.deepEqual(extras(), []);
    });
});

describe("etcd backup and restore on the local single topology: the same path for one member (real processes)", function () {
    this.timeout(15 * 60_000);
    const single = E2E_PORTS.backupSingle;
    let ps: ProgramStack;
    let plan: LocalStackPlan;
    let admin: Credential;
    let stateDir: string | undefined;

    before(async function () {
        const e2e = e2eLocal("backup-single", single, system);
        stateDir = e2e.stateDir;
        ps = await programStack({
            name: "backup-single", blueprint: true, binaries: BINARIES,
            config: { "hardened-cluster:local": { value: JSON.stringify(e2e.local) }, "hardened-cluster:backup": { value: JSON.stringify({ retention: 2 }) } },
        });
        plan = planLocalStack({ stack: ps.stackName, local: e2e.local as never, backup: { retention: 2 }, toolchainBin: toolchain().bin, isRoot: system });
        const res = await ps.stack.up({ onOutput: (o) => process.env.HC_E2E_VERBOSE && process.stdout.write(o) });
        assert.equal(res.summary.result, "succeeded");
        admin = fromKubeconfig(res.outputs.kubeconfig.value);
    });
    after(async function () {
        await ps?.cleanup();
        if (stateDir) fs.rmSync(stateDir, { recursive: true, force: true });
    });

    it("keeps the newest 2 bundles (backup.retention), and refuses an up that would drop a key they need", async function () {
        const s = await request(admin, "POST", "/api/v1/namespaces/default/secrets", { metadata: { name: "guarded-secret" }, stringData: { v: "x" } });
        assert.equal(s.status, 201, s.body);
        const first = takeBackup(plan);
        const second = takeBackup(plan);
        const third = takeBackup(plan);
        assert.deepEqual([first.pruned, second.pruned, third.pruned], [[], [], [first.dir]]);
        assert.equal(fs.existsSync(first.dir), false);
        assert.deepEqual(fs.readdirSync(plan.backup.directory).map((e) => path.join(plan.backup.directory, e)).sort(), [second.dir, third.dir].sort());
        for (const b of [second, third]) assert.deepEqual(b.manifest.encryptionKeys, ["secretbox:key1"]);
        // The next rotation's end state without key1: refused before anything is planned, naming both bundles.
        await ps.stack.setConfig("hardened-cluster:encryption", { value: JSON.stringify({ keys: [{ name: "key2" }] }) });
        try {
            const e = await ps.stack.preview().then(() => undefined, (err: Error) => err);
            assert.ok(e, "the preview went through");
            assert.match(e.message, /hardened-cluster:encryption\.keys/);
            for (const b of [second, third]) assert.ok(e.message.includes(b.dir), `${b.dir} not named: ${e.message.slice(0, 2000)}`);
        } finally {
            await ps.stack.removeConfig("hardened-cluster:encryption");
        }
    });

    it("restores its one member after kill -9 and a deleted data directory", async function () {
        assert.equal(plan.nodes.length, 1);
        const post = async (kind: string, body: object) => {
            const r = await request(admin, "POST", `/api/v1/namespaces/default/${kind}`, body);
            assert.equal(r.status, 201, r.body);
            return Number(r.json().metadata.resourceVersion);
        };
        await post("secrets", { metadata: { name: "kept-secret" }, stringData: { v: "one" } });
        let rv = await post("configmaps", { metadata: { name: "kept" } });
        // The README's commands, as an operator runs them: npm in the project, the stack's config read by the CLI.
        // Not execFileSync: a blocked event loop would miss the killed apiserver closing this process's pooled
        // keep-alive connection, and the next request would go out on it.
        const npm = async (...args: string[]) => (await execFileAsync("npm", ["run", "--silent", ...args], { cwd: ps.workDir, env: { ...process.env, ...ps.env }, encoding: "utf8" })).stdout;
        const said = await npm("backup", "--", "-s", ps.stackName);
        const bundle = /^backup of \S+ from control-plane: (\/\S+)$/m.exec(said)?.[1];
        assert.ok(bundle && fs.existsSync(path.join(bundle, "manifest.json")), said);
        assert.equal(path.dirname(bundle), plan.backup.directory);
        rv = Math.max(rv, await post("configmaps", { metadata: { name: "lost" } }));
        const etcd = findSupervisor(plan.nodes[0].logFiles.etcd)!.children;
        assert.equal(etcd.length, 1);
        process.kill(etcd[0], "SIGKILL");
        // Its contents, not the directory: kubeadm's /var/lib/etcd may be a mount point (it is one in the sandbox).
        const dataDir = plan.nodes[0].node.layout.etcdDataDir;
        const gone = fs.readdirSync(dataDir);
        assert.ok(gone.includes("member"));
        for (const e of gone) fs.rmSync(path.join(dataDir, e), { recursive: true, force: true });
        const restoredSaid = await npm("restore", "--", "-s", ps.stackName, bundle);
        const seconds = Number(/^restored \S+ to revision \d+ \(cluster \S+\) in ([\d.]+)s$/m.exec(restoredSaid)?.[1]);
        console.log(`    single (npm run backup / restore): ${said.trim().split("\n")[1]?.trim()}; restore ${seconds}s`);
        assert.ok(seconds > 0 && seconds <= RTO_SECONDS, restoredSaid);
        assert.equal((await request(admin, "GET", "/readyz")).status, 200);
        // The system layout marks etcd's data directory itself: the marker lost with the data is written back, or
        // the stack's next plan would refuse its own directory.
        if (system) assert.equal(fs.readFileSync(path.join(dataDir, ".hardened-cluster"), "utf8"), ps.stackName);
        assert.equal((await request(admin, "GET", "/api/v1/namespaces/default/configmaps/kept")).status, 200);
        assert.equal((await request(admin, "GET", "/api/v1/namespaces/default/configmaps/lost")).status, 404);
        assert.equal((await request(admin, "GET", "/api/v1/namespaces/default/secrets/kept-secret")).status, 200);
        assert.ok(await post("configmaps", { metadata: { name: "after" } }) > rv);
        fs.rmSync(path.dirname(defaultKeyFile(plan)), { recursive: true, force: true });
        await ps.cleanup();
        await until("no process on the spec's ports", 60, async () => (processesOn(Object.values(single)).length === 0 ? true : undefined));
        assert.deepEqual(fs.existsSync(dataDir) ? fs.readdirSync(dataDir) : [], [], "destroy purges the data directory");
    });
});
