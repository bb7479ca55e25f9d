// The local platform's HA topology puts several kube-apiservers behind one loopback address. haproxy (Debian's,
// unpacked by scripts/toolchain.sh) forwards TCP only: TLS passes through, so every client still authenticates
// to an API server with its own certificate and haproxy holds no key that could act for anyone but its health
// check. The health check is what decides where traffic goes: verified TLS to each API server's /readyz, so a
// server that is shutting down (readyz fails first) stops getting new connections while its open ones finish.
import * as net from "node:net";
import * as path from "node:path";

export interface BalancerEndpoint {
    address: string;
    port: number;
}

export interface BalancerBackend extends BalancerEndpoint {
    /** haproxy's name for the server; shows in its log lines. */
    name: string;
}

export interface BalancerSpec {
    /** Where clients connect (the cluster's API endpoint). */
    listen: BalancerEndpoint;
    /** The API servers, tried in turn. */
    backends: BalancerBackend[];
    /** The cluster CA, against which each API server's serving certificate is verified by the health check. */
    caFile: string;
    /** A PEM file holding the health check's client certificate and its key (the API servers refuse anonymous requests). */
    healthClientPem: string;
    /**
     * haproxy's admin socket (0600, for root only): on a reload the new worker takes the listening sockets over
     * from the old one through it, so no connection is refused while the CA file or the health pair change.
     */
    adminSocket: string;
    /** A name in every API server's serving certificate, sent as SNI and verified (default "localhost"). */
    serverName?: string;
    /** Drop to this user and group after start-up; only when haproxy is started as root. */
    user?: { user: string; group: string };
    /** `pidfile`: where the master writes its pid; the local platform leaves it unset, its supervisor knows the pid. */
    pidFile?: string;
    /** Time between two health checks of one server (default 500 ms). */
    healthIntervalMs?: number;
    /** Consecutive failed checks that take a server out (default 2). */
    fall?: number;
    /** Consecutive passed checks that bring it back (default 2). */
    rise?: number;
    /** An empty directory haproxy chroots into once its files are loaded; chroot needs haproxy started as root. */
    stateDir?: string;
}

/**
 * The arguments of the haproxy process (its command is the toolchain's `haproxy` wrapper), exactly
 * `["-W", "-db", "-f", configFile]`: `-W` runs a master that re-reads the config and the files it names on
 * SIGUSR2 and forks a new worker, which takes the listeners over from the old one (see adminSocket); `-db`
 * keeps the master in the foreground, as the supervisor expects of every component (it restarts what exits
 * and signals the process group to stop it); `-f` names the rendered config. SIGTERM stops it at once; the API
 * servers' own graceful shutdown is what drains clients.
 */
export function balancerArgv(configFile: string): string[] {
    absolutePath("configFile", configFile);
    return ["-W", "-db", "-f", configFile];
}

// Idle limits: a kubectl watch can be silent for minutes, and the API server ends a watch itself after
// --min-request-timeout (30 to 60 min), so an hour never cuts one a server would have kept open.
const LONG_IDLE = "1h";

/** haproxy's config for `spec`; throws naming the first bad field. Pure: reads no file. */
export function renderBalancerConfig(spec: BalancerSpec): string {
    const b = validated(spec);
    const global = [
        // Raw lines on stderr end up in the supervisor's log file for this process, like every component's.
        "log stderr format raw local0",
        "nbthread 1",
        "ssl-server-verify required",
        "ssl-default-server-options ssl-min-ver TLSv1.2",
        `stats socket ${b.adminSocket} mode 600 level admin expose-fd listeners`,
        ...(b.pidFile ? [`pidfile ${b.pidFile}`] : []),
        ...(b.stateDir ? [`chroot ${b.stateDir}`] : []),
        ...(b.user ? [`user ${b.user.user}`, `group ${b.user.group}`] : []),
    ];
    const defaults = [
        "mode tcp",
        "log global",
        "option tcplog",
        "option dontlognull",
        // A connection refused by one server (stopped, restarting) is retried on another, never on the same one:
        // that one's restarted process may already listen before it is ready.
        "retries 3",
        "option redispatch 1",
        "timeout connect 5s",
        `timeout client ${LONG_IDLE}`,
        `timeout server ${LONG_IDLE}`,
        `timeout tunnel ${LONG_IDLE}`,
        "timeout client-fin 30s",
        "timeout server-fin 30s",
        "timeout check 2s",
    ];
    const frontend = [`bind ${endpoint(b.listen)}`, "default_backend kube-apiservers"];
    // No on-marked-down: a server marked down is draining (its /readyz fails during graceful shutdown), and
    // the requests it still serves must be allowed to finish rather than be cut.
    const serverOptions = [
        "check", "check-ssl", "verify required", `ca-file ${b.caFile}`, `crt ${b.healthClientPem}`,
        `verifyhost ${b.serverName}`, `check-sni ${b.serverName}`,
        `inter ${b.healthIntervalMs}`, `fall ${b.fall}`, `rise ${b.rise}`,
    ].join(" ");
    const backend = [
        "balance roundrobin",
        "option httpchk",
        `http-check send meth GET uri /readyz ver HTTP/1.1 hdr Host ${b.serverName}`,
        "http-check expect status 200",
        `default-server ${serverOptions}`,
        ...b.backends.map((s) => `server ${s.name} ${endpoint(s)}`),
    ];
    const section = (head: string, lines: string[]): string => [head, ...lines.map((l) => `    ${l}`)].join("\n");
    return [
        "# Rendered by platforms/local/balancer.ts; no admin page, and a stats socket for root alone (reloads).",
        section("global", global),
        section("defaults", defaults),
        section("frontend kube-apiserver", frontend),
        section("backend kube-apiservers", backend),
        "",
    ].join("\n\n");
}

type Validated = Required<Omit<BalancerSpec, "user" | "pidFile" | "stateDir">> & Pick<BalancerSpec, "user" | "pidFile" | "stateDir">;

function validated(s: BalancerSpec): Validated {
    if (typeof s !== "object" || s === null) throw new Error("balancer: the spec must be an object");
    checkEndpoint("listen", s.listen);
    if (!Array.isArray(s.backends) || s.backends.length === 0) throw new Error("balancer: backends must list at least one API server");
    const names = new Set<string>();
    const targets = new Set<string>([endpoint(s.listen)]);
    s.backends.forEach((be, i) => {
        const where = `backends[${i}]`;
        if (typeof be?.name !== "string" || !/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/.test(be.name)) {
            throw new Error(`balancer: ${where}.name must be 1-63 letters, digits, '_', '.' or '-', starting with a letter or digit`);
        }
        if (names.has(be.name)) throw new Error(`balancer: ${where}.name "${be.name}" is used twice`);
        names.add(be.name);
        checkEndpoint(where, be);
        const t = endpoint(be);
        if (targets.has(t)) {
            throw new Error(`balancer: ${where} ${be.address}:${be.port} is the listen address or another backend's`);
        }
        targets.add(t);
    });
    absolutePath("caFile", s.caFile);
    absolutePath("healthClientPem", s.healthClientPem);
    absolutePath("adminSocket", s.adminSocket);
    if (s.pidFile !== undefined) absolutePath("pidFile", s.pidFile);
    if (s.stateDir !== undefined) absolutePath("stateDir", s.stateDir);
    const serverName = s.serverName ?? "localhost";
    if (!/^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/.test(serverName)) {
        throw new Error("balancer: serverName must be a DNS name (one of the API servers' certificate names)");
    }
    if (s.user !== undefined) {
        for (const k of ["user", "group"] as const) {
            if (typeof s.user?.[k] !== "string" || !/^[a-z_][a-z0-9_-]{0,31}$/.test(s.user[k])) {
                throw new Error(`balancer: user.${k} must be a system ${k} name (lower case letters, digits, '_', '-')`);
            }
        }
        if (s.user.user === "root") throw new Error("balancer: user.user must not be root (it is the user haproxy drops to)");
    }
    const int = (key: string, v: number | undefined, dflt: number, min: number, max: number): number => {
        const n = v ?? dflt;
        if (!Number.isInteger(n) || n < min || n > max) throw new Error(`balancer: ${key} must be an integer from ${min} to ${max}`);
        return n;
    };
    return {
        listen: s.listen,
        backends: s.backends,
        caFile: s.caFile,
        healthClientPem: s.healthClientPem,
        adminSocket: s.adminSocket,
        serverName,
        user: s.user,
        pidFile: s.pidFile,
        stateDir: s.stateDir,
        healthIntervalMs: int("healthIntervalMs", s.healthIntervalMs, 500, 100, 60_000),
        fall: int("fall", s.fall, 2, 1, 100),
        rise: int("rise", s.rise, 2, 1, 100),
    };
}

function checkEndpoint(where: string, e: BalancerEndpoint | undefined): void {
    if (typeof e?.address !== "string" || net.isIP(e.address) === 0) {
        throw new Error(`balancer: ${where}.address must be an IPv4 or IPv6 address`);
    }
    if (!Number.isInteger(e.port) || e.port < 1 || e.port > 65535) throw new Error(`balancer: ${where}.port must be an integer from 1 to 65535`);
}

// haproxy splits config lines on blanks and reads quotes, backslashes, '#' and '$' specially: a path holding
// one could change the meaning of the line, so such paths are refused rather than escaped.
function absolutePath(key: string, p: string): void {
    if (typeof p !== "string" || !path.isAbsolute(p)) throw new Error(`balancer: ${key} must be an absolute path`);
    if (!/^[A-Za-z0-9/_.,+=@:%~-]+$/.test(p)) {
        throw new Error(`balancer: ${key} may hold only letters, digits and / _ . , + = @ : % ~ - (no blanks, quotes or '#')`);
    }
    if (path.normalize(p) !== p || p.length > 1 && p.endsWith("/")) throw new Error(`balancer: ${key} must be a normalised path`);
}

// The family prefix keeps an IPv6 address's colons apart from the port's.
function endpoint(e: BalancerEndpoint): string {
    return `${net.isIPv6(e.address) ? "ipv6" : "ipv4"}@${e.address}:${e.port}`;
}
