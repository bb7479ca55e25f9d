// A system user as a Pulumi resource (the system layout runs etcd as its own user, as CIS 1.1.12 expects).
// It is created if missing and removed on destroy only when this resource created it, so a host's own
// etcd user is never touched.
import * as pulumi from "@pulumi/pulumi";

interface UserState {
    name: string;
    createdHere: boolean;
}

interface UserInputs {
    name: string;
}

interface UserProvider extends pulumi.dynamic.ResourceProvider<UserInputs, UserState> {
    create(inputs: UserInputs): Promise<pulumi.dynamic.CreateResult<UserState>>;
    read(id: string, state?: UserState): Promise<pulumi.dynamic.ReadResult<UserState>>;
    diff(id: string, olds: UserState, news: UserInputs): Promise<pulumi.dynamic.DiffResult>;
    delete(id: string, state: UserState): Promise<void>;
}

const userProvider: UserProvider = {
    async create(inputs: UserInputs) {
        const cp: typeof import("node:child_process") = require("node:child_process");
        let createdHere = false;
        try {
            cp.execFileSync("id", ["-u", inputs.name], { stdio: "ignore" });
        } catch {
            cp.execFileSync("useradd", ["--system", "--user-group", "--no-create-home", "--home-dir", "/nonexistent",
                "--shell", "/usr/sbin/nologin", "--comment", "etcd (hardened-cluster)", inputs.name]);
            createdHere = true;
        }
        const state: UserState = { name: inputs.name, createdHere };
        return { id: inputs.name, outs: state };
    },

    async read(id: string, state?: UserState) {
        const cp: typeof import("node:child_process") = require("node:child_process");
        try {
            cp.execFileSync("id", ["-u", id], { stdio: "ignore" });
            // Without a state (an import), the user was there before: never ours to remove.
            return { id, props: state ?? { name: id, createdHere: false } };
        } catch {
            return { id: "" };
        }
    },

    async diff(_id: string, olds: UserState, news: UserInputs) {
        const changes = olds.name !== news.name;
        return { changes, replaces: changes ? ["name"] : [], deleteBeforeReplace: true };
    },

    async delete(id: string, state: UserState) {
        if (!state.createdHere) return;
        const cp: typeof import("node:child_process") = require("node:child_process");
        try {
            cp.execFileSync("userdel", [id], { stdio: "ignore" });
        } catch {
            // Already gone.
        }
    },
};

export class SystemUser extends pulumi.dynamic.Resource {
    declare readonly name: pulumi.Output<string>;

    constructor(name: string, args: { name: pulumi.Input<string> }, opts?: pulumi.CustomResourceOptions) {
        super(userProvider, name, { name: args.name, createdHere: undefined }, opts, "hardened-cluster", "SystemUser");
    }
}
