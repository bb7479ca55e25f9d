// What a local control plane leaves on this machine: its processes (found by the ports on their command
// lines, so another stack's never count) and its listening ports.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";

export interface ControlPlaneProcess {
    pid: number;
    /** The binary's file name: etcd, kube-apiserver, kube-controller-manager or kube-scheduler. */
    name: string;
    args: string;
}

export function listening(port: number, host = "127.0.0.1"): Promise<boolean> {
    return new Promise((resolve) => {
        const s = net.connect({ host, port });
        s.once("connect", () => { s.destroy(); resolve(true); });
        s.once("error", () => resolve(false));
    });
}

/** Control-plane processes whose command line carries one of the given ports. */
export function processesOn(ports: number[]): ControlPlaneProcess[] {
    const marks = ports.flatMap((p) => [`:${p}`, `=${p}`]);
    return execFileSync("ps", ["-eo", "pid=,args="], { encoding: "utf8" }).split("\n").map((l) => l.trim()).filter(Boolean)
        .map((l) => {
            const args = l.slice(l.indexOf(" ") + 1);
            return { pid: Number(l.split(/\s+/)[0]), name: args.split(/\s+/)[0].split("/").pop()!, args };
        })
        .filter((p) => /^(etcd|kube-apiserver|kube-controller-manager|kube-scheduler)$/.test(p.name) && marks.some((m) => p.args.includes(m)));
}

export interface Proc { pid: number; ppid: number; name: string; args: string[] }

/** Every live process, from /proc. */
export function allProcesses(): Proc[] {
    const out: Proc[] = [];
    for (const e of fs.readdirSync("/proc")) {
        if (!/^\d+$/.test(e)) continue;
        try {
            const rest = fs.readFileSync(`/proc/${e}/stat`, "utf8").split(") ").pop()!.split(" ");
            if (rest[0] === "Z") continue;
            const args = fs.readFileSync(`/proc/${e}/cmdline`, "utf8").split("\0").slice(0, -1);
            out.push({ pid: Number(e), ppid: Number(rest[1]), name: path.basename(args[0] ?? ""), args });
        } catch { /* exited meanwhile */ }
    }
    return out;
}

/** Polls `probe` every 250 ms until it returns a value. */
export async function until<T>(what: string, seconds: number, probe: () => Promise<T | undefined>): Promise<T> {
    const deadline = Date.now() + seconds * 1000;
    for (;;) {
        const v = await probe();
        if (v !== undefined) return v;
        if (Date.now() > deadline) throw new Error(`timed out after ${seconds}s waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 250));
    }
}

/** Lines "what: 12.3s" of the steps a spec times, printed at its end. */
export function timingLog(): { timings: string[]; timed<T>(what: string, run: () => Promise<T>): Promise<T> } {
    const timings: string[] = [];
    return {
        timings,
        async timed(what, run) {
            const t0 = Date.now();
            const v = await run();
            timings.push(`${what}: ${((Date.now() - t0) / 1000).toFixed(1)}s`);
            return v;
        },
    };
}
