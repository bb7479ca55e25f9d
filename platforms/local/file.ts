// A file on this machine as a Pulumi resource: written atomically with its mode (and owner, when running as
// root), read back on refresh so a deleted or edited file is restored, removed on delete. Its `sha256`
// output feeds the digest of every process that reads it, so a changed file restarts exactly those.
// The content is a secret input whenever it holds key material: the state keeps it encrypted.
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
}

export type FileInputs = { [K in keyof FileSpec]: pulumi.Input<FileSpec[K]> };

const fileProvider: pulumi.dynamic.ResourceProvider = {
    async create(spec: FileSpec) {
        const sha256: string = (fileProvider as any).write(spec);
        return { id: spec.path, outs: (fileProvider as any).outs(spec, sha256) };
    },

    async read(id: string, state: FileSpec & { sha256: string }) {
        const fs = require("node:fs");
        const crypto = require("node:crypto");
        try {
            const st = fs.statSync(id);
            const sha256 = crypto.createHash("sha256").update(fs.readFileSync(id)).digest("hex");
            // A drifted file reports its live hash and mode, so the next up rewrites it.
            return { id, props: { ...state, sha256, mode: st.mode & 0o7777 } };
        } catch {
            return { id: "" };
        }
    },

    async diff(_id: string, olds: FileSpec & { sha256: string }, news: FileSpec) {
        const crypto = require("node:crypto");
        const changed: string[] = [];
        if (olds.path !== news.path) changed.push("path");
        if (olds.mode !== news.mode) changed.push("mode");
        if (olds.owner !== news.owner) changed.push("owner");
        if (olds.dirMode !== news.dirMode) changed.push("dirMode");
        const sha256 = crypto.createHash("sha256").update((fileProvider as any).bytes(news)).digest("hex");
        if (olds.sha256 !== sha256) changed.push("content");
        return { changes: changed.length > 0, replaces: changed.includes("path") ? ["path"] : [], deleteBeforeReplace: true };
    },

    async update(_id: string, _olds: FileSpec, news: FileSpec) {
        const sha256: string = (fileProvider as any).write(news);
        return { outs: (fileProvider as any).outs(news, sha256) };
    },

    async delete(id: string) {
        require("node:fs").rmSync(id, { force: true });
    },

    // The content stays out of the outputs: only its hash is needed to notice a change. Unset fields are
    // left out, not undefined: the engine's protobuf encoding has no undefined.
    outs(spec: FileSpec, sha256: string) {
        const outs: Record<string, unknown> = { path: spec.path, mode: spec.mode, sha256 };
        if (spec.dirMode !== undefined) outs.dirMode = spec.dirMode;
        if (spec.owner !== undefined) outs.owner = spec.owner;
        return outs;
    },

    bytes(spec: FileSpec): Buffer | string {
        return spec.source !== undefined ? require("node:fs").readFileSync(spec.source) : spec.content ?? "";
    },

    write(spec: FileSpec): string {
        const fs = require("node:fs");
        const path = require("node:path");
        const crypto = require("node:crypto");
        const cp = require("node:child_process");
        // Ancestors are traversable but not listable (0711), so a process running as another user (etcd) can
        // reach its own directory; only the file's own directory gets dirMode, and the file's owner when created here.
        const dir = path.dirname(spec.path);
        if (!fs.existsSync(dir)) {
            fs.mkdirSync(path.dirname(dir), { recursive: true, mode: 0o711 });
            try {
                fs.mkdirSync(dir, { mode: spec.dirMode ?? 0o700 });
                fs.chmodSync(dir, spec.dirMode ?? 0o700);
                if (spec.owner && process.getuid && process.getuid() === 0) cp.execFileSync("chown", [spec.owner, dir]);
            } catch (e: any) {
                if (e.code !== "EEXIST") throw e;
            }
        }
        // Written under a temporary name with its final mode, then renamed: no reader ever sees a partial
        // file or a key with looser permissions.
        const tmp = `${spec.path}.tmp-${process.pid}`;
        const bytes = (fileProvider as any).bytes(spec);
        fs.writeFileSync(tmp, bytes, { mode: spec.mode });
        fs.chmodSync(tmp, spec.mode);
        if (spec.owner && process.getuid && process.getuid() === 0) cp.execFileSync("chown", [spec.owner, tmp]);
        fs.renameSync(tmp, spec.path);
        return crypto.createHash("sha256").update(bytes).digest("hex");
    },
} as pulumi.dynamic.ResourceProvider;

export class LocalFile extends pulumi.dynamic.Resource {
    declare readonly path: pulumi.Output<string>;
    declare readonly sha256: pulumi.Output<string>;

    constructor(name: string, args: FileInputs, opts?: pulumi.CustomResourceOptions) {
        super(fileProvider, name, { ...args, sha256: undefined }, { ...opts, additionalSecretOutputs: ["content"] }, "hardened-cluster", "LocalFile");
    }
}
