// Several local files as one Pulumi resource: the files of a node bundle that restart the same processes.
// Each file is written exactly as LocalFile writes it (the same provider method: trusted directories only,
// O_EXCL|O_NOFOLLOW temporary file, mode and owner on the descriptor, rename), but the engine handles one
// resource instead of one per file, which is most of what an `up` spends on the local platform. The state
// keeps each file's hash, never its content; `sha256` changes whenever any file does, so the processes that
// read the set restart exactly when one of its files changes.
//
// Serialized into the state like the other providers: it reaches LocalFile's provider through the captured
// binding, and its own helpers are methods.
import * as pulumi from "@pulumi/pulumi";
import { FileSpec, FileState, fileProvider } from "./file";

export interface FileSetSpec {
    files: FileSpec[];
}

export interface FileSetState {
    files: FileState[];
    /** Digest of every file's hash, in path order. */
    sha256: string;
}

export type FileSetInputs = { files: pulumi.Input<pulumi.Input<FileSpec>[]> };

interface FileSetProvider extends pulumi.dynamic.ResourceProvider<FileSetSpec, FileSetState> {
    create(spec: FileSetSpec): Promise<pulumi.dynamic.CreateResult<FileSetState>>;
    read(id: string, state?: FileSetState): Promise<pulumi.dynamic.ReadResult<FileSetState>>;
    diff(id: string, olds: FileSetState, news: FileSetSpec): Promise<pulumi.dynamic.DiffResult>;
    update(id: string, olds: FileSetState, news: FileSetSpec): Promise<pulumi.dynamic.UpdateResult<FileSetState>>;
    delete(id: string, state: FileSetState): Promise<void>;
    writeAll(files: FileSpec[]): FileSetState;
    digest(files: FileState[]): string;
    sorted(files: FileSpec[]): FileSpec[];
}

const fileSetProvider: FileSetProvider = {
    async create(spec: FileSetSpec) {
        const state = fileSetProvider.writeAll(spec.files);
        return { id: state.files.map((f) => f.path).join(","), outs: state };
    },

    async read(id: string, state?: FileSetState) {
        if (!state) return { id: "" };
        // A missing or edited file reports a hash that differs, so the next up rewrites the set.
        const files: FileState[] = [];
        for (const f of state.files) {
            const live = await fileProvider.read(f.path, f);
            files.push(live.id === "" || live.props === undefined ? { ...f, sha256: "missing" } : live.props);
        }
        return { id, props: { files, sha256: fileSetProvider.digest(files) } };
    },

    async diff(_id: string, olds: FileSetState, news: FileSetSpec) {
        const wanted = fileSetProvider.sorted(news.files);
        const oldByPath = new Map(olds.files.map((f) => [f.path, f]));
        let changes = wanted.length !== olds.files.length;
        for (const f of wanted) {
            const old = oldByPath.get(f.path);
            if (old === undefined || (await fileProvider.diff(f.path, old, f)).changes) changes = true;
        }
        return { changes, replaces: [], deleteBeforeReplace: true };
    },

    async update(_id: string, olds: FileSetState, news: FileSetSpec) {
        const state = fileSetProvider.writeAll(news.files);
        const kept = new Set(state.files.map((f) => f.path));
        for (const f of olds.files) if (!kept.has(f.path)) await fileProvider.delete(f.path, f);
        return { outs: state };
    },

    async delete(_id: string, state: FileSetState) {
        for (const f of state.files) await fileProvider.delete(f.path, f);
    },

    writeAll(files: FileSpec[]): FileSetState {
        const written = fileSetProvider.sorted(files).map((f) => fileProvider.outs(f, fileProvider.write(f)));
        return { files: written, sha256: fileSetProvider.digest(written) };
    },

    digest(files: FileState[]): string {
        const crypto: typeof import("node:crypto") = require("node:crypto");
        return crypto.createHash("sha256").update(files.map((f) => `${f.path}\0${f.mode}\0${f.owner ?? ""}\0${f.sha256}`).join("\n")).digest("hex");
    },

    sorted(files: FileSpec[]): FileSpec[] {
        return [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    },
};

export class LocalFileSet extends pulumi.dynamic.Resource {
    declare readonly sha256: pulumi.Output<string>;

    constructor(name: string, args: FileSetInputs, opts?: pulumi.CustomResourceOptions) {
        super(fileSetProvider, name, { ...args, sha256: undefined }, opts, "hardened-cluster", "LocalFileSet");
    }
}

export { fileSetProvider };
