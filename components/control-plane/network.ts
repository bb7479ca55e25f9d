// Addresses, ports and ranges, checked together because most mistakes are combinations: two listeners on
// one port, a Service range inside the pod range, two etcd members claiming one name.
import { isIP } from "node:net";
import { cidrsOverlap, fail, parseHttpsUrl, isDnsLabel, isDnsName, isIp, isPlainObject, key, knownKeys, parseCidr, port } from "../common";
import { EtcdMemberOptions, NETWORK_DEFAULTS, NetworkOptions } from "./options";

export interface ResolvedEtcdMember {
    name: string;
    ip: string;
    dataDir?: string;
}

export interface ResolvedNetwork {
    advertiseAddress: string;
    apiServerBindAddress: string;
    apiServerPort: number;
    apiServerShutdownDelaySeconds: number;
    apiServerWatchDrainSeconds: number;
    controllerManagerBindAddress: string;
    controllerManagerPort: number;
    schedulerBindAddress: string;
    schedulerPort: number;
    etcdClientPort: number;
    etcdPeerPort: number;
    etcdMembers: ResolvedEtcdMember[];
    serviceCidr: string;
    podCidr: string;
    clusterDomain: string;
    serviceAccountIssuer: string;
    clusterName: string;
}

const NETWORK_KEYS: (keyof NetworkOptions)[] = [
    "advertiseAddress",
    "apiServerBindAddress",
    "apiServerPort",
    "apiServerShutdownDelaySeconds",
    "apiServerWatchDrainSeconds",
    "controllerManagerBindAddress",
    "controllerManagerPort",
    "schedulerBindAddress",
    "schedulerPort",
    "etcdClientPort",
    "etcdPeerPort",
    "etcdMembers",
    "serviceCidr",
    "podCidr",
    "clusterDomain",
    "serviceAccountIssuer",
    "clusterName",
];

// The API server keeps every Service IP in etcd, so it refuses ranges wider than 20 host bits.
const MAX_SERVICE_HOST_BITS = 20;

export function resolveNetwork(options: NetworkOptions | undefined, k: string): ResolvedNetwork {
    if (!isPlainObject(options)) fail(k, options, "set network with at least advertiseAddress and etcdMembers");
    knownKeys(k, options, NETWORK_KEYS);

    const advertiseAddress = ip(key(k, "advertiseAddress"), options.advertiseAddress, false);
    // Go listens on IPv4 only for 0.0.0.0, so an IPv6 control plane needs the IPv6 wildcard.
    const wildcard = isIP(String(advertiseAddress)) === 6 ? "::" : NETWORK_DEFAULTS.apiServerBindAddress;
    const apiServerBindAddress = ip(key(k, "apiServerBindAddress"), options.apiServerBindAddress ?? wildcard, true);
    const controllerManagerBindAddress = ip(
        key(k, "controllerManagerBindAddress"),
        options.controllerManagerBindAddress ?? NETWORK_DEFAULTS.controllerManagerBindAddress,
        true,
    );
    const schedulerBindAddress = ip(key(k, "schedulerBindAddress"), options.schedulerBindAddress ?? NETWORK_DEFAULTS.schedulerBindAddress, true);

    const ports = {
        apiServerPort: port(key(k, "apiServerPort"), options.apiServerPort ?? NETWORK_DEFAULTS.apiServerPort),
        controllerManagerPort: port(key(k, "controllerManagerPort"), options.controllerManagerPort ?? NETWORK_DEFAULTS.controllerManagerPort),
        schedulerPort: port(key(k, "schedulerPort"), options.schedulerPort ?? NETWORK_DEFAULTS.schedulerPort),
        etcdClientPort: port(key(k, "etcdClientPort"), options.etcdClientPort ?? NETWORK_DEFAULTS.etcdClientPort),
        etcdPeerPort: port(key(k, "etcdPeerPort"), options.etcdPeerPort ?? NETWORK_DEFAULTS.etcdPeerPort),
    };
    // Every listener may share the host with the others, so two of them on one port cannot both start.
    const byPort = new Map<number, string>();
    for (const [name, p] of Object.entries(ports)) {
        const other = byPort.get(p);
        if (other !== undefined) fail(key(k, name), p, `pick a port not already used by ${key(k, other)}`);
        byPort.set(p, name);
    }

    const delay = options.apiServerShutdownDelaySeconds ?? 0;
    // Longer than the apiserver's own request timeout (60 s) only delays every restart for nothing.
    if (!Number.isInteger(delay) || delay < 0 || delay > 60) fail(key(k, "apiServerShutdownDelaySeconds"), delay, "use a whole number of seconds from 0 to 60");

    const drain = options.apiServerWatchDrainSeconds ?? NETWORK_DEFAULTS.apiServerWatchDrainSeconds;
    if (!Number.isInteger(drain) || drain < 0 || drain > 60) fail(key(k, "apiServerWatchDrainSeconds"), drain, "use a whole number of seconds from 0 to 60");

    const etcdMembers = members(key(k, "etcdMembers"), options.etcdMembers);

    const serviceCidr = cidr(key(k, "serviceCidr"), options.serviceCidr ?? NETWORK_DEFAULTS.serviceCidr);
    const svc = parseCidr(serviceCidr)!;
    const hostBits = (svc.family === 4 ? 32 : 128) - svc.prefix;
    if (hostBits > MAX_SERVICE_HOST_BITS) {
        fail(key(k, "serviceCidr"), serviceCidr, `use a range of at most ${MAX_SERVICE_HOST_BITS} host bits (prefix /${(svc.family === 4 ? 32 : 128) - MAX_SERVICE_HOST_BITS} or longer)`);
    }
    const podCidr = cidr(key(k, "podCidr"), options.podCidr ?? NETWORK_DEFAULTS.podCidr);
    if (parseCidr(podCidr)!.family !== svc.family) {
        fail(key(k, "podCidr"), podCidr, `use the same IP family as ${key(k, "serviceCidr")} (${serviceCidr})`);
    }
    if (cidrsOverlap(serviceCidr, podCidr)) {
        fail(key(k, "podCidr"), podCidr, `use a range that does not overlap ${key(k, "serviceCidr")} (${serviceCidr})`);
    }

    const clusterDomain = options.clusterDomain ?? NETWORK_DEFAULTS.clusterDomain;
    if (typeof clusterDomain !== "string" || clusterDomain.startsWith("*.") || !isDnsName(clusterDomain)) {
        fail(key(k, "clusterDomain"), clusterDomain, "use a DNS name such as cluster.local");
    }
    const serviceAccountIssuer = options.serviceAccountIssuer ?? `https://kubernetes.default.svc.${clusterDomain}`;
    httpsUrl(key(k, "serviceAccountIssuer"), serviceAccountIssuer);

    const clusterName = options.clusterName ?? NETWORK_DEFAULTS.clusterName;
    if (typeof clusterName !== "string" || !isDnsLabel(clusterName)) fail(key(k, "clusterName"), clusterName, "use a DNS label (lower-case letters, digits, '-')");

    return {
        advertiseAddress,
        apiServerBindAddress,
        controllerManagerBindAddress,
        schedulerBindAddress,
        ...ports,
        apiServerShutdownDelaySeconds: delay,
        apiServerWatchDrainSeconds: drain,
        etcdMembers,
        serviceCidr,
        podCidr,
        clusterDomain,
        serviceAccountIssuer,
        clusterName,
    };
}

function ip(k: string, value: unknown, unspecifiedOk: boolean): string {
    if (typeof value !== "string" || !isIp(value)) fail(k, value, "use an IPv4 or IPv6 address");
    if (!unspecifiedOk && (value === "0.0.0.0" || value === "::")) fail(k, value, "use the concrete address other hosts reach, not an unspecified address");
    return value;
}

function cidr(k: string, value: unknown): string {
    const c = typeof value === "string" ? parseCidr(value) : undefined;
    if (!c) fail(k, value, "use a CIDR such as 10.96.0.0/12");
    // A range with host bits set usually means a typo in the prefix; the binaries would silently mask it.
    if (c.hostBitsSet) fail(k, value, `use the network address of the range (${c.canonical})`);
    return c.canonical;
}

function members(k: string, value: unknown): ResolvedEtcdMember[] {
    if (!Array.isArray(value) || value.length === 0) fail(k, value, "list at least one etcd member as { name, ip }");
    const names = new Set<string>();
    const ips = new Set<string>();
    return value.map((m: EtcdMemberOptions, i) => {
        const mk = key(k, i);
        if (!isPlainObject(m)) fail(mk, m, "use { name, ip }");
        knownKeys(mk, m, ["name", "ip", "dataDir"]);
        // The name is written into --initial-cluster as "name=url,...", so it must stay a plain label.
        if (typeof m.name !== "string" || !isDnsLabel(m.name)) fail(key(mk, "name"), m.name, "use a DNS label (lower-case letters, digits, '-')");
        if (names.has(m.name)) fail(key(mk, "name"), m.name, "give every etcd member a unique name");
        names.add(m.name);
        const addr = ip(key(mk, "ip"), m.ip, false);
        // All members share one client and peer port, so two on one address would collide.
        if (ips.has(addr)) fail(key(mk, "ip"), addr, "give every etcd member its own address (members share the client and peer ports)");
        ips.add(addr);
        const out: ResolvedEtcdMember = { name: m.name, ip: addr };
        if (m.dataDir !== undefined) {
            if (typeof m.dataDir !== "string" || !m.dataDir.startsWith("/")) fail(key(mk, "dataDir"), m.dataDir, "use an absolute path");
            out.dataDir = m.dataDir;
        }
        return out;
    });
}

/** https URL without user info, query or fragment: what Kubernetes demands of token issuers. */
export function httpsUrl(k: string, value: unknown): string {
    const u = parseHttpsUrl(value);
    if (!u) fail(k, value, "use an https:// URL");
    if (u.username !== "" || u.password !== "" || u.search !== "" || u.hash !== "") {
        fail(k, value, "use an https:// URL without user info, query or fragment");
    }
    return value as string;
}

/** host:port with IPv6 literals bracketed, for URLs. */
export function hostPort(host: string, p: number): string {
    return isIP(host) === 6 ? `[${host}]:${p}` : `${host}:${p}`;
}
