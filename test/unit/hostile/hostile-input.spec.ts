// Every hostile input of every key family, replayed through the same loader the program uses: each one is
// refused naming the exact key, or accepted with its weakening named. None may pass silently.
import { strict as assert } from "node:assert";
import { planStack } from "../../../platforms";
import { NAMESPACE } from "../../../config";
import { rejects } from "../config-error";
import { rows as controlPlane } from "./control-plane.rows";
import { rows as local } from "./local.rows";
import { rows as network } from "./network.rows";
import { HostileRow } from "./row";
import { rows as rbac } from "./rbac.rows";

const families: Record<string, HostileRow[]> = { controlPlane, local, network, rbac };

function asPulumiConfig(config: Record<string, unknown>): Record<string, string> {
    const all: Record<string, string> = {};
    for (const [k, v] of Object.entries(config)) all[`${NAMESPACE}:${k}`] = typeof v === "string" ? v : JSON.stringify(v);
    return all;
}

describe("hostile input: every family is refused or named", () => {
    const all = Object.values(families).flat();
    it("covers at least 60 inputs, each either refused or weakening", () => {
        assert.ok(all.length >= 60, `only ${all.length} rows`);
        for (const r of all) assert.ok(!!r.rejects !== !!r.weakens, `${r.name}: exactly one of rejects/weakens`);
    });
    for (const [family, list] of Object.entries(families)) {
        describe(family, () => {
            for (const row of list) {
                it(row.name, () => {
                    const load = () => planStack(asPulumiConfig(row.config), row.stack ?? "local", { isRoot: row.isRoot ?? true }).config;
                    if (row.rejects) return rejects(load, row.rejects.key, row.rejects.mentions);
                    const named = JSON.stringify(row.weakens!.posture(load()));
                    assert.ok(named.includes(row.weakens!.named), `posture does not name ${row.weakens!.named}: ${named}`);
                });
            }
        });
    }
});
