// What the AWS program hands a node: systemd units (argv from the shared renderers) and files, each either inline
// (public material only) or a reference to an SSM parameter fetched at boot. Checked here before any resource
// exists, including the rule that a node may only reference parameters its own role can read.
import * as pulumi from "@pulumi/pulumi";
import { fail, key } from "../../components/common";
import { FETCH_UNIT, FetchedFile, MAX_PUBLIC_MODE, MAX_SECRET_MODE, mayRead } from "./secrets";
import { checkUnitSpec, serviceUnit, UnitSpec, USER_NAME } from "./systemd";
import { CloudConfigSpec, findSecretMaterial, InlineFile } from "./userdata";

export interface NodeFile {
    path: string;
    /** Full parameter name from secretParameters(); the file is fetched at boot. */
    ssmParameter?: string;
    /** Non-secret content only (certificates, configs without keys); it ends up in user data. */
    content?: pulumi.Input<string>;
    mode: number;
    /** "user" or "user:group"; default root. */
    owner?: string;
    /** With ssmParameter: public material (a certificate or trust bundle), fetched so a new version reaches a running node; may be 0644. */
    public?: boolean;
    /** With ssmParameter: this node's units to restart when a sync replaces the file (readers that do not reload it). */
    restarts?: string[];
    /** A kubeconfig whose certificate-authority-data is the cluster's trust bundle: the node reports its CAs (report.ts). */
    embedsClusterCa?: boolean;
}

export interface NodeSoftware {
    units: UnitSpec[];
    files: NodeFile[];
}

/** The node's file whose path ends with `suffix`, for `purpose` (named when there is none). */
export function fileEnding(node: string, software: NodeSoftware, suffix: string, purpose: string): string {
    const f = software.files.find((x) => x.path.endsWith(suffix))?.path;
    if (!f) throw new Error(`${node}: no file ending ${suffix} for ${purpose}`);
    return f;
}

const PATH = /^\/[A-Za-z0-9._/-]+$/;
const OWNER = /^[a-z_][a-z0-9_-]{0,31}(:[a-z_][a-z0-9_-]{0,31})?$/;

/**
 * k: error path of this node's software; readPrefixes: what its role may read; planned: parameter names the
 * component will create; reserved: unit names the platform adds itself.
 */
export function checkNodeSoftware(k: string, s: NodeSoftware, readPrefixes: readonly string[], planned: ReadonlySet<string>, reserved: readonly string[]): void {
    if (!s || !Array.isArray(s.units) || !Array.isArray(s.files)) fail(k, s, "use { units: [...], files: [...] }");
    const names = new Map<string, number>();
    s.units.forEach((u, i) => {
        const uk = key(k, "units", i);
        checkUnitSpec(uk, u);
        if (reserved.includes(u.name)) fail(key(uk, "name"), u.name, "this unit is added by the AWS platform itself");
        if (names.has(u.name)) fail(key(uk, "name"), u.name, `already used by ${key(k, "units", names.get(u.name)!)}`);
        names.set(u.name, i);
    });
    const paths = new Map<string, number>();
    s.files.forEach((f, i) => {
        const fk = key(k, "files", i);
        if (typeof f.path !== "string" || !PATH.test(f.path) || f.path.includes("/../") || f.path.endsWith("/")) {
            fail(key(fk, "path"), f.path, "use an absolute file path of letters, digits, '.', '_', '-' and '/'");
        }
        if (paths.has(f.path)) fail(key(fk, "path"), f.path, `already written by ${key(k, "files", paths.get(f.path)!)}`);
        paths.set(f.path, i);
        if (!Number.isInteger(f.mode) || f.mode < 0 || f.mode > 0o7777) fail(key(fk, "mode"), f.mode, "use a file mode such as 0o600");
        if (f.owner !== undefined && (typeof f.owner !== "string" || !OWNER.test(f.owner))) fail(key(fk, "owner"), f.owner, "use \"user\" or \"user:group\"");
        if ((f.ssmParameter === undefined) === (f.content === undefined)) fail(fk, f.path, "set exactly one of ssmParameter (secrets) or content (public material)");
        if (f.public !== undefined && (typeof f.public !== "boolean" || f.ssmParameter === undefined)) fail(key(fk, "public"), f.public, "use true only with ssmParameter (a fetched certificate)");
        if (f.restarts !== undefined) {
            if (f.ssmParameter === undefined || !Array.isArray(f.restarts)) fail(key(fk, "restarts"), f.restarts, "use a list of this node's unit names, only with ssmParameter");
            f.restarts.forEach((u, j) => {
                if (!names.has(u)) fail(key(fk, "restarts", j), u, `not one of this node's units: ${[...names.keys()].join(", ")}`);
            });
        }
        if (f.ssmParameter !== undefined) {
            if (f.public) {
                if ((f.mode & ~MAX_PUBLIC_MODE) !== 0) fail(key(fk, "mode"), `0${f.mode.toString(8)}`, "a fetched public file may be 0644 at most");
            } else {
                // Fetched secrets are keys and credentials: owner-only, as CIS 1.1.x and 4.1.x want them.
                // A group may read one only when the owner names it (etcd reads its keys through its group, root:etcd 0640).
                const groupNamed = typeof f.owner === "string" && f.owner.includes(":") && !f.owner.endsWith(":root");
                if ((f.mode & ~MAX_SECRET_MODE) !== 0 || ((f.mode & 0o040) !== 0 && !groupNamed)) {
                    fail(key(fk, "mode"), `0${f.mode.toString(8)}`, "secret files must be readable by their owner only (0600), or also by the group the owner names (0640)");
                }
            }
            if (!mayRead(readPrefixes, f.ssmParameter)) {
                fail(key(fk, "ssmParameter"), f.ssmParameter, `this node's role may read only ${readPrefixes.map((p) => `${p}/*`).join(", ")}`);
            }
            if (!planned.has(f.ssmParameter)) fail(key(fk, "ssmParameter"), f.ssmParameter, "no such parameter is planned; add it to secrets (see secretParameters())");
        }
        if (typeof f.content === "string") {
            const found = findSecretMaterial(f.content);
            if (found.length > 0) fail(key(fk, "content"), "[redacted]", `looks like ${found.join(", ")}; secrets go to SSM (ssmParameter), never into user data`);
        }
    });
}

function userOf(owner: string | undefined): string | undefined {
    const u = owner?.split(":")[0];
    return u && u !== "root" ? u : undefined;
}

/** System users the units and files need. */
export function systemUsers(s: NodeSoftware, extra: readonly string[] = []): string[] {
    const users = [...extra, ...s.units.map((u) => u.user), ...s.files.map((f) => userOf(f.owner))].filter((u): u is string => !!u && USER_NAME.test(u));
    return users.filter((u, i) => users.indexOf(u) === i);
}

function ownerWithGroup(owner: string | undefined): string {
    if (!owner) return "root:root";
    return owner.includes(":") ? owner : `${owner}:${owner}`;
}

export function fetchedFiles(s: NodeSoftware): FetchedFile[] {
    return s.files.filter((f) => f.ssmParameter !== undefined).map((f) => ({
        path: f.path, parameter: f.ssmParameter!, mode: f.mode, owner: ownerWithGroup(f.owner),
        ...(f.public ? { public: true } : {}), ...(f.restarts?.length ? { restarts: [...f.restarts] } : {}),
    }));
}

/** Inline files once their content is known. */
export function inlineFiles(s: NodeSoftware, contents: readonly string[]): InlineFile[] {
    return s.files.filter((f) => f.content !== undefined).map((f, i) => ({
        path: f.path,
        content: contents[i],
        permissions: `0${f.mode.toString(8).padStart(3, "0")}`,
        owner: ownerWithGroup(f.owner),
    }));
}

export function inlineContents(s: NodeSoftware): pulumi.Input<string>[] {
    return s.files.filter((f) => f.content !== undefined).map((f) => f.content!);
}

/** The caller's units, each required to start after the secrets are on disk (plus any per-unit requirements). */
export function callerUnits(s: NodeSoftware, requires: Readonly<Record<string, readonly string[]>> = {}): CloudConfigSpec["units"] {
    return s.units.map((u) => ({ name: u.name, unit: serviceUnit(u, [FETCH_UNIT, ...(requires[u.name] ?? [])]) }));
}
