// `local.purgeOnDestroy` as a Pulumi resource: it does nothing while the stack lives and, when the stack is
// destroyed with the option on, deletes etcd's data and the audit logs. The processes depend on it, so it is
// deleted after they have stopped. Turning the option off is an update of this resource, never a delete, so
// no `up` can purge a running cluster.
//
// Removing a directory another user owns (etcd's data) is done as that user: root never walks a tree someone
// else can change under it. Serialized into the state like the other providers: helpers are methods.
import * as pulumi from "@pulumi/pulumi";

export interface PurgeState {
    enabled: boolean;
    dirs: string[];
}

export interface PurgeProvider extends pulumi.dynamic.ResourceProvider<PurgeState, PurgeState> {
    create(inputs: PurgeState): Promise<pulumi.dynamic.CreateResult<PurgeState>>;
    diff(id: string, olds: PurgeState, news: PurgeState): Promise<pulumi.dynamic.DiffResult>;
    update(id: string, olds: PurgeState, news: PurgeState): Promise<pulumi.dynamic.UpdateResult<PurgeState>>;
    delete(id: string, state: PurgeState): Promise<void>;
    /** Empties `dir` and removes it (or hands it back to the purging user when it is a mount point). */
    purge(dir: string): void;
}

const purgeProvider: PurgeProvider = {
    async create(inputs: PurgeState) {
        return { id: "purge", outs: { enabled: inputs.enabled, dirs: inputs.dirs } };
    },

    async diff(_id: string, olds: PurgeState, news: PurgeState) {
        const changes = olds.enabled !== news.enabled || JSON.stringify(olds.dirs) !== JSON.stringify(news.dirs);
        return { changes, replaces: [] };
    },

    async update(_id: string, _olds: PurgeState, news: PurgeState) {
        return { outs: { enabled: news.enabled, dirs: news.dirs } };
    },

    async delete(_id: string, state: PurgeState) {
        if (!state.enabled) return;
        for (const dir of state.dirs) purgeProvider.purge(dir);
    },

    purge(dir: string): void {
        const fs: typeof import("node:fs") = require("node:fs");
        const path: typeof import("node:path") = require("node:path");
        const cp: typeof import("node:child_process") = require("node:child_process");
        let st: import("node:fs").Stats;
        try {
            st = fs.lstatSync(dir);
        } catch {
            return;
        }
        if (!st.isDirectory()) throw new Error(`purge: ${dir} is not a directory; remove it by hand`);
        const me = typeof process.geteuid === "function" ? process.geteuid() : 0;
        const entries = fs.readdirSync(dir).map((e) => path.join(dir, e));
        if (st.uid !== me) {
            if (entries.length > 0) {
                const res = cp.spawnSync("rm", ["-rf", "--one-file-system", "--", ...entries], { uid: st.uid, gid: st.gid, encoding: "utf8" });
                if (res.status !== 0) throw new Error(`purge: could not empty ${dir} as uid ${st.uid}: ${res.stderr || res.error}`);
            }
        } else {
            for (const e of entries) fs.rmSync(e, { recursive: true, force: true });
        }
        // A data directory is often a mount point of its own (a dedicated etcd disk): emptied, it stays, and goes
        // back to the purging user, as a directory the next stack creates would be (it refuses to write as root
        // into one another user owns). Its parent is not writable by that user, so it cannot be swapped meanwhile.
        try {
            fs.rmdirSync(dir);
        } catch (e) {
            if (!(typeof e === "object" && e !== null && "code" in e && e.code === "EBUSY")) throw e;
            fs.lchownSync(dir, me, typeof process.getegid === "function" ? process.getegid() : 0);
            fs.chmodSync(dir, 0o700);
        }
    },
};

export class LocalPurge extends pulumi.dynamic.Resource {
    constructor(name: string, args: { enabled: pulumi.Input<boolean>; dirs: pulumi.Input<string[]> }, opts?: pulumi.CustomResourceOptions) {
        super(purgeProvider, name, args, opts, "hardened-cluster", "LocalPurge");
    }
}

// Exported after its declaration: methods then reference the local binding, which survives serialization
// (an `export const` would be reached through `exports`, which the serialized provider does not have).
export { purgeProvider };
