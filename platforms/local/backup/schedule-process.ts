// hardened-cluster:backup.intervalMinutes on the local platform: a supervised `etcd-backup` process (schedule.ts)
// started from a job file of plain paths (target.ts), as the user that runs `pulumi up`, like `npm run backup`.
// Its health check is the status file it writes once it has checked the bundle key: it listens on no port.
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { LocalFileSet } from "../file-set";
import { fileSpec } from "../node";
import type { LocalStackPlan } from "../plan";
import { LocalProcess } from "../process";
import { ScheduleJob } from "./schedule";
import { backupTarget, scheduleStatusFile } from "./target";

/** The job the schedule runs, or none when the stack backs up on demand only. */
export function scheduleJob(plan: LocalStackPlan): ScheduleJob | undefined {
    const minutes = plan.backup.intervalMinutes;
    return minutes ? { target: backupTarget(plan), intervalMinutes: minutes, statusFile: scheduleStatusFile(plan) } : undefined;
}

/** node's command line for schedule.ts: compiled, it runs as is; from source, through ts-node's transpiler. */
export function scheduleArgv(jobFile: string, entry = path.join(__dirname, `schedule${path.extname(__filename)}`)): string[] {
    return entry.endsWith(".ts") ? ["-r", require.resolve("ts-node/register/transpile-only"), entry, jobFile] : [entry, jobFile];
}

/** Started once `after` (the serving apiservers, hence etcd) is up; stopped before it on destroy. */
export function deliverBackupSchedule(name: string, plan: LocalStackPlan, root: string | undefined, after: pulumi.Resource[], opts: pulumi.CustomResourceOptions): LocalProcess | undefined {
    const job = scheduleJob(plan);
    if (!job) return undefined;
    const dir = path.dirname(job.statusFile);
    const jobFile = path.join(dir, "schedule-job.json");
    const set = new LocalFileSet(`${name}-backup-schedule-job`, { files: [fileSpec(jobFile, JSON.stringify(job, null, 2) + "\n", 0o600, root)] }, opts);
    const args = scheduleArgv(jobFile);
    return new LocalProcess(`${name}-backup-schedule`, {
        name: "etcd-backup",
        command: process.execPath,
        args,
        env: { TS_NODE_PROJECT: path.resolve(__dirname, "../../../tsconfig.json") },
        logFile: path.join(dir, "etcd-backup.log"),
        health: { kind: "status-file", path: job.statusFile },
        inputsDigest: set.sha256,
        startTimeoutSeconds: 60,
        // A backup under way finishes before it stops (5,000 Secrets: under a second; big clusters: more).
        stopTimeoutSeconds: 120,
    }, { ...opts, dependsOn: [set, ...after] });
}
