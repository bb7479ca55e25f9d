// The rendered fetch script's sync, run for real with bash against stand-ins for the AWS CLI (parameters kept as
// files: version, type, key and value) and systemctl (records its calls, fails when told to). Paths are moved
// under a directory of root's, since the script refuses to write below any directory another user can write.
import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { FETCHED_VERSIONS, FetchedFile, PENDING_RESTARTS, renderFetchScript } from "../../../platforms/aws/secrets";

const KEY = "arn:aws:kms:eu-west-1:123456789012:key/cluster";
const STATE_DIR = path.dirname(FETCHED_VERSIONS);

// get-parameter-history answers "VERSION TYPE KEY" quoted, as --output json prints the joined string;
// get-parameter the value; get-parameters "NAME<tab>VERSION" per name, as --output text prints them.
const FAKE_AWS = `#!/bin/bash
store=$FAKE_STORE
file() { echo "$store/$(echo "$1" | tr / _)"; }
op=$2; shift 2
# Which value-reading calls were made, for which name.
[ "$op" = get-parameters ] || { a=("$@"); for i in "\${!a[@]}"; do [ "\${a[i]}" = --name ] && echo "$op \${a[i+1]%:*}" >> "$store/aws-calls"; done; }
case "$op" in
  get-parameter-history)
    while [ "$1" != --name ]; do shift; done
    [ -f "$(file "$2")" ] || { echo "ParameterNotFound: $2" >&2; exit 254; }
    echo "\\"$(head -1 "$(file "$2")")\\"" ;;
  get-parameter)
    while [ "$1" != --name ]; do shift; done
    tail -n +2 "$(file "\${2%:*}")" ;;
  get-parameters)
    while [ "$1" != --names ]; do shift; done
    shift
    while [ "$1" != --query ]; do
      [ -f "$(file "$1")" ] && printf '%s\\t%s\\n' "$1" "$(head -1 "$(file "$1")" | cut -d' ' -f1)"
      shift
    done ;;
esac
`;
const FAKE_SYSTEMCTL = `#!/bin/bash
echo "$*" >> "$FAKE_STORE/calls"
[ ! -e "$FAKE_STORE/fail-$3" ]
`;

describe("aws: the sync on a running node (the rendered script, stand-ins for aws and systemctl)", function () {
    this.timeout(60_000);
    let dir: string;
    let store: string;
    let files: FetchedFile[];
    let script: string;

    const put = (name: string, version: number, value: string, type = "SecureString", key = KEY) =>
        fs.writeFileSync(path.join(store, name.replace(/\//g, "_")), `${version} ${type} ${key}\n${value}\n`);
    const run = (...args: string[]) => {
        fs.rmSync(path.join(store, "calls"), { force: true });
        const r = spawnSync("bash", ["-c", script, "fetch", ...args], {
            encoding: "utf8", env: { PATH: `${path.join(dir, "bin")}:${process.env.PATH}`, FAKE_STORE: store },
        });
        const calls = fs.existsSync(path.join(store, "calls")) ? fs.readFileSync(path.join(store, "calls"), "utf8").trim().split("\n") : [];
        return { status: r.status, out: r.stdout, err: r.stderr, calls };
    };
    const onDisk = (p: string) => fs.readFileSync(path.join(dir, p), "utf8");

    before(() => {
        assert.equal(process.getuid?.(), 0, "the script refuses directories that are not root's: run this as root (npm test does)");
        // /run is root's and 0755 all the way up, as the script requires of every directory it writes under.
        dir = fs.mkdtempSync("/run/hc-sync-");
        store = path.join(dir, "store");
        fs.mkdirSync(store);
        fs.mkdirSync(path.join(dir, "bin"));
        fs.writeFileSync(path.join(dir, "bin", "aws"), FAKE_AWS, { mode: 0o755 });
        fs.writeFileSync(path.join(dir, "bin", "systemctl"), FAKE_SYSTEMCTL, { mode: 0o755 });
        files = [
            { path: `${dir}/etc/pki/apiserver.crt`, parameter: "/c/cp-0/apiserver.crt", mode: 0o644, public: true, restarts: ["kube-apiserver"] },
            { path: `${dir}/etc/pki/etcd-server.key`, parameter: "/c/cp-0/etcd-server.key", mode: 0o600, restarts: ["etcd"] },
            { path: `${dir}/etc/pki/sa.key`, parameter: "/c/control-plane/sa.key", mode: 0o600, restarts: ["kube-controller-manager", "kube-apiserver"] },
            { path: `${dir}/etc/encryption.yaml`, parameter: "/c/control-plane/encryption.yaml", mode: 0o600 },
        ];
        const rendered = renderFetchScript("eu-west-1", KEY, files, undefined, ["etcd", "kube-apiserver", "kube-controller-manager"]);
        assert.ok(rendered.includes(STATE_DIR));
        script = rendered.split(STATE_DIR).join(path.join(dir, "state"));
        files.forEach((f, i) => put(f.parameter, 1, `value ${i} v1`));
        const boot = run();
        assert.equal(boot.status, 0, boot.err);
        assert.deepEqual(boot.calls, []);
    });

    after(() => {
        if (dir) fs.rmSync(dir, { recursive: true, force: true });
    });

    it("with no newer version anywhere, lists the versions and stops: nothing fetched, replaced or restarted", () => {
        const st = fs.statSync(path.join(dir, "state", path.basename(FETCHED_VERSIONS)));
        assert.deepEqual([st.mode & 0o7777, st.uid], [0o600, 0]);
        const r = run("--sync");
        assert.equal(r.status, 0, r.err);
        assert.match(r.out, /sync found no new parameter version; nothing replaced or restarted/);
        assert.deepEqual(r.calls, []);
    });

    it("replaces only the file whose value changed and restarts its readers in the node's unit order", () => {
        put(files[2].parameter, 2, "value 2 v2");
        // A new version with the same value (a re-put) changes nothing on the node.
        put(files[1].parameter, 2, "value 1 v1");
        const r = run("--sync");
        assert.equal(r.status, 0, r.err);
        assert.deepEqual(r.out.split("\n").filter((l) => l.includes("replaced /")), [`hardened-cluster-fetch: replaced ${files[2].path}`]);
        assert.deepEqual(r.calls, ["try-restart -- kube-apiserver.service", "try-restart -- kube-controller-manager.service"]);
        assert.equal(onDisk("etc/pki/sa.key"), "value 2 v2\n");
        assert.equal((fs.statSync(files[2].path).mode & 0o7777), 0o600);
        assert.equal((fs.statSync(files[0].path).mode & 0o7777), 0o644);
        assert.match(run("--sync").out, /no new parameter version/);
    });

    it("keeps a unit whose restart failed for the next sync, which restarts it though no file changes again", () => {
        put(files[1].parameter, 3, "value 1 v3");
        fs.writeFileSync(path.join(store, "fail-etcd.service"), "");
        const failed = run("--sync");
        assert.equal(failed.status, 1);
        assert.match(failed.err, /etcd\.service did not restart; its new files are in place/);
        assert.equal(onDisk("etc/pki/etcd-server.key"), "value 1 v3\n");
        assert.deepEqual(fs.readFileSync(path.join(dir, "state", path.basename(PENDING_RESTARTS)), "utf8").trim().split("\n"), ["etcd"]);
        fs.rmSync(path.join(store, "fail-etcd.service"));
        const retried = run("--sync");
        assert.equal(retried.status, 0, retried.err);
        assert.match(retried.out, /sync replaced 0 files and restarted 1 units: etcd/);
        assert.deepEqual(retried.calls, ["try-restart -- etcd.service"]);
        assert.ok(!fs.existsSync(path.join(dir, "state", path.basename(PENDING_RESTARTS))));
        assert.match(run("--sync").out, /no new parameter version/);
    });

    it("restarts, at the next sync, the readers of files a sync killed right after renaming them had not restarted", () => {
        // mv as the script's renames call it; told to, it kills the script once it put sa.key in place.
        fs.writeFileSync(path.join(dir, "bin", "mv"), `#!/bin/bash\n/bin/mv "$@" || exit\nif [ -e "$FAKE_STORE/kill-after-mv" ] && [[ "\${@: -1}" == */sa.key ]]; then rm -f "$FAKE_STORE/kill-after-mv"; kill -9 $PPID; fi\n`, { mode: 0o755 });
        try {
            fs.writeFileSync(path.join(store, "kill-after-mv"), "");
            put(files[2].parameter, 4, "value 2 v4");
            const killed = run("--sync");
            assert.equal(killed.status, null, "killed");
            assert.equal(onDisk("etc/pki/sa.key"), "value 2 v4\n");
            assert.deepEqual(killed.calls, []);
            assert.deepEqual(fs.readFileSync(path.join(dir, "state", path.basename(PENDING_RESTARTS)), "utf8").trim().split("\n").sort(), ["kube-apiserver", "kube-controller-manager"]);
            // The next sync finds sa.key equal to its new value, replaces nothing, and still restarts its readers.
            const next = run("--sync");
            assert.equal(next.status, 0, next.err);
            assert.deepEqual(next.calls, ["try-restart -- kube-apiserver.service", "try-restart -- kube-controller-manager.service"]);
            assert.match(next.out, /sync replaced 0 files and restarted 2 units/);
            assert.match(run("--sync").out, /no new parameter version/);
        } finally {
            fs.rmSync(path.join(dir, "bin", "mv"));
        }
    });

    it("reads only the parameters with a new version, and fetches again a file whose mode drifted though its version did not", () => {
        const reads = () => {
            const f = path.join(store, "aws-calls");
            const out = fs.existsSync(f) ? fs.readFileSync(f, "utf8").trim().split("\n") : [];
            fs.rmSync(f, { force: true });
            return out;
        };
        reads();
        put(files[3].parameter, 2, "value 3 v2");
        const one = run("--sync");
        assert.equal(one.status, 0, one.err);
        assert.deepEqual(reads(), [`get-parameter-history ${files[3].parameter}`, `get-parameter ${files[3].parameter}`]);
        assert.equal(onDisk("etc/encryption.yaml"), "value 3 v2\n");
        assert.deepEqual(one.calls, []);
        // Someone loosened a key's mode: the next sync reads that parameter alone and puts the file right.
        fs.chmodSync(files[1].path, 0o644);
        const drift = run("--sync");
        assert.equal(drift.status, 0, drift.err);
        assert.deepEqual(reads(), [`get-parameter-history ${files[1].parameter}`, `get-parameter ${files[1].parameter}`]);
        assert.equal(fs.statSync(files[1].path).mode & 0o7777, 0o600);
        assert.deepEqual(drift.calls, ["try-restart -- etcd.service"]);
        assert.match(run("--sync").out, /no new parameter version/);
        assert.deepEqual(reads(), []);
    });

    it("refuses a new version that is not a SecureString under the cluster key, replacing and restarting nothing", () => {
        const before = onDisk("etc/pki/apiserver.crt");
        const saKey = onDisk("etc/pki/sa.key");
        put(files[0].parameter, 4, "planted", "SecureString", "arn:aws:kms:eu-west-1:123456789012:key/someone-else");
        put(files[2].parameter, 5, "value 2 v5");
        const r = run("--sync");
        assert.equal(r.status, 1);
        assert.match(r.err, /\/c\/cp-0\/apiserver\.crt is encrypted with .*someone-else, not the cluster key.*; no file was replaced and nothing restarted/);
        assert.deepEqual(r.calls, []);
        assert.equal(onDisk("etc/pki/apiserver.crt"), before);
        assert.equal(onDisk("etc/pki/sa.key"), saKey);
        // Until it is put right, every sync refuses again rather than skipping it as already seen.
        assert.equal(run("--sync").status, 1);
    });

    it("takes no argument but --sync", () => {
        const r = run("--now");
        assert.equal(r.status, 2);
        assert.match(r.err, /unknown argument --now/);
    });
});
