// What the process-provider specs share: a loopback port nothing listens on, and the live processes in /proc.
import * as fs from "node:fs";
import * as net from "node:net";

/** A loopback port nothing listens on. */
export async function freePort(): Promise<number> {
    const srv = net.createServer();
    await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
    const port = (srv.address() as net.AddressInfo).port;
    await new Promise((r) => srv.close(r));
    return port;
}

/** Live (non-zombie) processes whose /proc stat fields after the command name pass `match`. */
export function liveProcesses(match: (pid: number, fieldsAfterName: string[]) => boolean): number[] {
    const out: number[] = [];
    for (const e of fs.readdirSync("/proc")) {
        if (!/^\d+$/.test(e)) continue;
        try {
            const stat = fs.readFileSync(`/proc/${e}/stat`, "utf8");
            const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
            if (rest[0] !== "Z" && match(Number(e), rest)) out.push(Number(e));
        } catch { /* exited meanwhile */ }
    }
    return out;
}
