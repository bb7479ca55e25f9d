// A supervised local process as a Pulumi resource. Create starts it detached and waits until its health
// check passes; read reports a dead process as gone, so `pulumi up --refresh` starts it again; delete stops
// it (SIGTERM, then SIGKILL after a timeout) and waits until its port is free. Any input change replaces
// the process (stop, then start), and `inputsDigest` carries the hashes of the files it reads, so a changed
// certificate or config file restarts exactly the processes that read it.
//
// The provider is serialized into the state by Pulumi's dynamic-provider machinery, so it must not capture
// module-level state: every helper it uses is a method of the provider object, and modules are required
// inside the methods.
import * as pulumi from "@pulumi/pulumi";

export type HealthCheck =
    | { kind: "https"; url: string; caFile?: string; certFile?: string; keyFile?: string; insecure?: boolean }
    | { kind: "tcp"; host: string; port: number };

export interface ProcessSpec {
    /** Shown in errors and used for the log file name. */
    name: string;
    /** Absolute path of the executable. */
    command: string;
    args: string[];
    env?: Record<string, string>;
    /** Run as this existing system user (the platform only asks for it when running as root). */
    user?: string;
    /** Directories to create before starting (e.g. the etcd data directory, 0700). */
    dirs?: { path: string; mode: number; owner?: string }[];
    logFile: string;
    health: HealthCheck;
    /** Changes whenever a file the process reads changes, which restarts it. */
    inputsDigest?: string;
    startTimeoutSeconds?: number;
    /** Processes that exit when started too early (kube-controller-manager) get more than one attempt. */
    startAttempts?: number;
    stopTimeoutSeconds?: number;
}

export type ProcessInputs = { [K in keyof ProcessSpec]: pulumi.Input<ProcessSpec[K]> };

export interface ProcessState extends ProcessSpec {
    pid: number;
    /** Kernel start time of the pid (clock ticks since boot): tells our process from a reused pid. */
    startTicks: string;
}

const processProvider: pulumi.dynamic.ResourceProvider = {
    async create(spec: ProcessSpec) {
        const self = processProvider as any;
        const attempts = spec.startAttempts ?? 1;
        let lastError = "";
        for (let attempt = 1; attempt <= attempts; attempt++) {
            const pid: number = self.spawn(spec);
            let outcome: string;
            try {
                outcome = await self.waitHealthy(spec, pid);
            } catch (e) {
                outcome = `health check failed: ${(e as Error).message}`;
            }
            if (outcome === "healthy") {
                const state: ProcessState = { ...spec, pid, startTicks: self.startTicks(pid) };
                return { id: `${spec.name}:${pid}`, outs: state };
            }
            lastError = outcome;
            // A start that failed leaves nothing behind: the process and anything it started are gone before
            // the next attempt, or before the error reaches the engine (which would forget the pid).
            await self.stop(pid, 5);
        }
        throw new Error(`${spec.name} did not become healthy after ${attempts} attempt(s): ${lastError}\n--- ${spec.logFile} (tail) ---\n${self.logTail(spec.logFile)}`);
    },

    async read(id: string, state: ProcessState) {
        const self = processProvider as any;
        return self.alive(state.pid, state.startTicks) ? { id, props: state } : { id: "" };
    },

    async diff(_id: string, olds: ProcessState, news: ProcessSpec) {
        const keys = Object.keys({ ...news, ...olds }).filter((k) => k !== "pid" && k !== "startTicks");
        const replaces = keys.filter((k) => JSON.stringify((olds as any)[k]) !== JSON.stringify((news as any)[k]));
        return { changes: replaces.length > 0, replaces, deleteBeforeReplace: true };
    },

    async delete(_id: string, state: ProcessState) {
        const self = processProvider as any;
        if (self.alive(state.pid, state.startTicks)) await self.stop(state.pid, state.stopTimeoutSeconds ?? 30);
        if (state.health.kind === "tcp") await self.waitPortFree(state.health.host, state.health.port);
        else {
            const u = new URL(state.health.url);
            await self.waitPortFree(u.hostname, Number(u.port || 443));
        }
    },

    // ---- helpers (methods, so they are serialized with the provider) ----

    spawn(spec: ProcessSpec): number {
        const fs = require("node:fs");
        const path = require("node:path");
        const cp = require("node:child_process");
        fs.mkdirSync(path.dirname(spec.logFile), { recursive: true, mode: 0o700 });
        const me = typeof process.geteuid === "function" ? process.geteuid() : 0;
        for (const d of spec.dirs ?? []) {
            fs.mkdirSync(d.path, { recursive: true, mode: d.mode });
            // Only a directory that is ours or already its intended owner's is taken over: never one someone
            // else made (or a symlink they planted) in its place.
            const want = d.owner && me === 0 ? (processProvider as any).userIds(d.owner.split(":")[0]) : undefined;
            const st = fs.lstatSync(d.path);
            if (!st.isDirectory() || (st.uid !== me && st.uid !== want?.uid)) {
                throw new Error(`${spec.name}: ${d.path} is not a directory owned by uid ${me}${want ? ` or ${want.uid}` : ""}; refusing to use it`);
            }
            fs.chmodSync(d.path, d.mode);
            if (want) fs.lchownSync(d.path, want.uid, want.gid);
        }
        const fd = fs.openSync(spec.logFile, "a", 0o600);
        const ids = spec.user ? (processProvider as any).userIds(spec.user) : {};
        const child = cp.spawn(spec.command, spec.args, {
            detached: true,
            stdio: ["ignore", fd, fd],
            env: { PATH: process.env.PATH, HOME: process.env.HOME, ...(spec.env ?? {}) },
            ...ids,
        });
        fs.closeSync(fd);
        child.unref();
        if (!child.pid) throw new Error(`${spec.name}: could not start ${spec.command}`);
        return child.pid;
    },

    userIds(user: string): { uid: number; gid: number } {
        const cp = require("node:child_process");
        const uid = Number(cp.execFileSync("id", ["-u", user], { encoding: "utf8" }).trim());
        const gid = Number(cp.execFileSync("id", ["-g", user], { encoding: "utf8" }).trim());
        return { uid, gid };
    },

    startTicks(pid: number): string {
        const fs = require("node:fs");
        try {
            const stat: string = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
            // Field 22; fields after the parenthesised command name, which may itself hold spaces.
            return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19] ?? "";
        } catch {
            return "";
        }
    },

    alive(pid: number, startTicks: string): boolean {
        const fs = require("node:fs");
        const ticks = (processProvider as any).startTicks(pid);
        if (ticks === "" || ticks !== startTicks) return false;
        try {
            // A zombie has exited; it only waits to be reaped by its parent.
            return !/\) Z /.test(fs.readFileSync(`/proc/${pid}/stat`, "utf8"));
        } catch {
            return false;
        }
    },

    async waitHealthy(spec: ProcessSpec, pid: number): Promise<string> {
        const self = processProvider as any;
        const ticks = self.startTicks(pid);
        const deadline = Date.now() + (spec.startTimeoutSeconds ?? 60) * 1000;
        let last = "not checked yet";
        while (Date.now() < deadline) {
            if (!self.alive(pid, ticks)) return `process exited (last health check: ${last})`;
            last = await self.probe(spec.health);
            if (last === "ok") return "healthy";
            await new Promise((r) => setTimeout(r, 200));
        }
        return `timed out after ${spec.startTimeoutSeconds ?? 60}s (last health check: ${last})`;
    },

    probe(h: HealthCheck): Promise<string> {
        const fs = require("node:fs");
        const net = require("node:net");
        const https = require("node:https");
        return new Promise((resolve) => {
            if (h.kind === "tcp") {
                const s = net.connect({ host: h.host, port: h.port });
                s.setTimeout(1000);
                s.once("connect", () => { s.destroy(); resolve("ok"); });
                s.once("timeout", () => { s.destroy(); resolve("tcp timeout"); });
                s.once("error", (e: Error) => resolve(e.message));
                return;
            }
            const read = (f?: string) => (f ? fs.readFileSync(f) : undefined);
            const req = https.get(h.url, {
                ca: read(h.caFile), cert: read(h.certFile), key: read(h.keyFile),
                rejectUnauthorized: !h.insecure, timeout: 2000,
            }, (res: any) => {
                let body = "";
                res.on("data", (d: Buffer) => (body += d));
                res.on("end", () => resolve(res.statusCode === 200 ? "ok" : `HTTP ${res.statusCode}: ${body.slice(0, 200)}`));
            });
            req.on("timeout", () => req.destroy(new Error("https timeout")));
            req.on("error", (e: Error) => resolve(e.message));
        });
    },

    async stop(pid: number, timeoutSeconds: number): Promise<void> {
        const self = processProvider as any;
        const ticks = self.startTicks(pid);
        // Each process leads its own process group (it was spawned detached): the group holds whatever it
        // started, which must not outlive it.
        const signal = (sig: string) => {
            for (const target of [-pid, pid]) {
                try { process.kill(target, sig); } catch { /* already gone */ }
            }
        };
        signal("SIGTERM");
        const deadline = Date.now() + timeoutSeconds * 1000;
        while (self.alive(pid, ticks) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
        if (self.alive(pid, ticks)) {
            // kube-apiserver can ignore SIGTERM for minutes once etcd is gone.
            signal("SIGKILL");
            while (self.alive(pid, ticks)) await new Promise((r) => setTimeout(r, 50));
        }
        // Children that ignored SIGTERM outlive their leader; a group with members keeps its id, so this
        // reaches only them.
        try { process.kill(-pid, "SIGKILL"); } catch { /* the group is empty */ }
    },

    async waitPortFree(host: string, port: number): Promise<void> {
        const self = processProvider as any;
        const deadline = Date.now() + 30_000;
        while (Date.now() < deadline) {
            if ((await self.probe({ kind: "tcp", host, port })) !== "ok") return;
            await new Promise((r) => setTimeout(r, 100));
        }
        throw new Error(`port ${host}:${port} still accepts connections 30s after its process stopped`);
    },

    logTail(file: string): string {
        const fs = require("node:fs");
        try {
            return fs.readFileSync(file, "utf8").split("\n").slice(-25).join("\n");
        } catch {
            return "(no log)";
        }
    },
} as pulumi.dynamic.ResourceProvider;

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
