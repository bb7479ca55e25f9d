import { strict as assert } from "node:assert";
import { FlagMap, RenderedControlPlane, toArgs } from "../../../components/control-plane";
import { GUARDS } from "../../../components/control-plane/guards";
import { auditView, Target } from "./bench";
import { Break, CIS_ROWS, CisRow, SCORED_IDS } from "./cis-table";
import { LAYOUT, render } from "./fixtures";

const COMPONENT: Record<Target, "apiServer" | "controllerManager" | "scheduler" | "etcd" | "kubelet"> = {
    apiserver: "apiServer",
    controllermanager: "controllerManager",
    scheduler: "scheduler",
    etcd: "etcd",
    kubelet: "kubelet",
};

function renderFor(row: CisRow): RenderedControlPlane {
    if (row.variant === "kubeletServingFiles") {
        return render({ kubelet: { servingCert: { certFile: `${LAYOUT.pkiDir}/kubelet-serving.crt`, keyFile: `${LAYOUT.pkiDir}/kubelet-serving.key` } } });
    }
    return render();
}

function describeBreak(b: Break): string {
    if ("all" in b) return b.all.map(describeBreak).join(" and ");
    if ("flag" in b) return b.value === undefined ? `without --${b.flag}` : `with --${b.flag}=${b.value}`;
    return b.value === undefined ? `without ${b.path}` : `with ${b.path}: ${JSON.stringify(b.value)}`;
}

function applyBreak(r: RenderedControlPlane, target: Target, b: Break): RenderedControlPlane {
    if ("all" in b) return b.all.reduce((acc, one) => applyBreak(acc, target, one), r);
    const out = structuredClone(r);
    if ("flag" in b) {
        const change = (flags: FlagMap) => {
            if (b.value === undefined) delete flags[b.flag];
            else flags[b.flag] = b.value;
            return toArgs(flags);
        };
        const c = COMPONENT[target];
        if (c === "etcd") out.etcd.forEach((m) => (m.args = change(m.flags)));
        else out[c].args = change(out[c].flags);
        return out;
    }
    const parts = b.path.split(".");
    let obj = out.files.kubeletConfig as Record<string, unknown>;
    for (const p of parts.slice(0, -1)) obj = obj[p] as Record<string, unknown>;
    const last = parts[parts.length - 1];
    if (b.value === undefined) delete obj[last];
    else obj[last] = b.value;
    return out;
}

describe("control plane: CIS Kubernetes Benchmark v1.12 (kube-bench cis-1.12)", () => {
    for (const row of CIS_ROWS) {
        const label = `${row.id} ${row.title}${row.scored ? "" : " (manual)"}${row.variant ? ` [${row.variant}]` : ""}`;
        it(label, () => {
            const view = auditView(row.target, renderFor(row));
            const seen = row.reads.map(([item, path]) => `${item}${path ? ` (or ${path})` : ""} = ${view.item(item, path)}`);
            assert.ok(row.pass(view), `CIS ${row.id} (${row.title}) fails on the defaults; read ${seen.join(", ")}`);
        });
    }

    describe("each check rejects a setting that breaks it", () => {
        for (const row of CIS_ROWS) {
            for (const b of row.breaks) {
                it(`${row.id} fails ${describeBreak(b)}`, () => {
                    const view = auditView(row.target, applyBreak(renderFor(row), row.target, b));
                    assert.equal(row.pass(view), false, `CIS ${row.id} still passes ${describeBreak(b)}`);
                });
            }
        }
    });

    it("has a row for every scored check of sections 1.2, 1.3, 1.4, 2 and 4.2, and no other scored rows", () => {
        const expected = Object.values(SCORED_IDS).flat().sort();
        const scoredRows = CIS_ROWS.filter((r) => r.scored).map((r) => r.id).sort();
        assert.deepEqual(scoredRows, expected);
        assert.equal(expected.length, 41);
    });

    it("has one row per check id", () => {
        const ids = CIS_ROWS.map((r) => r.id);
        assert.deepEqual([...new Set(ids)], ids);
    });

    it("cites in the hardening guards only checks the table knows", () => {
        const known = new Set(CIS_ROWS.map((r) => r.id));
        const cited = Object.values(GUARDS).flatMap((gs) => gs.flatMap((g) => g.cis));
        assert.deepEqual(cited.filter((id) => !known.has(id)), []);
        // The guards decide every scored check, so an override can never slip one past validation.
        const scored = Object.values(SCORED_IDS).flat();
        assert.deepEqual(scored.filter((id) => !cited.includes(id)), []);
    });

    it("2.7 etcd trusts its own CA, not the cluster CA the API server trusts for clients", () => {
        const r = render();
        const etcdCa = r.etcd[0].flags["trusted-ca-file"];
        assert.notEqual(etcdCa, r.apiServer.flags["client-ca-file"]);
        assert.equal(r.etcd[0].flags["peer-trusted-ca-file"], etcdCa);
        assert.equal(r.apiServer.flags["etcd-cafile"], etcdCa);
        assert.ok(etcdCa.startsWith(`${LAYOUT.etcdPkiDir}/`), etcdCa);
    });
});
