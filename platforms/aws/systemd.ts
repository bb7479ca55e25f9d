// systemd unit files from a structured object. The AWS program's renderers produce argv arrays; the quoting that
// turns an argv into an ExecStart line lives here, once, so a value with a space, a quote, a "%" or a "$"
// reaches the process exactly as rendered.
import { fail, key } from "../../components/common";

/** A service the caller wants on a node; execStart is argv, e.g. ["/usr/local/bin/etcd", "--name=cp-0"]. */
export interface UnitSpec {
    name: string;
    description: string;
    execStart: string[];
    user?: string;
    after?: string[];
    /** Variables for the process; a value may use systemd's specifiers, e.g. %H for the host name. */
    environment?: Record<string, string>;
    /** Commands run before ExecStart, in order; one that fails stops the start unless it may fail. */
    execStartPre?: { argv: string[]; mayFail?: boolean }[];
}

/** A key given more than once, one line each (ExecStartPre, Environment). */
export interface Repeated { each: string[] }
type Value = string | number | boolean | string[] | Repeated;
export interface UnitFile {
    Unit: Record<string, Value>;
    /** Every unit here is a service, except a timer, which has Timer instead. */
    Service?: Record<string, Value>;
    Timer?: Record<string, Value>;
    Install?: Record<string, Value>;
}

/**
 * systemd's sandbox for a service that needs no privilege beyond reading what root may read: nothing written
 * outside its own directories, no devices, kernel tunables or modules, no set-uid, no capabilities.
 */
export const CONFINED_SERVICE: Readonly<Record<string, Value>> = {
    NoNewPrivileges: true,
    ProtectSystem: "strict",
    ProtectHome: true,
    PrivateTmp: true,
    PrivateDevices: true,
    ProtectKernelTunables: true,
    ProtectKernelModules: true,
    ProtectControlGroups: true,
    RestrictSUIDSGID: true,
    LockPersonality: true,
    CapabilityBoundingSet: "",
};

const UNIT_NAME = /^[a-zA-Z0-9:_.@-]+\.(service|socket|target|mount|timer|path)$/;
const SERVICE_NAME = /^[a-z0-9][a-z0-9_.@-]*$/;
export const USER_NAME = /^[a-z_][a-z0-9_-]{0,31}$/;

/** One argv element as systemd's ExecStart parser reads it back. */
export function quoteArg(arg: string): string {
    if (/[\n\r\0]/.test(arg)) throw new Error(`quoteArg: a newline or NUL cannot be passed on an ExecStart line: ${JSON.stringify(arg)}`);
    // "%" starts a specifier and "$" an environment expansion in every ExecStart word, quoted or not.
    const escaped = arg.replace(/%/g, "%%").replace(/\$/g, "$$$$");
    if (escaped !== "" && !/[\s"'\\;]/.test(escaped)) return escaped;
    return `"${escaped.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
}

export function execLine(argv: readonly string[]): string {
    return argv.map(quoteArg).join(" ");
}

function renderValue(v: Value): string[] {
    if (typeof v === "object" && !Array.isArray(v)) return v.each;
    if (Array.isArray(v)) return v.length === 0 ? [] : [v.join(" ")];
    if (typeof v === "boolean") return [v ? "yes" : "no"];
    return [String(v)];
}

export function renderUnit(u: UnitFile): string {
    const sections: [string, Record<string, Value> | undefined][] = [["Unit", u.Unit], ["Service", u.Service], ["Timer", u.Timer], ["Install", u.Install]];
    return sections
        .filter(([, body]) => body !== undefined)
        .map(([name, body]) => [`[${name}]`, ...Object.entries(body!).flatMap(([k, v]) => renderValue(v).map((s) => `${k}=${s}`))].join("\n"))
        .join("\n\n") + "\n";
}

/** Checks a caller's unit spec; k is the error path, e.g. "aws.controlPlane(cp-0).units[1]". */
export function checkUnitSpec(k: string, u: UnitSpec): void {
    if (typeof u.name !== "string" || !SERVICE_NAME.test(u.name) || /\.(service|socket|target|mount|timer|path)$/.test(u.name)) fail(key(k, "name"), u.name, "use a unit name such as \"kube-apiserver\" (without .service)");
    if (typeof u.description !== "string" || u.description.length === 0 || /[\r\n]/.test(u.description)) {
        fail(key(k, "description"), u.description, "use a one-line description");
    }
    if (!Array.isArray(u.execStart) || u.execStart.length === 0 || !u.execStart.every((a) => typeof a === "string")) {
        fail(key(k, "execStart"), u.execStart, "use an argv list of strings, binary first");
    }
    if (!/^\/[A-Za-z0-9._/-]+$/.test(u.execStart[0])) fail(key(k, "execStart", 0), u.execStart[0], "the binary must be an absolute path");
    u.execStart.forEach((a, i) => {
        if (/[\n\r\0]/.test(a)) fail(key(k, "execStart", i), a, "arguments cannot contain newlines");
    });
    if (u.user !== undefined && (typeof u.user !== "string" || !USER_NAME.test(u.user) || u.user === "root")) {
        fail(key(k, "user"), u.user, "use a non-root system user name (omit it only for units that must run as root)");
    }
    (u.after ?? []).forEach((a, i) => {
        if (typeof a !== "string" || !UNIT_NAME.test(a)) fail(key(k, "after", i), a, "use a full unit name such as \"etcd.service\"");
    });
    for (const [name, value] of Object.entries(u.environment ?? {})) {
        if (!ENV_NAME.test(name)) fail(key(k, "environment"), name, "use a variable name of capitals, digits and '_'");
        if (typeof value !== "string" || !ENV_VALUE.test(value)) fail(key(k, "environment", name), value, "use letters, digits and . _ : / @ % - only (no spaces or quotes)");
    }
    (u.execStartPre ?? []).forEach((c, i) => {
        const ck = key(k, "execStartPre", i);
        if (!Array.isArray(c?.argv) || c.argv.length === 0 || !c.argv.every((a) => typeof a === "string" && !/[\n\r\0]/.test(a))) fail(key(ck, "argv"), c?.argv, "use an argv list of one-line strings, binary first");
        if (!/^\/[A-Za-z0-9._/-]+$/.test(c.argv[0])) fail(key(ck, "argv", 0), c.argv[0], "the binary must be an absolute path");
    });
}

const ENV_NAME = /^[A-Z_][A-Z0-9_]*$/;
const ENV_VALUE = /^[A-Za-z0-9._:/@%-]*$/;

/**
 * A long-running service. A unit with its own user (etcd, the apiserver, the controllers) is sandboxed: it
 * keeps its files and the network and loses new privileges, other users' homes, a shared /tmp and write
 * access to cgroups and kernel modules. A unit without a user runs as root because it manages the host
 * (the kubelet mounts volumes and drives cgroups), and the same sandbox would break exactly that.
 */
export function serviceUnit(u: UnitSpec, requires: readonly string[] = []): UnitFile {
    const after = ["network-online.target", ...requires, ...(u.after ?? [])];
    const env = Object.entries(u.environment ?? {});
    const pre = u.execStartPre ?? [];
    const service: Record<string, Value> = {
        Type: "simple",
        ...(env.length > 0 ? { Environment: { each: env.map(([n, v]) => `${n}=${v}`) } } : {}),
        // systemd.service(5): a "-" before the path lets the command fail without failing the start.
        ...(pre.length > 0 ? { ExecStartPre: { each: pre.map((c) => `${c.mayFail ? "-" : ""}${execLine(c.argv)}`) } } : {}),
        ExecStart: execLine(u.execStart),
        Restart: "always",
        RestartSec: 5,
        LimitNOFILE: 1048576,
    };
    if (u.user !== undefined) {
        Object.assign(service, {
            User: u.user,
            NoNewPrivileges: true,
            ProtectHome: true,
            PrivateTmp: true,
            ProtectKernelModules: true,
            ProtectControlGroups: true,
            RestrictSUIDSGID: true,
            LockPersonality: true,
        });
    }
    return {
        Unit: {
            Description: u.description,
            Wants: ["network-online.target"],
            ...(requires.length > 0 ? { Requires: [...requires] } : {}),
            After: unique(after),
        },
        Service: service,
        Install: { WantedBy: "multi-user.target" },
    };
}

/** The unit wants `other` and starts after it (systemd.unit(5): Wants= alone orders nothing). */
export function wantsAfter(unit: UnitFile, other: string): UnitFile {
    const list = (v: unknown) => (Array.isArray(v) ? v.map(String) : v === undefined ? [] : [String(v)]);
    const add = (v: unknown) => [...list(v).filter((x) => x !== other), other];
    return { ...unit, Unit: { ...unit.Unit, Wants: add(unit.Unit.Wants), After: add(unit.Unit.After) } };
}

function unique(xs: string[]): string[] {
    return xs.filter((x, i) => xs.indexOf(x) === i);
}
