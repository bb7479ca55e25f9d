// Holding a supervised local component down without ending its supervisor. The local platform's supervisor
// (platforms/local/supervisor.js) restarts its component whenever it exits and keeps no pid file; ending the
// supervisor would end the component for good (only `pulumi up --refresh` starts a new one). So a restore
// freezes the supervisor (SIGSTOP), kills its component (SIGKILL), and later thaws it (SIGCONT): the
// supervisor then sees the exit it missed and starts the component again from its own args file, as it always
// does, from its own args file.
import * as fs from "node:fs";

export interface Held {
    what: string;
    supervisor: number;
    components: number[];
}

interface Proc { pid: number; ppid: number; state: string; args: string[] }

function processes(): Proc[] {
    const out: Proc[] = [];
    for (const e of fs.readdirSync("/proc")) {
        if (!/^\d+$/.test(e)) continue;
        try {
            const rest = fs.readFileSync(`/proc/${e}/stat`, "utf8").split(") ").pop()!.split(" ");
            const args = fs.readFileSync(`/proc/${e}/cmdline`, "utf8").split("\0").slice(0, -1);
            out.push({ pid: Number(e), ppid: Number(rest[1]), state: rest[0], args });
        } catch { /* exited meanwhile */ }
    }
    return out;
}

/**
 * A component's supervisor, found by its log file (the supervisor's stdout, which no other process holds as
 * fd 1), and the children it runs now: none while it waits to restart a component that exited.
 */
export function findSupervisor(logFile: string): { supervisor: number; children: number[] } | undefined {
    const all = processes();
    const matching = all.filter((p) => p.state !== "Z" && p.args.some((a) => a.endsWith("/supervisor.js")) && fdTarget(p.pid, 1) === logFile);
    // Between fork and exec, the component the supervisor is starting still shows the supervisor's command line
    // and stdout: it is that supervisor's child, not a second supervisor.
    const sups = matching.filter((p) => !matching.some((q) => q.pid === p.ppid));
    if (sups.length > 1) throw new Error(`${sups.length} supervisors write ${logFile}`);
    if (sups.length === 0) return undefined;
    const supervisor = sups[0].pid;
    return { supervisor, children: all.filter((p) => p.ppid === supervisor && p.state !== "Z").map((p) => p.pid) };
}

function fdTarget(pid: number, fd: number): string | undefined {
    try {
        return fs.readlinkSync(`/proc/${pid}/fd/${fd}`);
    } catch {
        return undefined;
    }
}

/** A process that is gone or a zombie no longer holds ports or files. */
function exited(pid: number): boolean {
    try {
        return fs.readFileSync(`/proc/${pid}/stat`, "utf8").split(") ").pop()!.startsWith("Z");
    } catch {
        return true;
    }
}

/** Freezes the supervisor writing `logFile`, then kills whatever component it runs and waits for it to exit. */
export async function hold(what: string, logFile: string): Promise<Held> {
    const found = findSupervisor(logFile);
    if (!found) throw new Error(`${what} has no supervisor (it gave up, or the stack is down: npm run pulumi -- up --refresh)`);
    process.kill(found.supervisor, "SIGSTOP");
    // Read again once frozen: a restart may have been under way.
    const children = findSupervisor(logFile)?.children ?? found.children;
    for (const c of children) {
        try { process.kill(c, "SIGKILL"); } catch { /* gone */ }
    }
    const deadline = Date.now() + 15_000;
    while (!children.every(exited)) {
        if (Date.now() > deadline) {
            process.kill(found.supervisor, "SIGCONT");
            throw new Error(`${what} did not exit after SIGKILL`);
        }
        await new Promise((r) => setTimeout(r, 50));
    }
    return { what, supervisor: found.supervisor, components: children };
}

export function release(h: Held): void {
    try {
        process.kill(h.supervisor, "SIGCONT");
    } catch { /* the supervisor is gone: reported by the health wait that follows */ }
}
