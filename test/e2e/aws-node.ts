// An AWS control-plane node on this machine, for the boot drill: mount and network namespaces of its own in
// which its directories, its users, a private /run and the binaries its fetch put in its /usr/local/bin are
// bound, held by a sleeping shell; its units' ExecStart lines run inside with what the
// rendered unit says of user, group, umask, runtime directory and privileges (systemd.exec(5)).
import { strict as assert } from "node:assert";
import { ChildProcess, spawn, spawnSync, SpawnSyncReturns } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { FETCH_SCRIPT_PATH } from "../../platforms/aws/secrets";
import { until } from "./processes";

export interface CloudConfig {
    users?: (string | { name: string })[];
    write_files: { path: string; content: string; permissions: string; owner: string }[];
    runcmd: string[][];
}

/** The directories a node's own files live in (README: "Users and files"); the sandbox binds each of them. */
export const NODE_DIRS = ["/etc/kubernetes", "/etc/etcd", "/var/lib/etcd", "/var/log/kubernetes", "/etc/systemd/system"];

/** Where a node's own /etc is kept: beside its root, not in it, so what the node's files are is unchanged. */
export function nodeEtc(root: string): string {
    return `${root}.etc`;
}

/**
 * Makes a node's own /etc, bound over /etc in its mount namespace: this machine's, with the node's passwd and
 * group and the node's directories empty. Binding the two files alone would not hold. useradd or userdel on
 * this machine (a local stack's etcd user, in a test running beside the drill) renames a new file over
 * /etc/group, and the kernel then drops the bind mount another namespace had on the old one (Linux 3.18 and
 * later), so the node would see this machine's users, without its own, in the middle of its boot.
 */
export function prepareNodeEtc(root: string, passwd: string, group: string): void {
    const etc = nodeEtc(root);
    fs.rmSync(etc, { recursive: true, force: true });
    const r = spawnSync("cp", ["-a", "--", "/etc", etc], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    for (const d of NODE_DIRS.filter((x) => x.startsWith("/etc/"))) {
        fs.rmSync(etc + d.slice("/etc".length), { recursive: true, force: true });
        fs.mkdirSync(etc + d.slice("/etc".length), { recursive: true, mode: 0o755 });
    }
    for (const [f, content] of [["passwd", passwd], ["group", group]]) {
        fs.rmSync(path.join(etc, f), { force: true });
        fs.writeFileSync(path.join(etc, f), content, { mode: 0o644 });
    }
}

/**
 * The shell lines that make a mount namespace the node's: its own /etc first (prepareNodeEtc) and its own
 * /var/lib (a worker's images and containerd's store), then its directories in them, then its /usr/local/bin
 * and its /opt (a worker's CNI plugins). NODE_ETC, NODE_ROOT and NODE_BIN name them.
 */
export function nodeMountLines(dirs: readonly string[]): string[] {
    return [
        "mount --bind \"$NODE_ETC\" /etc",
        "mkdir -p \"$NODE_ROOT/var/lib\" && mount --bind \"$NODE_ROOT/var/lib\" /var/lib",
        `for d in ${dirs.join(" ")}; do mount --bind "$NODE_ROOT$d" "$d"; done`,
        "mount --bind \"$NODE_BIN\" /usr/local/bin",
        "mkdir -p \"$NODE_ROOT/opt\" && mount --bind \"$NODE_ROOT/opt\" /opt",
    ];
}

export interface Host {
    node: string;
    root: string;
    cc: CloudConfig;
    holder: ChildProcess;
    pid: number;
    /** The node's fixed private address, from its etcd unit's peer URL. */
    address: string;
    /** Its host name, when it has one of its own (a worker's, which systemd's %H names). */
    hostname?: string;
    units: Map<string, ChildProcess>;
}

export interface Unit {
    argv: string[];
    user?: string;
    group?: string;
    umask?: string;
    runtimeDirectory?: string;
    runtimeDirectoryMode?: string;
    noNewPrivileges: boolean;
    /** Environment= lines, specifiers unexpanded. */
    environment: Record<string, string>;
    /** ExecStartPre= lines in order; a "-" prefix lets one fail. */
    execStartPre: { argv: string[]; mayFail: boolean }[];
}

/** A unit's settings from its rendered file; the renderer quotes nothing these units need, so quoting is refused. */
export function unitOf(cc: CloudConfig, name: string): Unit {
    const f = cc.write_files.find((w) => w.path === `/etc/systemd/system/${name}.service`);
    assert.ok(f, `no ${name}.service`);
    const value = (k: string) => f.content.match(new RegExp(`^${k}=(.*)$`, "m"))?.[1];
    const values = (k: string) => [...f.content.matchAll(new RegExp(`^${k}=(.*)$`, "gm"))].map((m) => m[1]);
    const exec = value("ExecStart");
    for (const line of [exec, ...values("ExecStartPre"), ...values("Environment")]) assert.ok(line && !/["'\\]/.test(line), `${name}: ${line}`);
    return {
        argv: exec!.split(" "), user: value("User"), group: value("Group"), umask: value("UMask"),
        runtimeDirectory: value("RuntimeDirectory"), runtimeDirectoryMode: value("RuntimeDirectoryMode"), noNewPrivileges: value("NoNewPrivileges") === "yes",
        environment: Object.fromEntries(values("Environment").map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)])),
        execStartPre: values("ExecStartPre").map((l) => ({ argv: l.replace(/^-/, "").split(" "), mayFail: l.startsWith("-") })),
    };
}

/** The node's fetch script as cloud-init writes it. */
export function fetchScript(cc: CloudConfig): string {
    const f = cc.write_files.find((w) => w.path === FETCH_SCRIPT_PATH);
    assert.ok(f, `no ${FETCH_SCRIPT_PATH}`);
    return f.content;
}

export interface StagedFile { line: string; parameter: string; path: string; mode: string; owner: string; kind: string; restarts: string[] }

/** The script's `stage PARAMETER PATH MODE OWNER KIND RESTARTS` lines, in the order it runs them. */
export function stagedFiles(script: string): StagedFile[] {
    return script.split("\n").filter((l) => l.startsWith("stage ")).map((line) => {
        const [, parameter, path, mode, owner, kind, restarts] = line.split(" ");
        return { line, parameter, path, mode, owner, kind, restarts: restarts === "-" ? [] : restarts.split(",") };
    });
}

export interface StagedBinary { key: string; path: string; sha256: string; mode: string }

/** The script's `stage_binary KEY PATH SHA256 MODE` lines, in the order it runs them. */
export function stagedBinaries(script: string): StagedBinary[] {
    return script.split("\n").filter((l) => l.startsWith("stage_binary ")).map((l) => {
        const [, key, path, sha256, mode] = l.split(" ");
        return { key, path, sha256, mode };
    });
}

/** The paths the node's fetch script writes. */
export function fetchedPaths(cc: CloudConfig): string[] {
    return stagedFiles(fetchScript(cc)).map((f) => f.path);
}

/** The one file, written by cloud-init or fetched, whose path ends with `suffix`. */
export function nodePath(cc: CloudConfig, suffix: string): string {
    const found = [...cc.write_files.map((f) => f.path), ...fetchedPaths(cc)].filter((x) => x.endsWith(suffix));
    assert.equal(found.length, 1, `files ending ${suffix}: ${found.join(" ")}`);
    return found[0];
}

export function inNode(h: Host, args: string[], input?: string): SpawnSyncReturns<string> {
    return spawnSync("nsenter", ["-t", String(h.pid), "-m", "-n", "-u", "--", ...args], { encoding: "utf8", timeout: 60_000, input });
}

/** A node without an etcd member (a worker) names its address; `hostname` gives it a UTS namespace of its own. */
export interface HostOptions { address?: string; hostname?: string }

export async function startHost(node: string, root: string, bin: string, cc: CloudConfig, opts: HostOptions = {}): Promise<Host> {
    for (const d of NODE_DIRS) fs.mkdirSync(root + d, { recursive: true, mode: 0o755 });
    const inner = [
        "set -euo pipefail",
        "ip link set lo up",
        ...(opts.hostname ? ["hostname \"$NODE_HOSTNAME\""] : []),
        ...nodeMountLines(NODE_DIRS),
        // systemd's runtime directories live in /run; the node's own, so nothing of this machine's is in reach.
        "mount -t tmpfs -o mode=0755,nosuid,nodev tmpfs /run",
        "echo ready",
        "exec sleep infinity",
    ].join("\n");
    const holder = spawn("unshare", ["--mount", "--net", ...(opts.hostname ? ["--uts"] : []), "--propagation", "private", "bash", "-c", inner], {
        env: { PATH: process.env.PATH, NODE_ROOT: root, NODE_ETC: nodeEtc(root), NODE_BIN: bin, NODE_HOSTNAME: opts.hostname ?? "" }, stdio: ["ignore", "pipe", "pipe"], detached: true,
    });
    let out = "";
    holder.stdout!.on("data", (d) => (out += d));
    holder.stderr!.on("data", (d) => (out += d));
    await until(`${node} namespaces`, 20, async () => {
        if (holder.exitCode !== null) throw new Error(`${node}: ${out}`);
        return out.includes("ready") ? true : undefined;
    });
    const address = opts.address ?? new URL(unitOf(cc, "etcd").argv.find((a) => a.startsWith("--listen-peer-urls="))!.split("=")[1]).hostname;
    return { node, root, cc, holder, pid: holder.pid!, address, ...(opts.hostname ? { hostname: opts.hostname } : {}), units: new Map() };
}

/** Links two nodes, each end with its node's address. */
export function linkHosts(a: Host, b: Host): void {
    const ok = (r: SpawnSyncReturns<string>) => assert.equal(r.status, 0, r.stderr);
    ok(inNode(a, ["ip", "link", "add", "eth0", "type", "veth", "peer", "name", "eth0", "netns", String(b.pid)]));
    for (const [h, other] of [[a, b], [b, a]]) {
        ok(inNode(h, ["ip", "addr", "add", `${h.address}/32`, "dev", "eth0"]));
        ok(inNode(h, ["ip", "link", "set", "eth0", "up"]));
        ok(inNode(h, ["ip", "route", "add", `${other.address}/32`, "dev", "eth0"]));
    }
}

// Copies bytes both ways between each accepted connection and a connection to a target (a port or a path).
// A port alone is on the loopback; ADDRESS:PORT is on that address.
const RELAY = "const net=require('net');const [from,to]=process.argv.slice(1);" +
    "const at=(s)=>/^[0-9]+$/.test(s)?{port:Number(s),host:'127.0.0.1'}:/^[0-9.]+:[0-9]+$/.test(s)?{host:s.split(':')[0],port:Number(s.split(':')[1])}:{path:s};" +
    "net.createServer((c)=>{const u=net.connect(at(to));c.pipe(u).pipe(c);c.on('error',()=>u.destroy());u.on('error',()=>c.destroy());})" +
    ".listen(at(from))";

/**
 * Makes `port` on the node's loopback (or `at` in the node) reach `port` on this machine's loopback, through a unix
 * socket: the node's network namespace has no route out, as a private subnet has none but its endpoints. Both
 * halves are processes of their own, so a test blocked in a synchronous call never stalls the node.
 */
export async function relayIntoNode(h: Host, port: number, dir: string, at = { address: "127.0.0.1", port }): Promise<void> {
    const sock = path.join(dir, `${h.node}-${port}.sock`);
    h.units.set(`relay-out-${port}`, spawn(process.execPath, ["-e", RELAY, sock, String(port)], { stdio: "ignore", detached: true }));
    await until(`${h.node} relay socket`, 20, async () => (fs.existsSync(sock) ? true : undefined));
    h.units.set(`relay-in-${port}`, spawn("nsenter", ["-t", String(h.pid), "-n", "--", process.execPath, "-e", RELAY, `${at.address}:${at.port}`, sock], { stdio: "ignore", detached: true }));
    await until(`${h.node} relay on ${at.address}:${at.port}`, 20, async () => (inNode(h, ["bash", "-c", `exec 3<>/dev/tcp/${at.address}/${at.port}`]).status === 0 ? true : undefined));
}

/**
 * Makes `nodePort` on the node's loopback (its API server) reachable on `hostPort` of this machine's loopback,
 * through a unix socket, as the other relay does the other way: the machine running `pulumi up` through a VPN.
 */
export async function relayOutOfNode(h: Host, nodePort: number, hostPort: number, dir: string): Promise<void> {
    const sock = path.join(dir, `${h.node}-out-${nodePort}.sock`);
    h.units.set(`relay-node-${nodePort}`, spawn("nsenter", ["-t", String(h.pid), "-n", "--", process.execPath, "-e", RELAY, sock, String(nodePort)], { stdio: "ignore", detached: true }));
    await until(`${h.node} relay socket out`, 20, async () => (fs.existsSync(sock) ? true : undefined));
    h.units.set(`relay-host-${hostPort}`, spawn(process.execPath, ["-e", RELAY, String(hostPort), sock], { stdio: "ignore", detached: true }));
    await until(`relay on ${hostPort}`, 20, async () => (spawnSync("bash", ["-c", `exec 3<>/dev/tcp/127.0.0.1/${hostPort}`]).status === 0 ? true : undefined));
}

// IMDSv2 as EC2 answers it, for the two requests a node's scripts make: a PUT for a session token (which must say
// its lifetime), then GETs that carry the token; anything else is 401 or 404. The address is the node's.
const IMDS = "const http=require('http');const crypto=require('crypto');const tokens=new Set();const [address]=process.argv.slice(1);" +
    "http.createServer((q,s)=>{const end=(c,b)=>{s.writeHead(c);s.end(b)};" +
    "if(q.method==='PUT'&&q.url==='/latest/api/token'){const ttl=Number(q.headers['x-aws-ec2-metadata-token-ttl-seconds']);" +
    "if(!(ttl>=1&&ttl<=21600))return end(400,'');const t=crypto.randomBytes(24).toString('base64');tokens.add(t);return end(200,t)}" +
    "if(!tokens.has(q.headers['x-aws-ec2-metadata-token']))return end(401,'');" +
    "if(q.method==='GET'&&q.url==='/latest/meta-data/local-ipv4')return end(200,address);end(404,'')}).listen(80,'169.254.169.254')";

/** A stand-in instance metadata service at 169.254.169.254:80 in the node, giving the node's address as local-ipv4. */
export async function startImds(h: Host): Promise<void> {
    const added = inNode(h, ["ip", "addr", "add", "169.254.169.254/32", "dev", "lo"]);
    assert.equal(added.status, 0, added.stderr);
    h.units.set("imds", spawn("nsenter", ["-t", String(h.pid), "-n", "--", process.execPath, "-e", IMDS, h.address], { stdio: "ignore", detached: true }));
    await until(`${h.node} metadata service`, 20, async () => (inNode(h, ["bash", "-c", "exec 3<>/dev/tcp/169.254.169.254/80"]).status === 0 ? true : undefined));
}

/** systemd's specifiers these units use (systemd.unit(5)): %H the host name, %% a "%". */
function expandSpecifiers(h: Host, v: string): string {
    return v.replace(/%[H%]/g, (m) => {
        if (m === "%%") return "%";
        assert.ok(h.hostname, `${h.node} has no host name of its own for %H`);
        return h.hostname;
    });
}

/**
 * Starts a unit inside the node as systemd would: its ExecStartPre lines in order (one that fails stops the
 * start unless "-" lets it fail), then its ExecStart with its Environment, with `rewrite` applied to its arguments.
 * `runPre: false` leaves the ExecStartPre lines out where they would change this machine (kernel sysctls).
 */
export function startUnit(h: Host, name: string, env: Record<string, string> = {}, rewrite: [string, string][] = [], { runPre = true } = {}): ChildProcess {
    const u = unitOf(h.cc, name);
    for (const pre of runPre ? u.execStartPre : []) {
        const r = inNode(h, pre.argv);
        if (!pre.mayFail) assert.equal(r.status, 0, `${name}: ExecStartPre ${pre.argv.join(" ")}: ${r.stderr}${r.error ?? ""}`);
    }
    const unitEnv = Object.fromEntries(Object.entries(u.environment).map(([k, v]) => [k, expandSpecifiers(h, v)]));
    env = { ...unitEnv, ...env };
    const argv = u.argv.map((a) => rewrite.reduce((x, [from, to]) => x.split(from).join(to), a));
    if (u.runtimeDirectory) {
        const dir = `/run/${u.runtimeDirectory}`;
        for (const c of [["mkdir", "-p", dir], ["chown", `${u.user ?? "root"}:${u.group ?? u.user ?? "root"}`, dir], ["chmod", u.runtimeDirectoryMode ?? "0755", dir]]) {
            const r = inNode(h, c);
            assert.equal(r.status, 0, r.stderr);
        }
    }
    const ids = u.user ? [`--reuid=${u.user}`, `--regid=${u.group ?? u.user}`, "--init-groups"] : [];
    const log = fs.openSync(path.join(h.root, `${name}.log`), "w");
    const child = spawn("nsenter", ["-t", String(h.pid), "-m", "-n", "-u", "--", "bash", "-c", `umask ${u.umask ?? "0022"} && exec "$@"`, name,
        "setpriv", ...ids, ...(u.noNewPrivileges ? ["--no-new-privs"] : []), ...argv], {
        stdio: ["ignore", log, log], detached: true, env: { PATH: process.env.PATH, ...env },
    });
    fs.closeSync(log);
    h.units.set(name, child);
    return child;
}

export function stopHost(h: Host): void {
    for (const p of [...h.units.values(), h.holder]) {
        if (p.pid && p.exitCode === null && p.signalCode === null) {
            try {
                process.kill(-p.pid, "SIGKILL");
            } catch { /* already gone */ }
        }
    }
}
