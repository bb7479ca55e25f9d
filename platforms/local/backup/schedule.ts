// The backup schedule of a local stack: the supervised `etcd-backup` process runs this file with the job
// file the platform wrote (schedule-process.ts). It takes a backup every interval, on a fixed cadence from its
// start (a slow backup skips the slots it overran instead of drifting), and keeps going when one fails: etcd
// may be down for minutes during a restore. After each attempt it rewrites the status file, which says when the
// last backup landed and whether none has for two intervals: what the AWS alarm watches there.
import * as fs from "node:fs";
import * as path from "node:path";
import { loadKey, takeBackup } from "./backup";
import type { BackupTarget } from "./target";

export interface ScheduleJob {
    target: BackupTarget;
    intervalMinutes: number;
    statusFile: string;
}

export interface ScheduleStatus {
    stack: string;
    intervalMinutes: number;
    startedAt: string;
    nextAt: string;
    attempts: number;
    last?: { at: string; ok: boolean; bundle?: string; seconds?: number; error?: string };
    lastSuccess?: { at: string; bundle: string };
    /** No backup landed for two intervals (counted from the start until the first one does). */
    overdue: boolean;
}

/** The slot after `now` on the cadence that began at `start`. */
export function nextSlot(start: number, intervalMs: number, now: number): number {
    return start + (Math.floor((now - start) / intervalMs) + 1) * intervalMs;
}

export function isOverdue(start: number, intervalMs: number, now: number, lastSuccess?: number): boolean {
    return now - (lastSuccess ?? start) > 2 * intervalMs;
}

function writeStatus(file: string, status: ScheduleStatus): void {
    // Replaced whole, never half-written: a reader sees the old status or the new one.
    const tmp = `${file}.${process.pid}.tmp`;
    fs.rmSync(tmp, { force: true });
    fs.writeFileSync(tmp, JSON.stringify(status, null, 2) + "\n", { mode: 0o600, flag: "wx" });
    fs.renameSync(tmp, file);
}

const log = (line: string) => process.stdout.write(`${new Date().toISOString()} etcd-backup: ${line}\n`);

function readJob(file: string): ScheduleJob {
    const job = JSON.parse(fs.readFileSync(file, "utf8")) as ScheduleJob;
    if (!Number.isInteger(job.intervalMinutes) || job.intervalMinutes < 1) throw new Error(`${file}: intervalMinutes must be a whole number of minutes`);
    if (!job.target?.directory || !job.statusFile) throw new Error(`${file}: no target directory or status file`);
    return job;
}

export async function runSchedule(jobFile: string): Promise<void> {
    const job = readJob(jobFile);
    const intervalMs = job.intervalMinutes * 60_000;
    // Fails the start (and so the `up`) when the key is unusable, not the first backup an interval later.
    loadKey(job.target.keyFile, true);
    const start = Date.now();
    const status: ScheduleStatus = {
        stack: job.target.stack, intervalMinutes: job.intervalMinutes, startedAt: new Date(start).toISOString(),
        nextAt: new Date(nextSlot(start, intervalMs, start)).toISOString(), attempts: 0, overdue: false,
    };
    writeStatus(job.statusFile, status);
    log(`every ${job.intervalMinutes} min into ${job.target.directory} (keeping ${job.target.retention}); first at ${status.nextAt}`);
    let stopping = false;
    let wake: (() => void) | undefined;
    // A backup under way finishes first (a killed one would leave its unsealed snapshot part behind).
    for (const sig of ["SIGTERM", "SIGINT"] as const) process.on(sig, () => { stopping = true; wake?.(); });
    while (!stopping) {
        const next = nextSlot(start, intervalMs, Date.now());
        await new Promise<void>((r) => { wake = r; setTimeout(r, next - Date.now()); });
        if (stopping) break;
        status.attempts++;
        const at = new Date();
        try {
            const r = takeBackup(job.target, { now: at });
            status.last = { at: at.toISOString(), ok: true, bundle: path.basename(r.dir), seconds: r.seconds };
            status.lastSuccess = { at: at.toISOString(), bundle: path.basename(r.dir) };
            log(`took ${path.basename(r.dir)} from ${r.member}: revision ${r.status.revision}, ${r.bytes} bytes in ${r.seconds.toFixed(1)}s` +
                (r.pruned.length ? `; pruned ${r.pruned.length}` : ""));
        } catch (e) {
            const error = (e as Error).message.split("\n")[0].slice(0, 500);
            status.last = { at: at.toISOString(), ok: false, error };
            log(`backup failed: ${error}`);
        }
        const now = Date.now();
        status.overdue = isOverdue(start, intervalMs, now, status.lastSuccess ? Date.parse(status.lastSuccess.at) : undefined);
        if (status.overdue) log(`OVERDUE: no backup has landed for more than ${2 * job.intervalMinutes} min`);
        status.nextAt = new Date(nextSlot(start, intervalMs, now)).toISOString();
        writeStatus(job.statusFile, status);
    }
    log("stopped");
}

if (require.main === module) {
    runSchedule(process.argv[2] ?? "").then(() => process.exit(0), (e: Error) => {
        log(`cannot run: ${e.message}`);
        process.exit(1);
    });
}
