// A file on this machine as a Pulumi resource: written atomically with its mode (and owner, when running as
// root), read back on refresh so a deleted or edited file is restored, removed on delete. Its `sha256`
// output feeds the digest of every process that reads it, so a changed file restarts exactly those.
// The content is a secret input whenever it holds key material: the state keeps it encrypted.
//
// Running as root, every write must be immune to another local user (etcd above all) who could plant a
// symlink or swap a directory: the provider writes only into directories the running user owns that nobody
// else can write, down a chain of directories nobody else can change; the temporary file has a random name,
// is created with O_CREAT|O_EXCL|O_NOFOLLOW, gets its mode and owner on the descriptor, then is renamed in.
// Like the process provider, it is serialized into the state: helpers are methods, modules are required inside.
import * as pulumi from "@pulumi/pulumi";

export interface FileSpec {
    path: string;
    /** The file's content; or, with `source`, copy that file (e.g. a binary) instead. */
    content?: string;
    source?: string;
    /** File mode, e.g. 0o600 for keys and kubeconfigs. */
    mode: number;
    /** Mode of directories this resource creates. */
    dirMode?: number;
    /** "user:group" to chown to (only honoured when running as root). */
    owner?: string;
    /** "user:group" of the file's directory when this resource creates it (root only; default the running user). */
    dirOwner?: string;
}

export type FileInputs = { [K in keyof FileSpec]: pulumi.Input<FileSpec[K]> };

/** What the state keeps: never the content, only its hash. */
export interface FileState {
    path: string;
    mode: number;
    sha256: string;
    dirMode?: number;
    owner?: string;
    dirOwner?: string;
}

type Ids = { uid: number; gid: number };
type Fs = typeof import("node:fs");
type Stats = import("node:fs").Stats;

export interface FileProvider extends pulumi.dynamic.ResourceProvider<FileSpec, FileState> {
    create(spec: FileSpec): Promise<pulumi.dynamic.CreateResult<FileState>>;
    read(id: string, state?: FileState): Promise<pulumi.dynamic.ReadResult<FileState>>;
    diff(id: string, olds: FileState, news: FileSpec): Promise<pulumi.dynamic.DiffResult>;
    update(id: string, olds: FileState, news: FileSpec): Promise<pulumi.dynamic.UpdateResult<FileState>>;
    delete(id: string, state: FileState): Promise<void>;
    outs(spec: FileSpec, sha256: string): FileState;
    bytes(spec: FileSpec): Buffer | string;
    write(spec: FileSpec): string;
    already(file: string, sha256: string, mode: number, owner?: Ids): boolean;
    ids(spec: string): Ids;
    trustedDir(dir: string, mode: number, dirOwner?: Ids, ancestorsOnly?: boolean, create?: boolean): string;
    errorCode(e: unknown): string | undefined;
}

const fileProvider: FileProvider = {
    async create(spec: FileSpec) {
        const sha256: string = fileProvider.write(spec);
        return { id: spec.path, outs: fileProvider.outs(spec, sha256) };
    },

    async read(id: string, state?: FileState) {
        if (!state) return { id: "" };
        const fs: Fs = require("node:fs");
        const crypto: typeof import("node:crypto") = require("node:crypto");
        let fd: number;
        try {
            fd = fs.openSync(id, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
        } catch (e) {
            // A symlink (ELOOP) where the file should be is drift, to be replaced by the next up, never followed.
            if (fileProvider.errorCode(e) === "ELOOP") return { id, props: { ...state, sha256: "not-a-regular-file" } };
            return { id: "" };
        }
        try {
            const st = fs.fstatSync(fd);
            if (!st.isFile()) return { id, props: { ...state, sha256: "not-a-regular-file" } };
            const sha256 = crypto.createHash("sha256").update(fs.readFileSync(fd)).digest("hex");
            // A drifted file reports its live hash and mode, so the next up rewrites it.
            return { id, props: { ...state, sha256, mode: st.mode & 0o7777 } };
        } finally {
            fs.closeSync(fd);
        }
    },

    async diff(_id: string, olds: FileState, news: FileSpec) {
        const crypto: typeof import("node:crypto") = require("node:crypto");
        const changed: string[] = [];
        for (const k of ["path", "mode", "owner", "dirMode", "dirOwner"] as const) if (olds[k] !== news[k]) changed.push(k);
        const sha256 = crypto.createHash("sha256").update(fileProvider.bytes(news)).digest("hex");
        if (olds.sha256 !== sha256) changed.push("content");
        return { changes: changed.length > 0, replaces: changed.includes("path") ? ["path"] : [], deleteBeforeReplace: true };
    },

    async update(_id: string, _olds: FileState, news: FileSpec) {
        const sha256: string = fileProvider.write(news);
        return { outs: fileProvider.outs(news, sha256) };
    },

    async delete(id: string, _state: FileState) {
        // unlink removes the name only; it never follows a symlink planted there.
        const fs: Fs = require("node:fs");
        fs.rmSync(id, { force: true });
    },

    // The content stays out of the outputs: only its hash is needed to notice a change. Unset fields are
    // left out, not undefined: the engine's protobuf encoding has no undefined.
    outs(spec: FileSpec, sha256: string): FileState {
        const outs: FileState = { path: spec.path, mode: spec.mode, sha256 };
        if (spec.dirMode !== undefined) outs.dirMode = spec.dirMode;
        if (spec.owner !== undefined) outs.owner = spec.owner;
        if (spec.dirOwner !== undefined) outs.dirOwner = spec.dirOwner;
        return outs;
    },

    bytes(spec: FileSpec): Buffer | string {
        const fs: Fs = require("node:fs");
        return spec.source !== undefined ? fs.readFileSync(spec.source) : spec.content ?? "";
    },

    write(spec: FileSpec): string {
        const self = fileProvider;
        const fs: Fs = require("node:fs");
        const path: typeof import("node:path") = require("node:path");
        const crypto: typeof import("node:crypto") = require("node:crypto");
        const root = typeof process.geteuid === "function" && process.geteuid() === 0;
        const owner = root && spec.owner ? self.ids(spec.owner) : undefined;
        const dirOwner = root && spec.dirOwner ? self.ids(spec.dirOwner) : undefined;
        const bytes = self.bytes(spec);
        const sha256 = crypto.createHash("sha256").update(bytes).digest("hex");
        // A file already as wanted (a marker kept by an earlier destroy, in a directory etcd now owns) needs no write.
        if (self.already(spec.path, sha256, spec.mode, owner)) return sha256;
        const dir: string = self.trustedDir(path.dirname(path.resolve(spec.path)), spec.dirMode ?? 0o700, dirOwner);
        const target = path.join(dir, path.basename(spec.path));
        // A fresh random name that must not exist: nobody can have prepared it, and a symlink there is an error.
        const tmp = path.join(dir, `.${path.basename(spec.path)}.${crypto.randomBytes(12).toString("hex")}.tmp`);
        const c = fs.constants;
        const fd = fs.openSync(tmp, c.O_WRONLY | c.O_CREAT | c.O_EXCL | c.O_NOFOLLOW, 0o600);
        try {
            const buf = typeof bytes === "string" ? Buffer.from(bytes) : bytes;
            for (let off = 0; off < buf.length;) off += fs.writeSync(fd, buf, off, buf.length - off);
            // Mode and owner go on the descriptor, so they land on the file just created, whatever its name now is.
            if (owner) fs.fchownSync(fd, owner.uid, owner.gid);
            fs.fchmodSync(fd, spec.mode);
            fs.fsyncSync(fd);
            fs.closeSync(fd);
            fs.renameSync(tmp, target);
        } catch (e) {
            try { fs.closeSync(fd); } catch { /* closed already */ }
            fs.rmSync(tmp, { force: true });
            throw e;
        }
        return sha256;
    },

    /** Whether a regular file (never a symlink) with this content, mode and owner is at `file` already. */
    already(file: string, sha256: string, mode: number, owner?: { uid: number; gid: number }): boolean {
        const fs: Fs = require("node:fs");
        const crypto: typeof import("node:crypto") = require("node:crypto");
        let fd: number;
        try {
            fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
        } catch {
            return false;
        }
        try {
            const st = fs.fstatSync(fd);
            if (!st.isFile() || (st.mode & 0o7777) !== mode || st.nlink !== 1) return false;
            if (owner ? st.uid !== owner.uid || st.gid !== owner.gid : st.uid !== (process.geteuid?.() ?? st.uid)) return false;
            return crypto.createHash("sha256").update(fs.readFileSync(fd)).digest("hex") === sha256;
        } finally {
            fs.closeSync(fd);
        }
    },

    /** "user:group" to numeric ids, from the system's user and group databases. */
    ids(spec: string): { uid: number; gid: number } {
        const cp: typeof import("node:child_process") = require("node:child_process");
        const [user, group] = spec.split(":");
        const uid = Number(cp.execFileSync("id", ["-u", "--", user], { encoding: "utf8" }).trim());
        const gid = group
            ? Number(cp.execFileSync("getent", ["group", "--", group], { encoding: "utf8" }).split(":")[2])
            : Number(cp.execFileSync("id", ["-g", "--", user], { encoding: "utf8" }).trim());
        if (!Number.isInteger(uid) || !Number.isInteger(gid)) throw new Error(`cannot resolve owner ${spec}`);
        return { uid, gid };
    },

    /**
     * Returns the real path of `dir` after checking that nobody but root and the running user can change any
     * directory on the way to it, creating what is missing. Ancestors must be owned by root or the running user
     * and writable by nobody else, except a sticky directory such as /tmp: there only an entry's owner may
     * rename it, so an entry owned by us stays ours. The directory itself must be owned by the running user
     * and writable by nobody else. Anything else is refused: writing there could be redirected. With
     * `create` false it only checks what exists (the configuration check, before any resource).
     */
    trustedDir(dir: string, mode: number, dirOwner?: { uid: number; gid: number }, ancestorsOnly = false, create = true): string {
        const fs: Fs = require("node:fs");
        const path: typeof import("node:path") = require("node:path");
        const me = typeof process.geteuid === "function" ? process.geteuid() : 0;
        const parts = dir.split("/").filter(Boolean);
        let cur = "/";
        const check = (p: string, st: Stats, leaf: boolean) => {
            if (!st.isDirectory()) throw new Error(`${p} is not a directory; refusing to write below it`);
            if (leaf && st.uid !== me) throw new Error(`${p} is owned by uid ${st.uid}, not by uid ${me}; refusing to write into it`);
            if (st.uid !== 0 && st.uid !== me) throw new Error(`${p} is owned by uid ${st.uid}, not by root or uid ${me}; refusing to write below it`);
            const othersWrite = (st.mode & 0o022) !== 0;
            if (othersWrite && (leaf || (st.mode & 0o1000) === 0)) {
                throw new Error(`${p} is writable by group or others (mode ${(st.mode & 0o7777).toString(8)}); refusing to write ${leaf ? "into" : "below"} it`);
            }
        };
        check(cur, fs.lstatSync(cur), parts.length === 0 && !ancestorsOnly);
        for (let i = 0; i < parts.length; i++) {
            const leaf = i === parts.length - 1 && !ancestorsOnly;
            let next = path.join(cur, parts[i]);
            let st: Stats;
            try {
                st = fs.lstatSync(next);
            } catch (e) {
                // Checking only: what does not exist yet will be created, and checked, by the write itself.
                const code = fileProvider.errorCode(e);
                if (code === "ENOENT" && !create) return path.join(cur, ...parts.slice(i));
                if (code !== "ENOENT" || ancestorsOnly) throw e;
                try {
                    fs.mkdirSync(next, { mode: leaf ? mode : 0o711 });
                    fs.chmodSync(next, leaf ? mode : 0o711);
                    if (leaf && dirOwner) fs.lchownSync(next, dirOwner.uid, dirOwner.gid);
                } catch (e2) {
                    if (fileProvider.errorCode(e2) !== "EEXIST") throw e2;
                }
                st = fs.lstatSync(next);
            }
            if (st.isSymbolicLink()) {
                // A symlink is as trustworthy as whoever could have made it: root or us, in a directory checked above.
                if (st.uid !== 0 && st.uid !== me) throw new Error(`${next} is a symlink owned by uid ${st.uid}; refusing to follow it`);
                const real = fs.realpathSync(next);
                fileProvider.trustedDir(real, 0o711, undefined, true);
                next = real;
                st = fs.lstatSync(next);
            }
            check(next, st, leaf);
            cur = next;
        }
        return cur;
    },

    errorCode(e: unknown): string | undefined {
        return typeof e === "object" && e !== null && "code" in e ? String(e.code) : undefined;
    },
};

export class LocalFile extends pulumi.dynamic.Resource {
    declare readonly path: pulumi.Output<string>;
    declare readonly sha256: pulumi.Output<string>;

    constructor(name: string, args: FileInputs, opts?: pulumi.CustomResourceOptions) {
        super(fileProvider, name, { ...args, sha256: undefined }, { ...opts, additionalSecretOutputs: ["content"] }, "hardened-cluster", "LocalFile");
    }
}

// Exported after its declaration: methods then reference the local binding, which survives serialization
// (an `export const` would be reached through `exports`, which the serialized provider does not have).
export { fileProvider };
