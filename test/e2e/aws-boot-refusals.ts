// The boot drill's refusals: every way the fetch script must stop, each leaving the node's previous files.
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { FETCH_UNIT } from "../../platforms/aws/secrets";
import { CloudConfig, fetchedPaths, fetchScript, StagedBinary, stagedBinaries, StagedFile, stagedFiles } from "./aws-node";
import { BIN, Boot, BootDrill, OnDisk, binariesOn, cloudConfigOf, filesOn } from "./aws-boot-drill";

/** Registers the refusal cases; the fetch cases ran first, so cp-0 holds its files. */
export function refusalCases(d: BootDrill): void {
    describe("refusals: the node stops, names the cause and keeps its previous files", () => {
        let cc: CloudConfig;
        let root: string;
        let stages: StagedFile[];
        let bins: StagedBinary[];
        let kept: OnDisk[];

        before(() => {
            cc = cloudConfigOf(d.run, "aws-cp-cp-0");
            root = path.join(d.tmp, "nodes", "cp-0");
            stages = stagedFiles(d.scriptOf(cc));
            assert.ok(stages.length > 2, stages.map((f) => f.parameter).join(" "));
            kept = filesOn(root);
            assert.ok(kept.length > 0, "cp-0 was fetched above");
            bins = stagedBinaries(d.scriptOf(cc));
            assert.ok(bins.length > 2, bins.map((b) => b.path).join(" "));
        });

        // Each refusal is on the second parameter the script stages, after the first has been staged with a new
        // value: a file replaced before the refusal would show.
        /** The first parameter the script stages, with a new value: a replaced file would show. */
        const changeFirst = () => d.put(d.param(stages[0].parameter), { Value: `${d.param(stages[0].parameter).value}# changed\n`, Overwrite: true });
        const second = () => d.param(stages[1].parameter);
        function refused(r: Boot, cause: RegExp): void {
            assert.equal(r.status, 1, r.stdout + r.stderr);
            assert.match(r.stderr, cause);
            assert.match(r.stderr, /no file was replaced and nothing that needs them will start/);
            assert.doesNotMatch(r.stdout, /in place/);
            assert.deepEqual(filesOn(root), kept);
            assert.deepEqual(fs.readdirSync(root + BIN).filter((f) => f.startsWith(".fetch.")), []);
        }
        /** Makes the node's copy of a binary stale (one byte more), so the fetch must download it; returns the undo. */
        function stale(b: StagedBinary): () => void {
            const file = root + b.path;
            const size = fs.statSync(file).size;
            fs.appendFileSync(file, "x");
            return () => fs.truncateSync(file, size);
        }

        afterEach(() => d.ssm([d.put(d.param(stages[0].parameter), { Overwrite: true })]));

        it("a missing parameter", () => {
            d.ssm([changeFirst(), d.remove(second())]);
            try {
                refused(d.boot(root, d.scriptOf(cc)), new RegExp(`cannot read ${second().name}: .*ParameterNotFound`));
            } finally {
                d.ssm([d.put(second())]);
            }
        });

        it("a parameter encrypted with another KMS key", () => {
            d.ssm([changeFirst(), d.put(second(), { KeyId: d.otherKey, Overwrite: true })]);
            try {
                refused(d.boot(root, d.scriptOf(cc)), new RegExp(`${second().name} is encrypted with ${d.otherKey}, not the cluster key ${d.clusterKey}`));
            } finally {
                d.ssm([d.put(second(), { Overwrite: true })]);
            }
        });

        it("a parameter stored as plain String", () => {
            const { KeyId: _none, ...plainString } = d.put(second(), { Type: "String", Tier: "Standard" });
            d.ssm([changeFirst(), d.remove(second()), plainString]);
            try {
                refused(d.boot(root, d.scriptOf(cc)), new RegExp(`${second().name} is a String parameter, not a SecureString`));
            } finally {
                d.ssm([d.remove(second()), d.put(second())]);
            }
        });

        it("a secret file mode looser than 0640 in the script", () => {
            d.ssm([changeFirst()]);
            const script = d.scriptOf(cc);
            const line = stages[1].line;
            const loose = line.replace(/ 0[0-7]{3}( |$)/, " 0644$1");
            assert.notEqual(loose, line);
            refused(d.boot(root, script.replace(line, loose)), /would be mode 0644; a secret file may be 0600 or 0640 at most/);
        });

        it("a secret file's directory that another user can write", () => {
            d.ssm([changeFirst()]);
            const target = stages[1].path;
            const dir = root + path.dirname(target);
            const mode = fs.statSync(dir).mode & 0o7777;
            fs.chmodSync(dir, 0o777);
            try {
                refused(d.boot(root, d.scriptOf(cc)), new RegExp(`${path.dirname(target)} is owned by uid 0 with mode 777; the directories of what this fetches must be root's alone`));
            } finally {
                fs.chmodSync(dir, mode);
            }
        });

        it("a binary object whose bytes are not what the stack published", () => {
            const undo = stale(bins[0]);
            const before = binariesOn(root);
            d.s3([d.upload(d.objectOf(bins[0]), "#!/bin/sh\necho planted\n")]);
            try {
                refused(d.boot(root, d.scriptOf(cc)), new RegExp(`s3://\\S+/${bins[0].key} has SHA-256 [0-9a-f]{64}, not ${bins[0].sha256} as the stack published it`));
                assert.deepEqual(binariesOn(root), before, "the stale copy stays");
            } finally {
                d.s3([d.upload(d.objectOf(bins[0]))]);
                undo();
            }
        });

        it("a missing binary object, after another binary downloaded and checked", () => {
            const undo = [stale(bins[0]), stale(bins[1])];
            const before = binariesOn(root);
            d.s3([{ call: "delete_object", Bucket: d.objectOf(bins[1]).bucket, Key: bins[1].key }]);
            try {
                refused(d.boot(root, d.scriptOf(cc)), new RegExp(`cannot read s3://\\S+/${bins[1].key}: .*(NoSuchKey|Not Found|404)`));
                assert.deepEqual(binariesOn(root), before, "the first binary was downloaded and checked, and still not put in place");
            } finally {
                d.s3([d.upload(d.objectOf(bins[1]))]);
                undo.forEach((u) => u());
            }
        });

        it("and nothing that reads the files starts without them: each such unit, and each timer's service, requires the fetch", () => {
            const fetched = fetchedPaths(cc);
            const services = cc.write_files.filter((f) => /^\/etc\/systemd\/system\/.*\.service$/.test(f.path));
            const timers = cc.write_files.filter((f) => f.path.endsWith(".timer")).map((f) => f.path.replace(/\.timer$/, ".service"));
            const binaries = stagedBinaries(fetchScript(cc)).map((b) => b.path);
            const units = services.filter((u) => timers.includes(u.path) || [...fetched, ...binaries].some((p) => u.content.includes(p)));
            // etcd, the apiserver, the controller manager, the scheduler and the serving-certificate approver run
            // fetched binaries and name fetched files, the KMS plugin runs one; three timers run scripts (the
            // backup's calls etcdctl and etcdutl; the sync runs the fetch again).
            assert.equal(units.length, 9, units.map((u) => u.path).join(" "));
            for (const u of units) {
                const line = (k: string) => (u.content.match(new RegExp(`^${k}=(.*)$`, "m"))?.[1] ?? "").split(" ");
                // systemd.unit(5): with Requires= and After=, a unit is not started when the unit it requires fails.
                assert.ok(line("Requires").includes(FETCH_UNIT) && line("After").includes(FETCH_UNIT), `${u.path}\n${u.content}`);
            }
            const enabled = cc.runcmd.filter((c) => c[0] === "systemctl" && c[1] === "enable").map((c) => c[3]);
            assert.equal(enabled[0], FETCH_UNIT, enabled.join(" "));
        });
    });
}
