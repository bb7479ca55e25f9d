// A system user as a Pulumi resource (the system layout runs etcd as its own user, as CIS 1.1.12 expects).
// It is created if missing and removed on destroy only when this resource created it, so a host's own
// etcd user is never touched.
import * as pulumi from "@pulumi/pulumi";

interface UserState {
    name: string;
    createdHere: boolean;
}

const userProvider: pulumi.dynamic.ResourceProvider = {
    async create(inputs: { name: string }) {
        const cp = require("node:child_process");
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

    async read(id: string, state: UserState) {
        const cp = require("node:child_process");
        try {
            cp.execFileSync("id", ["-u", id], { stdio: "ignore" });
            return { id, props: state };
        } catch {
            return { id: "" };
        }
    },

    async diff(_id: string, olds: UserState, news: { name: string }) {
        const changes = olds.name !== news.name;
        return { changes, replaces: changes ? ["name"] : [], deleteBeforeReplace: true };
    },

    async delete(id: string, state: UserState) {
        if (!state.createdHere) return;
        const cp = require("node:child_process");
        try {
            cp.execFileSync("userdel", [id], { stdio: "ignore" });
        } catch {
            // Already gone.
        }
    },
} as pulumi.dynamic.ResourceProvider;

export class SystemUser extends pulumi.dynamic.Resource {
    declare readonly name: pulumi.Output<string>;

    constructor(name: string, args: { name: pulumi.Input<string> }, opts?: pulumi.CustomResourceOptions) {
        super(userProvider, name, { name: args.name, createdHere: undefined }, opts, "hardened-cluster", "SystemUser");
    }
}
