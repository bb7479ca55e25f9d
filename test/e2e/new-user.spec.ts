// The README's Quick start, typed as a new user types it: a fresh clone of this checkout's HEAD, `npm ci && npm
// start` with a fresh HOME, no terminal and no passphrase in the environment, then the kubectl line `npm start`
// printed, then `npm run pulumi -- destroy -s local --yes`. Once as root (system layout) and once as a
// throwaway unprivileged user (user layout) that has no cloud-init, systemd-analyze or sshd and cannot read
// /root. Each `npm start` runs in the clone's own scripts/sandbox.sh with a private network namespace, so the
// default ports can never meet a developer's stack, and kubeadm's paths are scratch mounts private to the run.
// Only the toolchain is shared, by its version key, as a read-only bind mount (nothing may rebuild or write it).
import { strict as assert } from "node:assert";
import { execFileSync, spawnSync, SpawnSyncOptions } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parse } from "yaml";
import { KubeBenchCheck, kubeBenchChecks } from "../../platforms/local/kube-bench";
import { repoRoot, toolchain } from "./harness";
import { USER_LAYOUT_ROOT_ONLY } from "./kube-bench-run";

const BINARIES = ["pulumi-resource-pulumi-nodejs", "pulumi-resource-tls", "pulumi-resource-random", "pulumi-resource-kubernetes",
    "etcd", "etcdctl", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubectl", "kube-bench",
    // The default stack's worker, as root.
    "kubelet", "kube-proxy", "kube-router", "containerd", "containerd-shim-runc-v2", "runc", "hc-registry", "hc-csr-approver"];
// The README's defaults; nothing else may listen once the stack is destroyed.
const DEFAULT_PORTS = [6443, 2379, 2380, 10257, 10259];
// Kubernetes' initial namespaces ("Namespaces" in the Kubernetes docs), plus the stack file's tenants below.
const INITIAL_NAMESPACES = ["default", "kube-node-lease", "kube-public", "kube-system"];
// Only the AWS tests need these; the unprivileged run must succeed without them.
const AWS_ONLY_TOOLS = ["cloud-init", "systemd-analyze", "sshd"];

interface Owner { uid: number; gid: number; name: string }

/** What one run left in its results directory (written by the steps script below, inside the namespaces). */
interface Outcome {
    uid: string;
    hostTools: string[];
    startRc: number;
    startLog: string;
    kubectlLine: string;
    kubectlRc: number;
    kubectlOut: string;
    /** `kubectl get nodes --no-headers` with the printed line's kubeconfig. */
    nodesOut: string;
    kubeBench: KubeBenchCheck[];
    destroyRc: number;
    destroyLog: string;
    psAfter: string[];
    listeningAfter: string;
    portsAfter: string[];
    /** kubeconfig copies in scripts/pulumi's temp directory, and ones this user left in /tmp during the run. */
    ownKubeconfigs: number;
    tmpKubeconfigs: number;
}

// Runs inside the namespaces as the user under test: exactly the README's commands, recording each result.
const STEPS = String.raw`set -u
cd "$1"; out=$2
id -u > "$out/uid"
for t in ${AWS_ONLY_TOOLS.join(" ")} /usr/sbin/sshd; do command -v "$t" >/dev/null 2>&1 && echo "$t"; done > "$out/host-tools" || true
npm start > "$out/start.log" 2>&1; echo $? > "$out/start.rc"
line=$(grep -E '^ *kubectl: ' "$out/start.log" | head -n 1 | sed 's/^ *kubectl: *//')
printf '%s\n' "$line" > "$out/kubectl.line"
if [ -n "$line" ]; then sh -c "$line" > "$out/kubectl.out" 2>&1; echo $? > "$out/kubectl.rc"; fi
nodes=$(printf '%s' "$line" | sed -n 's/ get namespaces$/ get nodes --no-headers/p')
if [ -n "$nodes" ]; then sh -c "$nodes" > "$out/nodes.out" 2>&1; fi
bench=$(grep -E '^ *kube-bench: ' "$out/start.log" | head -n 1 | sed 's/^ *kube-bench: *//')
if [ -n "$bench" ]; then sh -c "$bench --json" > "$out/kube-bench.json" 2> "$out/kube-bench.err"; fi
npm run --silent pulumi -- destroy -s local --yes > "$out/destroy.log" 2>&1; echo $? > "$out/destroy.rc"
# The Kubernetes provider's kubeconfig copies: in scripts/pulumi's own temp directory, none in /tmp.
find "$XDG_CACHE_HOME/hardened-cluster/tmp" -maxdepth 1 -name 'kubeconfig*' 2>/dev/null | wc -l > "$out/own-kubeconfigs"
find /tmp -maxdepth 1 -name 'kubeconfig*' -uid "$(id -u)" -newer "$out/uid" 2>/dev/null | wc -l > "$out/tmp-kubeconfigs"
ps -eo comm= > "$out/ps-after"
ss -Hltnu > "$out/listening-after" 2>&1
for p in ${DEFAULT_PORTS.join(" ")}; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p open"; else echo "$p closed"; fi
done > "$out/ports-after"
`;

// `npm start` on a stack file with a typo; then how many resources the stack holds besides the stack itself.
const TYPO_STEPS = String.raw`set -u
cd "$1"; out=$2
npm start > "$out/start.log" 2>&1; echo $? > "$out/start.rc"
npm run --silent pulumi -- stack export -s local 2>/dev/null | node -e 'let s="";process.stdin.on("data",(d)=>s+=d).on("end",()=>console.log((JSON.parse(s).deployment.resources??[]).filter((r)=>r.type!=="pulumi:pulumi:Stack").length))' > "$out/resources"
`;

// Runs as root inside the clone's sandbox: shares the toolchain read-only, hides the AWS-only tools from an
// unprivileged run, then drops to its uid with nothing of root's environment.
const PRELUDE = String.raw`set -euo pipefail
src=$1 dst=$2 uid=$3 gid=$4 absent=$5; shift 5
mount --bind "$src" "$dst"
mount -o remount,bind,ro "$dst"
if [ "$uid" = 0 ]; then exec "$@"; fi
# A non-executable file over each copy, for checks by absolute path (the user's PATH already lacks them).
for t in ${AWS_ONLY_TOOLS.join(" ")}; do
  for d in /usr/local/sbin /usr/local/bin /usr/sbin /usr/bin /sbin /bin; do
    if [ -f "$d/$t" ] && [ -x "$d/$t" ]; then mount --bind "$absent" "$d/$t"; fi
  done
done
exec setpriv --reuid="$uid" --regid="$gid" --clear-groups "$@"
`;

function run(cmd: string, args: string[], opts: SpawnSyncOptions = {}): string {
    const res = spawnSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], maxBuffer: 64 * 1024 * 1024, ...opts });
    if (res.status !== 0) {
        throw new Error(`${cmd} ${args.join(" ")} exited ${res.status ?? res.signal}:\n${String(res.stdout).slice(-3000)}\n${String(res.stderr).slice(-3000)}`);
    }
    return String(res.stdout);
}

/** A PATH with what a user's shell has: go, node, npm and git, and the system directories. */
function userPath(): string {
    const dirs = ["go", "node", "npm", "git"].map((b) => path.dirname(run("bash", ["-c", `command -v ${b}`]).trim()));
    return [...new Set([...dirs, "/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"])].join(":");
}

/**
 * The same commands as one directory of links, less the AWS-only tools: a machine without those packages.
 * (Masking a file is not enough: bash's `command -v` still names a non-executable file when it finds no other.)
 */
function pathWithout(dir: string, searchPath: string, omit: string[]): string {
    fs.mkdirSync(dir, { recursive: true });
    const linked = new Set<string>(omit);
    for (const d of searchPath.split(":")) {
        if (!fs.existsSync(d)) continue;
        for (const name of fs.readdirSync(d)) {
            if (linked.has(name)) continue; // the first directory on PATH wins, as in a shell
            fs.symlinkSync(path.join(d, name), path.join(dir, name));
            linked.add(name);
        }
    }
    assert.ok(linked.size > 100, `only ${linked.size} commands linked`);
    return dir;
}

const assignments = (env: Record<string, string>) => Object.entries(env).map(([k, v]) => `${k}=${v}`);

function readResult(dir: string, name: string): string {
    const file = path.join(dir, name);
    return fs.existsSync(file) ? fs.readFileSync(file, "utf8") : "";
}

/** The stack file's tenant names, as a new user finds them in the clone. */
function tenantsOf(project: string): string[] {
    const doc = parse(fs.readFileSync(path.join(project, "stacks/Pulumi.local.yaml"), "utf8"));
    return (doc.config["hardened-cluster:baseline"]?.tenants ?? []).map((t: { name: string }) => t.name);
}

describe("the README's Quick start, as a new user types it", function () {
    this.timeout(45 * 60_000);
    const head = run("git", ["-C", repoRoot, "rev-parse", "HEAD"]).trim();
    let work: string;
    let owner: Owner | undefined;

    before(function () {
        assert.equal(process.getuid?.(), 0,
            "this spec creates a throwaway user, namespaces and bind mounts: run it as root (CI does, through scripts/sandbox.sh)");
        toolchain(...BINARIES);
        work = fs.mkdtempSync(path.join(os.tmpdir(), "hc-new-user-"));
        fs.chmodSync(work, 0o755); // the unprivileged user must reach its own directory inside
        fs.writeFileSync(path.join(work, "prelude.sh"), PRELUDE, { mode: 0o644 });
        fs.writeFileSync(path.join(work, "absent"), "", { mode: 0o644 });
    });

    after(function () {
        if (owner) spawnSync("userdel", ["--force", owner.name], { stdio: "ignore" });
        if (work) fs.rmSync(work, { recursive: true, force: true });
    });

    interface Prepared { name: string; project: string; results: string; env: Record<string, string>; toolchainMount: string; who?: Owner }

    /** Clones HEAD and runs `npm ci` as the user (from the npm cache: the network namespace comes after). */
    function prepare(name: string, who: Owner | undefined): Prepared {
        const dir = path.join(work, name);
        const project = path.join(dir, "p");
        const home = path.join(dir, "home");
        const results = path.join(dir, "results");
        const xdgCache = path.join(dir, "cache");
        for (const d of [dir, home, results, xdgCache]) fs.mkdirSync(d, { recursive: true });
        run("git", ["clone", "-q", "--no-checkout", repoRoot, project]);
        run("git", ["-C", project, "checkout", "-q", "--detach", head]);
        assert.equal(run("git", ["-C", project, "rev-parse", "HEAD"]).trim(), head);
        const shared = path.join(repoRoot, "..", "shared");
        if (fs.existsSync(shared)) fs.symlinkSync(fs.realpathSync(shared), path.join(dir, "shared"));

        const PATH = who ? pathWithout(path.join(dir, "bin"), userPath(), AWS_ONLY_TOOLS) : userPath();
        const env = { PATH, HOME: home, XDG_CACHE_HOME: xdgCache, LANG: "C.UTF-8", TERM: "dumb" };
        // Where the clone looks for the toolchain with this cache: the same version key as the shared one.
        const binDir = run("bash", [path.join(project, "scripts/toolchain.sh"), "--bin-dir"], { env }).trim();
        assert.equal(path.basename(path.dirname(binDir)), path.basename(toolchain().dir), "the clone computes another toolchain key");
        fs.mkdirSync(path.dirname(binDir), { recursive: true });

        let npmCache = path.join(os.homedir(), ".npm");
        if (who) {
            // Root's npm cache is unreadable to the user: it gets a copy, and owns everything of its run.
            fs.cpSync(npmCache, path.join(dir, "npm-cache"), { recursive: true });
            npmCache = path.join(dir, "npm-cache");
            run("chown", ["-R", `${who.uid}:${who.gid}`, dir]);
        }
        const npmCi = ["env", "-i", ...assignments({ ...env, npm_config_cache: npmCache }), "npm", "ci", "--prefer-offline", "--no-audit", "--no-fund"];
        const [cmd, ...args] = who ? ["setpriv", `--reuid=${who.uid}`, `--regid=${who.gid}`, "--clear-groups", ...npmCi] : npmCi;
        run(cmd, args, { cwd: project, timeout: 15 * 60_000 });
        return { name, project, results, env, toolchainMount: path.dirname(binDir), who };
    }

    /** Runs a steps script as the user, in the clone's own sandbox with a private network namespace. */
    function sandboxed(p: Prepared, script: string): void {
        const file = path.join(work, `${p.name}-${randomBytes(3).toString("hex")}.sh`);
        fs.writeFileSync(file, script, { mode: 0o644 });
        const res = spawnSync("env", ["-i", `PATH=${p.env.PATH}`, "HC_SANDBOX_NET=private",
            "bash", path.join(p.project, "scripts/sandbox.sh"),
            "bash", path.join(work, "prelude.sh"), toolchain().dir, p.toolchainMount, String(p.who?.uid ?? 0), String(p.who?.gid ?? 0),
            path.join(work, "absent"),
            "env", "-i", ...assignments(p.env), "bash", file, p.project, p.results,
        ], { cwd: p.project, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 25 * 60_000 });
        assert.equal(res.status, 0, `the sandboxed run failed (${res.status ?? res.signal}): ${res.stderr.slice(-3000)}`);
    }

    function newUser(name: string, who: Owner | undefined): Outcome {
        const p = prepare(name, who);
        sandboxed(p, STEPS);
        const r = (f: string) => readResult(p.results, f);
        const bench = r("kube-bench.json");
        const start = bench.indexOf("{");
        return {
            uid: r("uid").trim(),
            hostTools: r("host-tools").split("\n").filter(Boolean),
            startRc: Number(r("start.rc").trim() || NaN),
            startLog: r("start.log"),
            kubectlLine: r("kubectl.line").trim(),
            kubectlRc: Number(r("kubectl.rc").trim() || NaN),
            kubectlOut: r("kubectl.out"),
            nodesOut: r("nodes.out"),
            kubeBench: start < 0 ? [] : kubeBenchChecks(JSON.parse(bench.slice(start))),
            destroyRc: Number(r("destroy.rc").trim() || NaN),
            destroyLog: r("destroy.log"),
            psAfter: r("ps-after").split("\n").map((l) => l.trim()).filter(Boolean),
            listeningAfter: r("listening-after").trim(),
            portsAfter: r("ports-after").split("\n").filter(Boolean),
            ownKubeconfigs: Number(r("own-kubeconfigs").trim() || NaN),
            tmpKubeconfigs: Number(r("tmp-kubeconfigs").trim() || NaN),
        };
    }

    /** What both runs must show: it came up, the printed line works, destroy leaves nothing behind. */
    function assertQuickStart(o: Outcome, project: string): void {
        assert.equal(o.startRc, 0, `npm start failed:\n${o.startLog.slice(-4000)}`);
        assert.doesNotMatch(o.startLog, /: building/, "the shared toolchain was complete: nothing may rebuild");
        assert.doesNotMatch(o.startLog, /passphrase/i, o.startLog.slice(-2000));
        assert.match(o.kubectlLine, /^\S+\/kubectl --kubeconfig \/\S+ get namespaces$/);
        assert.equal(o.kubectlRc, 0, o.kubectlOut);
        const rows = o.kubectlOut.trim().split("\n");
        assert.deepEqual(rows[0].split(/\s+/), ["NAME", "STATUS", "AGE"]);
        const listed = new Map(rows.slice(1).map((l) => l.split(/\s+/) as [string, string]));
        const expected = [...INITIAL_NAMESPACES, ...tenantsOf(project)];
        assert.ok(expected.length > INITIAL_NAMESPACES.length, "the stack file declares no tenant");
        for (const ns of expected) assert.equal(listed.get(ns), "Active", `namespace ${ns} in:\n${o.kubectlOut}`);

        // The CLI kept its workspace and logs in the fresh HOME, not in the password database's home directory.
        assert.ok(fs.existsSync(path.join(path.dirname(project), "home", ".pulumi", "workspaces")), "no ~/.pulumi in the fresh HOME");
        assert.equal(o.destroyRc, 0, o.destroyLog.slice(-3000));
        assert.ok(o.psAfter.length > 0, "ps listed nothing");
        const leftover = o.psAfter.filter((c) => !["bash", "ps"].includes(c));
        assert.deepEqual(leftover, [], `processes left after destroy: ${o.psAfter.join(", ")}`);
        assert.equal(o.listeningAfter, "", `sockets still listening after destroy:\n${o.listeningAfter}`);
        assert.deepEqual(o.portsAfter, DEFAULT_PORTS.map((p) => `${p} closed`));
        // The Kubernetes provider copied its kubeconfigs (client keys) into scripts/pulumi's private temp directory.
        assert.ok(o.ownKubeconfigs > 0, `no kubeconfig copy in the private temp directory (${o.ownKubeconfigs})`);
    }

    it("as root: npm ci && npm start, the printed kubectl line, destroy (system layout)", function () {
        const o = newUser("root", undefined);
        assert.equal(o.uid, "0");
        assertQuickStart(o, path.join(work, "root", "p"));
        // As root the default stack has one worker, Ready by the time npm start returns (it waits for the cluster's DNS).
        assert.deepEqual(o.nodesOut.trim().split("\n").map((l) => l.split(/\s+/).slice(0, 2)), [["worker-1", "Ready"]], o.nodesOut);
        assert.doesNotMatch(o.startLog, /warning: .*local\.workers/, "no warning about workers where one runs");
        // The system layout passes every scored CIS 1.12 master and etcd check (README: 53/53).
        const scored = o.kubeBench.filter((c) => c.scored);
        assert.equal(scored.length, 53, `expected 53 scored checks, got ${scored.length}`);
        assert.deepEqual(scored.filter((c) => c.status !== "PASS").map((c) => `${c.id} ${c.status}`), []);
    });

    it("prints a typo in the stack file once, naming the key, without a stack trace, and creates nothing", function () {
        const p = prepare("typo", undefined);
        const file = path.join(p.project, "stacks/Pulumi.local.yaml");
        const before = fs.readFileSync(file, "utf8");
        assert.match(before, /^ {8}allowSameNamespace: true$/m, "the stack file changed: pick another key to misspell");
        fs.writeFileSync(file, before.replace(/^( {8})allowSameNamespace: true$/m, "$1allowSameNamspace: true"));
        sandboxed(p, TYPO_STEPS);
        const log = readResult(p.results, "start.log");
        assert.notEqual(readResult(p.results, "start.rc").trim(), "0", log);
        const key = "hardened-cluster:baseline.tenants[0].allowSameNamspace";
        assert.equal(log.split(key).length - 1, 1, `the key should be named exactly once:\n${log}`);
        assert.match(log, new RegExp(`^error: ${key.replace(/[.[\]]/g, "\\$&")}: \\(value not shown\\) is not allowed; known keys: .*allowSameNamespace`, "m"));
        assert.doesNotMatch(log, /Updating \(local\)/, "the engine ran: the check must stop npm start before it");
        assert.doesNotMatch(log, /^\s+at /m, `a stack trace was printed:\n${log}`);
        assert.doesNotMatch(log, /unhandled exception|ConfigError/, log);
        assert.equal(readResult(p.results, "resources").trim(), "0", "resources were created");
    });

    it("as a throwaway unprivileged user without cloud-init, systemd-analyze or sshd (user layout)", function () {
        const name = `hcnew${randomBytes(3).toString("hex")}`;
        // Its password-database home does not exist: only $HOME may be used (as for a service account or a container).
        execFileSync("useradd", ["--no-create-home", "--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin", "--user-group", name]);
        owner = { name, uid: Number(run("id", ["-u", name]).trim()), gid: Number(run("id", ["-g", name]).trim()) };
        assert.notEqual(owner.uid, 0);
        const o = newUser("user", owner);
        assert.equal(o.uid, String(owner.uid));
        assert.deepEqual(o.hostTools, [], "the AWS-only validators were still reachable");
        assertQuickStart(o, path.join(work, "user", "p"));
        assert.match(o.startLog, /note: host packages missing: .*cloud-init/);
        // No root, so no worker: the control plane comes up alone, and a warning names the setting and says why.
        assert.match(o.startLog, /warning: hardened-cluster:local\.workers: no worker node, the control plane runs alone: a worker node needs root/);
        assert.match(o.nodesOut, /^No resources found/, o.nodesOut);
        // The user layout keeps everything under the user's own HOME.
        assert.ok(o.kubectlLine.includes(path.join(work, "user", "home", ".local/state/hardened-cluster/local")), o.kubectlLine);
        assertUserLayoutBench(o.kubeBench);
        // None of its copies landed in the /tmp every user shares.
        assert.equal(o.tmpKubeconfigs, 0);
    });
});

function assertUserLayoutBench(checks: KubeBenchCheck[]): void {
    const scored = checks.filter((c) => c.scored);
    assert.equal(scored.length, 53, `expected 53 scored checks, got ${scored.length}`);
    const notPass = scored.filter((c) => c.status !== "PASS").map((c) => `${c.id} ${c.status}`).sort();
    console.log(`      kube-bench (user layout): ${scored.length - notPass.length} PASS; not passing: ${notPass.join(", ")}`);
    assert.deepEqual(notPass, Object.keys(USER_LAYOUT_ROOT_ONLY).map((id) => `${id} FAIL`).sort());
}
