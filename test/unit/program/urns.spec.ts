// The URNs the programs register, pinned. A URN is how the engine matches a program's resource to the one in
// the stack's state: change a resource's name, type or parent and the next `pulumi up` deletes the old one and
// creates a new one (for the local platform: files rewritten, processes restarted, etcd data at risk; in the
// cluster: namespaces and what they hold deleted). So any change to the set fails here, with the URNs added
// and removed, until it is either undone, covered by `aliases`, or accepted by regenerating the fixture:
//
//   UPDATE_URNS=1 TS_NODE_TRANSPILE_ONLY=true npx mocha test/unit/program/urns.spec.ts
//
// A rename already released is listed under its case (`renames`): the new URN must carry the old one as an alias,
// so dropping the alias fails here even though the fixture holds only current URNs.
//
// Each program runs in its own process (urns-run.ts) on the mock monitor, with the engine's URN rule. The
// blueprint runs as stack "local" with the configuration below and a FAKE toolchain (HC_TOOLCHAIN_DIR), so
// nothing is built, written or started. It uses the user layout: the system layout plans from /etc/kubernetes
// and /var/lib/etcd, so its result would depend on this machine (a system-layout stack's URNs, e.g. one marker
// per claimed directory, are not pinned here). The state directory is a fixed path that never exists, because
// the marker's resource name is made from it.
import { strict as assert } from "node:assert";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { fakeToolchain, projectDefaults, runInChild } from "./program-child";
import type { UrnRun } from "./urns-run";

const RUNNER = path.join(__dirname, "urns-run.ts");
const REGENERATE = "UPDATE_URNS=1 TS_NODE_TRANSPILE_ONLY=true npx mocha test/unit/program/urns.spec.ts";
const STATE_DIR = "/hc-urns-fixture/state";

/** One tenant with a role binding, one persona user: every kind of resource the local stack makes. */
function blueprintConfig(): Record<string, string> {
    return {
        ...projectDefaults((k) => `hardened-cluster:${k}`),
        "hardened-cluster:platform": "local",
        "hardened-cluster:local": JSON.stringify({ layout: "user", stateDir: STATE_DIR }),
        "hardened-cluster:pki": JSON.stringify({ users: [{ name: "alice", groups: ["team-a-devs"] }] }),
        "hardened-cluster:baseline": JSON.stringify({
            tenants: [{ name: "team-a", allowSameNamespace: true, roleBindings: { developer: [{ kind: "Group", name: "team-a-devs" }] } }],
        }),
    };
}

const EXAMPLE_CONFIG = {
    "baseline-existing-cluster:clusterStack": "organization/hardened-cluster/local",
    "baseline-existing-cluster:tenants": JSON.stringify([{ name: "team-a" }]),
};

interface Case {
    title: string;
    program: "blueprint" | "example";
    stack: string;
    fixture: string;
    note: string;
    renames?: { from: string; to: string }[];
}

// The local stack's single API server pair became the first control-plane node's ("control-plane").
const LOCAL_PKI = "urn:pulumi:local::hardened-cluster::hardened-cluster:local:LocalCluster$hardened-cluster:pki:ClusterPki$tls:index/";
const APISERVER_RENAMES = ["privateKey:PrivateKey", "certRequest:CertRequest", "locallySignedCert:LocallySignedCert"].map((t) => ({
    from: `${LOCAL_PKI}${t}::local-pki-apiserver`,
    to: `${LOCAL_PKI}${t}::local-pki-apiserver-control-plane`,
}));

const CASES: Case[] = [
    {
        title: "index.ts, local stack", program: "blueprint", stack: "local", fixture: "urns.local.txt",
        note: `index.ts as stack "local": platform local, layout user (stateDir ${STATE_DIR}), pki.users [alice], baseline.tenants [team-a]`,
        renames: APISERVER_RENAMES,
    },
    {
        title: "examples/baseline-existing-cluster", program: "example", stack: "dev", fixture: "urns.example.txt",
        note: "examples/baseline-existing-cluster as stack \"dev\": clusterStack set (a StackReference), tenants [team-a]",
    },
];

function runProgram(c: Case, config: Record<string, string>, tmp: string): UrnRun {
    return runInChild<UrnRun>(c.title, RUNNER, config, tmp, path.join(tmp, `${c.program}.json`), { HC_URNS_PROGRAM: c.program, HC_URNS_STACK: c.stack });
}

/** The fixture's URNs: one a line, `#` lines are its header. */
function readFixture(file: string): string[] {
    if (!existsSync(file)) return [];
    return readFileSync(file, "utf8").split("\n").filter((l) => l.trim() !== "" && !l.startsWith("#")).sort();
}

function writeFixture(file: string, c: Case, urns: string[]): void {
    const header = [
        `# Pinned URNs of ${c.note}.`,
        "# test/unit/program/urns.spec.ts fails when this set changes. Renaming, retyping or re-parenting a",
        "# resource that already exists in someone's stack needs `aliases` on that resource; regenerate this",
        "# file only for a deliberate change, and review its diff:",
        `#   ${REGENERATE}`,
    ];
    writeFileSync(file, [...header, ...urns, ""].join("\n"));
}

function diffMessage(c: Case, expected: string[], actual: string[]): string {
    const want = new Set(expected);
    const got = new Set(actual);
    const removed = expected.filter((u) => !got.has(u));
    const added = actual.filter((u) => !want.has(u));
    return [
        `${c.title}: the URNs differ from ${c.fixture} (${removed.length} removed, ${added.length} added):`,
        ...removed.map((u) => `  - ${u}`),
        ...added.map((u) => `  + ${u}`),
        "Renames after this point need `aliases` on the resource (e.g. { aliases: [{ name: \"<old name>\" }] }),",
        "or `pulumi up` replaces it in every existing stack. If the change is deliberate, regenerate the fixture:",
        `  ${REGENERATE}`,
    ].join("\n");
}

describe("program: pinned resource URNs", function () {
    this.timeout(300_000);
    let tmp: string;
    before(() => {
        tmp = mkdtempSync(path.join(tmpdir(), "hc-urns-"));
        fakeToolchain(path.join(tmp, "toolchain"));
    });
    after(() => rmSync(tmp, { recursive: true, force: true }));

    for (const c of CASES) {
        it(`${c.title}: registers exactly the URNs in ${c.fixture}`, function () {
            const config = c.program === "blueprint" ? blueprintConfig() : EXAMPLE_CONFIG;
            const run = runProgram(c, config, tmp);
            assert.equal(existsSync(STATE_DIR), false, `${STATE_DIR} was created`);
            assert.deepEqual(run.errors, [], `${c.title} failed on the mock engine`);
            assert.ok(run.urns.length > 0, `${c.title} registered nothing`);
            // The engine refuses a second resource with the same URN; the mock monitor does not.
            const dupes = run.urns.filter((u, i) => run.urns.indexOf(u) !== i);
            assert.deepEqual(dupes, [], `${c.title} registers a URN twice`);
            for (const { from, to } of c.renames ?? []) {
                assert.ok(run.urns.includes(to), `${to} is not registered`);
                assert.ok((run.aliases[to] ?? []).includes(from), `${to} does not alias ${from}: existing stacks would replace it`);
            }
            // An alias naming a URN the program still registers would tie two live resources to one state.
            const live = new Set(run.urns);
            const clashes = Object.entries(run.aliases).filter(([, former]) => former.some((u) => live.has(u)));
            assert.deepEqual(clashes, [], `${c.title}: an alias names a resource that still exists`);
            const actual = [...run.urns].sort();
            const fixture = path.join(__dirname, c.fixture);
            if (process.env.UPDATE_URNS === "1") {
                writeFixture(fixture, c, actual);
                return;
            }
            const expected = readFixture(fixture);
            assert.ok(expected.length > 0, `${c.fixture} is missing or empty; create it with: ${REGENERATE}`);
            if (expected.join("\n") !== actual.join("\n")) assert.fail(diffMessage(c, expected, actual));
        });
    }
});
