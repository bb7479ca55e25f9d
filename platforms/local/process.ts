// A supervised local process as a Pulumi resource. Create starts a supervisor (platforms/local/supervisor.js)
// detached, which starts the component and restarts it whenever it exits, as systemd's Restart=always does on
// a machine, and waits until the component's health check passes; read reports a dead supervisor (one that
// gave up on a component that kept failing) as gone, so `pulumi up --refresh` starts it again; delete stops
// it (SIGTERM, then SIGKILL after a timeout), which stops the component for good, and waits until its port is
// free. Any input change replaces the process (stop, then start), and `inputsDigest` carries the hashes of the
// files it reads, so a changed certificate or config file restarts exactly the processes that read it. Each
// supervisor's pid is recorded beside its log: a create that finds the one before it still running, started by
// a `pulumi up` killed before the engine recorded it, stops that one first.
//
// The provider is serialized into the state by Pulumi's dynamic-provider machinery, so it must not capture
// module-level state: every helper it uses is a method of the provider object, and modules are required
// inside the methods (typed through `typeof import(...)`, which leaves no reference behind). The supervisor's
// path is a property computed when this module loads, so it is serialized as a plain string.
import * as path from "node:path";
import type * as http from "node:http";
import * as pulumi from "@pulumi/pulumi";

export type HealthCheck =
    | { kind: "https"; url: string; caFile?: string; certFile?: string; keyFile?: string; insecure?: boolean }
    | { kind: "tcp"; host: string; port: number }
    // A component with no port (the backup schedule) proves it started by writing this file after its spawn.
    | { kind: "status-file"; path: string }
    // A gRPC server on a unix socket (the KMS plugin): it answers once it accepts a connection there.
    | { kind: "unix"; path: string }
    // A command that exits 0 once the process serves (a worker node's processes, probed inside its namespaces).
    | { kind: "command"; argv: string[] };

/** When the supervisor restarts an exited process and when it gives up (defaults in brackets). */
export interface RestartPolicy {
    /** Wait before the first restart [1]; it doubles with each quick exit in a row. */
    initialDelaySeconds?: number;
    /** Longest wait between restarts [30]. */
    maxDelaySeconds?: number;
    /** A run at least this long is not a quick exit, and resets the wait [60]. */
    resetAfterSeconds?: number;
    /** Quick exits in a row after which the supervisor gives up and exits [6]. */
    maxQuickFailures?: number;
}

export interface ProcessSpec {
    /** Shown in errors and used for the log file name. */
    name: string;
    /** Absolute path of the executable. */
    command: string;
    /** The command line, unless `argsFile` is given; with it, a change trigger only (any change replaces). */
    args?: string[];
    /**
     * A file holding the command line, one argument per line, read at every (re)start: the process runs with
     * exactly what the file says. It must be a regular file owned by the running user (or root) that no group
     * or other can write. Put its hash in `inputsDigest` (or pass the same `args`) so a change restarts.
     */
    argsFile?: string;
    env?: Record<string, string>;
    /** Run as this existing system user (the platform only asks for it when running as root). */
    user?: string;
    /** Directories to create before starting (e.g. the etcd data directory, 0700). */
    dirs?: { path: string; mode: number; owner?: string }[];
    logFile: string;
    health: HealthCheck;
    /** Changes whenever a file the process reads changes, which restarts it. */
    inputsDigest?: string;
    /**
     * Changes whenever a file changes that the process reads again on SIGUSR2 by forking a new worker (haproxy
     * in master-worker mode): the change sends the signal instead of restarting, and waits for the new worker.
     */
    reloadDigest?: string;
    /**
     * A lock file shared by processes that must not restart together (etcd members: two down at once lose the
     * quorum). With it, a change of inputsDigest alone restarts the component in place instead of replacing
     * the process: one holder of the lock at a time, each healthy again before it lets go.
     */
    restartLock?: string;
    startTimeoutSeconds?: number;
    /**
     * Seconds to wait after the health check first passes before the start counts as done: what a balancer
     * checking the same endpoint needs to put the process back in rotation, before the next one is stopped.
     */
    settleSeconds?: number;
    /** A start whose health check never passes is retried from scratch this many times in all. */
    startAttempts?: number;
    stopTimeoutSeconds?: number;
    restart?: RestartPolicy;
}

export type ProcessInputs = { [K in keyof ProcessSpec]: pulumi.Input<ProcessSpec[K]> };

export interface ProcessState extends ProcessSpec {
    /** The supervisor's pid (it leads the process group that holds the component). */
    pid: number;
    /** Kernel start time of the pid (clock ticks since boot): tells our process from a reused pid. */
    startTicks: string;
    /** Set by a provider that supervises; a state without it (an unsupervised process) is replaced. */
    supervised?: boolean;
}

/** What the supervisor reads on its stdin. */
export interface SupervisorSpec {
    name: string;
    command: string;
    args?: string[];
    argsFile?: string;
    env: Record<string, string>;
    uid?: number;
    gid?: number;
    stopTimeoutSeconds: number;
    restart?: RestartPolicy;
}

export interface ProcessProvider extends pulumi.dynamic.ResourceProvider<ProcessSpec, ProcessState> {
    create(spec: ProcessSpec): Promise<pulumi.dynamic.CreateResult<ProcessState>>;
    read(id: string, state?: ProcessState): Promise<pulumi.dynamic.ReadResult<ProcessState>>;
    diff(id: string, olds: ProcessState, news: ProcessSpec): Promise<pulumi.dynamic.DiffResult>;
    update(id: string, olds: ProcessState, news: ProcessSpec): Promise<pulumi.dynamic.UpdateResult<ProcessState>>;
    restartInPlace(olds: ProcessState, news: ProcessSpec): Promise<void>;
    reload(olds: ProcessState, news: ProcessSpec): Promise<void>;
    /** Takes `file` as a lock (O_EXCL); returns its release. */
    lock(file: string, timeoutMs: number): Promise<() => void>;
    delete(id: string, state: ProcessState): Promise<void>;
    /** Stops the supervisor last started for this spec (its record beside the log) if it is still running. */
    stopUnrecorded(spec: ProcessSpec): Promise<void>;
    /** Writes "<pid> <start ticks>" to a new file beside `target` (O_EXCL|O_NOFOLLOW, 0600); returns its path. */
    writePidAside(target: string, pid: number): string;
    /** The pid and start ticks a file written by writePidAside holds; undefined when it is missing or malformed. */
    readPid(file: string): { pid: number; startTicks: string } | undefined;
    /** Absolute path of supervisor.js. */
    supervisorScript: string;
    spawn(spec: ProcessSpec): number;
    userIds(user: string): { uid: number; gid: number };
    startTicks(pid: number): string;
    alive(pid: number, startTicks: string): boolean;
    groupMembers(pgid: number, leaderTicks: string): number[];
    waitGroupGone(pgid: number, leaderTicks: string): Promise<void>;
    waitHealthy(spec: ProcessSpec, pid: number, since?: number): Promise<string>;
    /** `since`: when the process was spawned (a status file older than that is a previous run's). */
    probe(h: HealthCheck, since?: number): Promise<string>;
    stop(pid: number, timeoutSeconds: number): Promise<void>;
    waitPortFree(host: string, port: number): Promise<void>;
    logTail(file: string): string;
}

type Fs = typeof import("node:fs");

const processProvider: ProcessProvider = {
    supervisorScript: path.join(__dirname, "supervisor.js"),

    async create(spec: ProcessSpec) {
        const self = processProvider;
        if (spec.args === undefined && spec.argsFile === undefined) throw new Error(`${spec.name}: give args or argsFile`);
        // A supervisor this resource started in a run the engine never recorded (a `pulumi up` killed while the
        // create was in flight) still holds the component's port and files: it goes before a new one starts.
        await self.stopUnrecorded(spec);
        const attempts = spec.startAttempts ?? 1;
        let lastError = "";
        for (let attempt = 1; attempt <= attempts; attempt++) {
            // The kernel stamps files from a clock a tick behind Date.now().
            const since = Date.now() - 50;
            const pid = self.spawn(spec);
            let outcome: string;
            try {
                outcome = await self.waitHealthy(spec, pid, since);
            } catch (e) {
                outcome = `health check failed: ${(e as Error).message}`;
            }
            if (outcome === "healthy") {
                if (spec.settleSeconds) await new Promise((r) => setTimeout(r, spec.settleSeconds! * 1000));
                const state: ProcessState = { ...spec, pid, startTicks: self.startTicks(pid), supervised: true };
                return { id: `${spec.name}:${pid}`, outs: state };
            }
            lastError = outcome;
            // A start that failed leaves nothing behind: the process and anything it started are gone before
            // the next attempt, or before the error reaches the engine (which would forget the pid).
            await self.stop(pid, 5);
        }
        throw new Error(`${spec.name} did not become healthy after ${attempts} attempt(s): ${lastError}\n--- ${spec.logFile} (tail) ---\n${self.logTail(spec.logFile)}`);
    },

    async read(id: string, state?: ProcessState) {
        if (!state) return { id: "" };
        return processProvider.alive(state.pid, state.startTicks) ? { id, props: state } : { id: "" };
    },

    async diff(_id: string, olds: ProcessState, news: ProcessSpec) {
        const stateOnly = new Set(["pid", "startTicks", "supervised"]);
        const o: Record<string, unknown> = { ...olds };
        const n: Record<string, unknown> = { ...news };
        // Which lock a process takes changes nothing about the running one (a stack from before restartLock
        // existed keeps its etcd running); nor does reloadDigest, which update turns into a signal.
        const inPlace = new Set(["reloadDigest", "restartLock", ...(olds.restartLock !== undefined && olds.restartLock === news.restartLock ? ["inputsDigest"] : [])]);
        const keys = Object.keys({ ...n, ...o }).filter((k) => !stateOnly.has(k) && !inPlace.has(k));
        const replaces = keys.filter((k) => JSON.stringify(o[k]) !== JSON.stringify(n[k]));
        if (olds.supervised !== true) replaces.push("supervised");
        const changes = replaces.length > 0 || [...inPlace].some((k) => JSON.stringify(o[k]) !== JSON.stringify(n[k]));
        return { changes, replaces, deleteBeforeReplace: true };
    },

    /** Only what diff lets change in place changed: a restart under the lock, or a reload. */
    async update(_id: string, olds: ProcessState, news: ProcessSpec) {
        const self = processProvider;
        if (olds.inputsDigest !== news.inputsDigest) await self.restartInPlace(olds, news);
        else if (olds.reloadDigest !== news.reloadDigest) await self.reload(olds, news);
        return { outs: { ...news, pid: olds.pid, startTicks: olds.startTicks, supervised: true } };
    },

    async restartInPlace(olds: ProcessState, news: ProcessSpec): Promise<void> {
        const self = processProvider;
        const timeoutMs = (news.startTimeoutSeconds ?? 60) * 1000;
        const release = await self.lock(news.restartLock!, 4 * timeoutMs);
        try {
            const component = self.groupMembers(olds.pid, olds.startTicks).filter((p) => p !== olds.pid);
            const since = Date.now() - 50;
            process.kill(olds.pid, "SIGUSR1");
            // The health check must not pass on the old instance. Gone means reaped, not only a zombie: a
            // multi-threaded process's leader turns zombie while its other threads, and its listening sockets,
            // live on; the supervisor reaps it once the last of them has exited.
            const fs: Fs = require("node:fs");
            const deadline = Date.now() + ((news.stopTimeoutSeconds ?? 30) + 5) * 1000;
            while (component.some((p) => fs.existsSync(`/proc/${p}`))) {
                if (Date.now() > deadline) throw new Error(`${news.name} did not stop for its restart in place`);
                await new Promise((r) => setTimeout(r, 100));
            }
            const outcome = await self.waitHealthy(news, olds.pid, since);
            if (outcome !== "healthy") throw new Error(`${news.name} did not become healthy after its restart in place: ${outcome}\n--- ${news.logFile} (tail) ---\n${self.logTail(news.logFile)}`);
            if (news.settleSeconds) await new Promise((r) => setTimeout(r, news.settleSeconds! * 1000));
        } finally {
            release();
        }
    },

    async lock(file: string, timeoutMs: number): Promise<() => void> {
        const self = processProvider;
        const fs: Fs = require("node:fs");
        const deadline = Date.now() + timeoutMs;
        // The holder's pid goes in before the lock appears (written aside, then linked: link fails if the name
        // exists), so a waiter never reads an empty lock and takes it for a dead holder's.
        const mine = self.writePidAside(file, process.pid);
        for (;;) {
            try {
                fs.linkSync(mine, file);
                fs.unlinkSync(mine);
                return () => { try { fs.unlinkSync(file); } catch { /* already gone */ } };
            } catch (e) {
                if ((e as NodeJS.ErrnoException).code !== "EEXIST") {
                    fs.rmSync(mine, { force: true });
                    throw e;
                }
            }
            // A holder killed mid-restart (a SIGKILLed pulumi up) leaves its file: taken over once it is gone.
            try {
                const holder = self.readPid(file);
                if (!holder || !self.alive(holder.pid, holder.startTicks)) {
                    fs.unlinkSync(file);
                    continue;
                }
            } catch { continue; }
            if (Date.now() > deadline) {
                fs.rmSync(mine, { force: true });
                throw new Error(`waited ${timeoutMs / 1000} s for the restart lock ${file}`);
            }
            await new Promise((r) => setTimeout(r, 200));
        }
    },

    async reload(olds: ProcessState, news: ProcessSpec): Promise<void> {
        const self = processProvider;
        const before = new Set(self.groupMembers(olds.pid, olds.startTicks));
        process.kill(olds.pid, "SIGUSR2");
        const deadline = Date.now() + (news.startTimeoutSeconds ?? 60) * 1000;
        for (;;) {
            const forked = self.groupMembers(olds.pid, olds.startTicks).some((p) => !before.has(p));
            if (forked && (await self.probe(news.health)) === "ok") break;
            if (Date.now() > deadline) {
                throw new Error(`${news.name} did not fork a healthy worker after SIGUSR2\n--- ${news.logFile} (tail) ---\n${self.logTail(news.logFile)}`);
            }
            await new Promise((r) => setTimeout(r, 100));
        }
    },

    async delete(_id: string, state: ProcessState) {
        const self = processProvider;
        if (self.alive(state.pid, state.startTicks)) await self.stop(state.pid, (state.stopTimeoutSeconds ?? 30) + 5);
        else {
            // A supervisor that died without its SIGTERM path (SIGKILLed) may have left its group's members.
            for (const member of self.groupMembers(state.pid, state.startTicks)) {
                try { process.kill(member, "SIGKILL"); } catch { /* gone */ }
            }
            await self.waitGroupGone(state.pid, state.startTicks);
        }
        if (state.health.kind === "tcp") await self.waitPortFree(state.health.host, state.health.port);
        else if (state.health.kind === "https") {
            const u = new URL(state.health.url);
            await self.waitPortFree(u.hostname, Number(u.port || 443));
        }
    },

    // ---- helpers (methods, so they are serialized with the provider) ----

    async stopUnrecorded(spec: ProcessSpec): Promise<void> {
        const self = processProvider;
        const last = self.readPid(`${spec.logFile}.supervisor`);
        if (!last || (!self.alive(last.pid, last.startTicks) && self.groupMembers(last.pid, last.startTicks).length === 0)) return;
        await self.delete("", { ...spec, ...last, supervised: true });
    },

    writePidAside(target: string, pid: number): string {
        const fs: Fs = require("node:fs");
        const aside = `${target}.${process.pid}.${Math.random().toString(36).slice(2)}`;
        const fd = fs.openSync(aside, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW, 0o600);
        try {
            fs.writeSync(fd, `${pid} ${processProvider.startTicks(pid)}`);
        } finally {
            fs.closeSync(fd);
        }
        return aside;
    },

    readPid(file: string): { pid: number; startTicks: string } | undefined {
        const fs: Fs = require("node:fs");
        let fields: string[];
        try { fields = fs.readFileSync(file, "utf8").split(" "); } catch { return undefined; }
        const [pid, startTicks] = [Number(fields[0]), fields[1] ?? ""];
        return Number.isInteger(pid) && pid > 1 && startTicks !== "" ? { pid, startTicks } : undefined;
    },

    /** Starts the supervisor, which starts the component; returns the supervisor's pid. */
    spawn(spec: ProcessSpec): number {
        const fs: Fs = require("node:fs");
        const path: typeof import("node:path") = require("node:path");
        const cp: typeof import("node:child_process") = require("node:child_process");
        // Directories made on the way stay traversable (0711): a component running as its own user (etcd) may
        // need to reach its directory below them; only the last one gets the restrictive mode.
        const mkdir = (dir: string, mode: number) => {
            fs.mkdirSync(path.dirname(dir), { recursive: true, mode: 0o711 });
            if (!fs.existsSync(dir)) fs.mkdirSync(dir, { mode });
        };
        mkdir(path.dirname(spec.logFile), 0o700);
        const me = typeof process.geteuid === "function" ? process.geteuid() : 0;
        for (const d of spec.dirs ?? []) {
            mkdir(d.path, d.mode);
            // Only a directory that is ours or already its intended owner's is taken over: never one someone
            // else made (or a symlink they planted) in its place.
            const want = d.owner && me === 0 ? processProvider.userIds(d.owner.split(":")[0]) : undefined;
            const st = fs.lstatSync(d.path);
            if (!st.isDirectory() || (st.uid !== me && st.uid !== want?.uid)) {
                throw new Error(`${spec.name}: ${d.path} is not a directory owned by uid ${me}${want ? ` or ${want.uid}` : ""}; refusing to use it`);
            }
            fs.chmodSync(d.path, d.mode);
            if (want) fs.lchownSync(d.path, want.uid, want.gid);
        }
        const supervised: SupervisorSpec = {
            name: spec.name,
            command: spec.command,
            ...(spec.argsFile !== undefined ? { argsFile: spec.argsFile } : { args: spec.args ?? [] }),
            env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/", ...(spec.env ?? {}) },
            ...(spec.user ? processProvider.userIds(spec.user) : {}),
            stopTimeoutSeconds: spec.stopTimeoutSeconds ?? 30,
            ...(spec.restart ? { restart: spec.restart } : {}),
        };
        const fd = fs.openSync(spec.logFile, "a", 0o600);
        // Detached: the supervisor leads a process group of its own, which holds the component too.
        const child = cp.spawn(process.execPath, [processProvider.supervisorScript], {
            detached: true,
            stdio: ["pipe", fd, fd],
            env: { PATH: process.env.PATH ?? "/usr/bin:/bin" },
        });
        fs.closeSync(fd);
        // The spec goes through a pipe, never the command line, where every local user could read it.
        child.stdin?.on("error", () => { /* the supervisor died first: the health wait reports it */ });
        child.stdin?.end(JSON.stringify(supervised));
        child.unref();
        if (!child.pid) throw new Error(`${spec.name}: could not start the supervisor for ${spec.command}`);
        // Recorded beside the log before anything waits, so a create the engine never hears of can be undone.
        const record = `${spec.logFile}.supervisor`;
        fs.renameSync(processProvider.writePidAside(record, child.pid), record);
        return child.pid;
    },

    userIds(user: string): { uid: number; gid: number } {
        const cp: typeof import("node:child_process") = require("node:child_process");
        const uid = Number(cp.execFileSync("id", ["-u", user], { encoding: "utf8" }).trim());
        const gid = Number(cp.execFileSync("id", ["-g", user], { encoding: "utf8" }).trim());
        return { uid, gid };
    },

    startTicks(pid: number): string {
        const fs: Fs = require("node:fs");
        try {
            const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
            // Field 22; fields after the parenthesised command name, which may itself hold spaces.
            return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19] ?? "";
        } catch {
            return "";
        }
    },

    alive(pid: number, startTicks: string): boolean {
        const fs: Fs = require("node:fs");
        const ticks = processProvider.startTicks(pid);
        if (ticks === "" || ticks !== startTicks) return false;
        try {
            // A zombie has exited; it only waits to be reaped by its parent.
            return !/\) Z /.test(fs.readFileSync(`/proc/${pid}/stat`, "utf8"));
        } catch {
            return false;
        }
    },

    /**
     * Live members of the process group our dead leader (pid `pgid`, started at `leaderTicks`) left behind.
     * None when another process now has that pid: the group id is then someone else's.
     */
    groupMembers(pgid: number, leaderTicks: string): number[] {
        const fs: Fs = require("node:fs");
        const leader = processProvider.startTicks(pgid);
        if (leader !== "" && leader !== leaderTicks) return [];
        const members: number[] = [];
        for (const entry of fs.readdirSync("/proc")) {
            if (!/^\d+$/.test(entry)) continue;
            try {
                const fields = fs.readFileSync(`/proc/${entry}/stat`, "utf8");
                const rest = fields.slice(fields.lastIndexOf(")") + 2).split(" ");
                // state, ppid, pgrp, ..., starttime: a member started no earlier than the leader.
                if (rest[0] !== "Z" && Number(rest[2]) === pgid && BigInt(rest[19]) >= BigInt(leaderTicks || "0")) members.push(Number(entry));
            } catch { /* exited meanwhile */ }
        }
        return members;
    },

    async waitHealthy(spec: ProcessSpec, pid: number, since = Date.now()): Promise<string> {
        const self = processProvider;
        const ticks = self.startTicks(pid);
        const deadline = Date.now() + (spec.startTimeoutSeconds ?? 60) * 1000;
        let last = "not checked yet";
        while (Date.now() < deadline) {
            if (!self.alive(pid, ticks)) return `process exited (last health check: ${last})`;
            last = await self.probe(spec.health, since);
            if (last === "ok") return "healthy";
            await new Promise((r) => setTimeout(r, 200));
        }
        return `timed out after ${spec.startTimeoutSeconds ?? 60}s (last health check: ${last})`;
    },

    probe(h: HealthCheck, since = 0): Promise<string> {
        const fs: Fs = require("node:fs");
        if (h.kind === "status-file") {
            try {
                return Promise.resolve(fs.statSync(h.path).mtimeMs >= since ? "ok" : `${h.path} not written since the start`);
            } catch {
                return Promise.resolve(`${h.path} not written yet`);
            }
        }
        const net: typeof import("node:net") = require("node:net");
        const https: typeof import("node:https") = require("node:https");
        if (h.kind === "command") {
            const cp: typeof import("node:child_process") = require("node:child_process");
            return new Promise((resolve) => {
                cp.execFile(h.argv[0], h.argv.slice(1), { timeout: 3000 }, (err, stdout, stderr) =>
                    resolve(err ? `${String(stdout).trim() || String(stderr).trim() || err.message}`.slice(0, 300) : "ok"));
            });
        }
        return new Promise((resolve) => {
            if (h.kind === "tcp" || h.kind === "unix") {
                const s = h.kind === "tcp" ? net.connect({ host: h.host, port: h.port }) : net.connect({ path: h.path });
                s.setTimeout(1000);
                s.once("connect", () => { s.destroy(); resolve("ok"); });
                s.once("timeout", () => { s.destroy(); resolve(`${h.kind} timeout`); });
                s.once("error", (e: Error) => resolve(e.message));
                return;
            }
            const read = (f?: string) => (f ? fs.readFileSync(f) : undefined);
            const req = https.get(h.url, {
                ca: read(h.caFile), cert: read(h.certFile), key: read(h.keyFile),
                rejectUnauthorized: !h.insecure, timeout: 2000,
            }, (res: http.IncomingMessage) => {
                let body = "";
                res.on("data", (d: Buffer) => (body += d));
                res.on("end", () => resolve(res.statusCode === 200 ? "ok" : `HTTP ${res.statusCode}: ${body.slice(0, 200)}`));
            });
            req.on("timeout", () => req.destroy(new Error("https timeout")));
            req.on("error", (e: Error) => resolve(e.message));
        });
    },

    async stop(pid: number, timeoutSeconds: number): Promise<void> {
        const self = processProvider;
        const ticks = self.startTicks(pid);
        // SIGTERM goes to the supervisor alone, which passes exactly one on to its component: kube-apiserver
        // takes a second SIGTERM as "exit now" (code 1), skipping --shutdown-delay-duration and its drain, so a
        // group-wide SIGTERM (supervisor forwarding + the group's own) made every apiserver stop abruptly.
        try { process.kill(pid, "SIGTERM"); } catch { /* already gone */ }
        const deadline = Date.now() + timeoutSeconds * 1000;
        while (self.alive(pid, ticks) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
        if (self.alive(pid, ticks)) {
            // kube-apiserver can ignore SIGTERM for minutes once etcd is gone. The supervisor leads its own
            // process group (it was spawned detached), which holds the component and whatever that started.
            for (const target of [-pid, pid]) {
                try { process.kill(target, "SIGKILL"); } catch { /* already gone */ }
            }
            while (self.alive(pid, ticks)) await new Promise((r) => setTimeout(r, 50));
        }
        // Children that ignored SIGTERM outlive their leader; a group with members keeps its id, so this
        // reaches only them.
        try { process.kill(-pid, "SIGKILL"); } catch { /* the group is empty */ }
        await self.waitGroupGone(pid, ticks);
    },

    /** A SIGKILL is delivered, not yet acted on, when kill returns: wait (5 s at most) until no member lives. */
    async waitGroupGone(pgid: number, leaderTicks: string): Promise<void> {
        const deadline = Date.now() + 5000;
        while (processProvider.groupMembers(pgid, leaderTicks).length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    },

    async waitPortFree(host: string, port: number): Promise<void> {
        const deadline = Date.now() + 30_000;
        while (Date.now() < deadline) {
            if ((await processProvider.probe({ kind: "tcp", host, port })) !== "ok") return;
            await new Promise((r) => setTimeout(r, 100));
        }
        throw new Error(`port ${host}:${port} still accepts connections 30s after its process stopped`);
    },

    logTail(file: string): string {
        const fs: Fs = require("node:fs");
        try {
            return fs.readFileSync(file, "utf8").split("\n").slice(-25).join("\n");
        } catch {
            return "(no log)";
        }
    },
};

export class LocalProcess extends pulumi.dynamic.Resource {
    declare readonly pid: pulumi.Output<number>;
    declare readonly name: pulumi.Output<string>;

    constructor(name: string, args: ProcessInputs, opts?: pulumi.CustomResourceOptions) {
        super(processProvider, name, { ...args, pid: undefined, startTicks: undefined }, opts, "hardened-cluster", "LocalProcess");
    }
}

// Exported after its declaration: methods then reference the local binding, which survives serialization
// (an `export const` would be reached through `exports`, which the serialized provider does not have).
export { processProvider };
