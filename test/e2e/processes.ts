// What a local control plane leaves on this machine: its processes (found by the ports on their command
// lines, so another stack's never count) and its listening ports.
import { execFileSync } from "node:child_process";
import * as net from "node:net";

export interface ControlPlaneProcess {
    pid: number;
    /** The binary's file name: etcd, kube-apiserver, kube-controller-manager or kube-scheduler. */
    name: string;
    args: string;
}

export function listening(port: number): Promise<boolean> {
    return new Promise((resolve) => {
        const s = net.connect({ host: "127.0.0.1", port });
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
