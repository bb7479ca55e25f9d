// scripts/pulumi, the one way the README runs Pulumi: the toolchain's CLI, a file backend under the state
// directory when the user has chosen none, and a generated passphrase (0600) for the local stack only, kept
// in the config directory, away from the state backups it decrypts.
import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { repoRoot, toolchain } from "./harness";

describe("scripts/pulumi", function () {
    this.timeout(2 * 60_000);
    let home: string;
    const run = (...args: string[]) => spawnSync("bash", [path.join(repoRoot, "scripts/pulumi"), ...args], {
        encoding: "utf8",
        // A fake HOME: no ~/.pulumi login, so the wrapper must pick its own backend; nothing touches the real one.
        env: {
            PATH: process.env.PATH, HOME: home, HC_TOOLCHAIN_DIR: toolchain().dir,
            HC_STATE_HOME: path.join(home, "state"), PULUMI_HOME: path.join(home, "pulumi-home"),
        },
    });

    before(() => {
        toolchain();
        home = fs.mkdtempSync(path.join(os.tmpdir(), "hc-wrapper-"));
    });
    after(() => fs.rmSync(home, { recursive: true, force: true }));

    it("runs the pinned CLI from the toolchain", function () {
        const res = run("version");
        assert.equal(res.status, 0, res.stderr);
        assert.equal(res.stdout.trim(), "v3.259.0");
    });

    it("uses a file backend in the state directory when no backend was chosen", function () {
        const res = run("whoami", "--verbose");
        assert.equal(res.status, 0, res.stderr);
        assert.match(res.stdout, new RegExp(`file://${path.join(home, "state", "backend")}`));
    });

    it("keeps the CLI's home under $HOME, not the password database's home directory", function () {
        // Without PULUMI_HOME the CLI alone would write its workspace settings under root's /root/.pulumi.
        const cli = (...args: string[]) => spawnSync("bash", [path.join(repoRoot, "scripts/pulumi"), ...args], {
            encoding: "utf8", stdio: ["ignore", "pipe", "pipe"],
            env: { PATH: process.env.PATH, HOME: home, HC_TOOLCHAIN_DIR: toolchain().dir, HC_STATE_HOME: path.join(home, "state"), PULUMI_CONFIG_PASSPHRASE: "test-only" },
        });
        const stackFile = path.join(repoRoot, "stacks", "Pulumi.home-check.yaml");
        try {
            const res = cli("stack", "init", "-s", "home-check");
            assert.equal(res.status, 0, res.stderr);
            const workspaces = path.join(home, ".pulumi", "workspaces");
            assert.ok(fs.existsSync(workspaces) && fs.readdirSync(workspaces).length > 0, `no workspace settings in ${workspaces}`);
        } finally {
            cli("stack", "rm", "--yes", "--force", "-s", "home-check");
            fs.rmSync(stackFile, { force: true }); // stack init wrote it into the checkout
        }
    });

    it("generates a 0600 passphrase file for the local stack in ~/.config, not beside the state, and none for other stacks", function () {
        const dir = path.join(home, ".config", "hardened-cluster");
        const file = path.join(dir, "local.passphrase");
        run("stack", "ls", "-s", "dev");
        assert.equal(fs.existsSync(file), false);
        run("stack", "ls", "-s", "local");
        assert.equal(fs.statSync(file).mode & 0o777, 0o600);
        assert.equal(fs.statSync(dir).mode & 0o777, 0o700);
        assert.ok(fs.readFileSync(file, "utf8").length >= 32);
        assert.equal(fs.existsSync(path.join(home, "state", "local.passphrase")), false, "the passphrase sits beside the state backups");
        fs.rmSync(dir, { recursive: true });
    });

    it("moves a passphrase left beside the state by earlier versions, so existing stacks still decrypt", function () {
        const old = path.join(home, "state", "local.passphrase");
        fs.mkdirSync(path.dirname(old), { recursive: true });
        fs.writeFileSync(old, "an-existing-passphrase-of-an-earlier-version", { mode: 0o600 });
        const res = run("stack", "ls", "-s", "local");
        assert.match(res.stderr, /moved the local stack's passphrase/);
        const file = path.join(home, ".config", "hardened-cluster", "local.passphrase");
        assert.equal(fs.readFileSync(file, "utf8"), "an-existing-passphrase-of-an-earlier-version");
        assert.equal(fs.statSync(file).mode & 0o777, 0o600);
        assert.equal(fs.existsSync(old), false);
        // Kept, not regenerated, on the next run.
        run("stack", "ls", "-s", "local");
        assert.equal(fs.readFileSync(file, "utf8"), "an-existing-passphrase-of-an-earlier-version");
    });

    it("gives the CLI a temp directory of the user's own (0700), and removes the Kubernetes provider's kubeconfig copies older than a day from it", function () {
        // A stand-in CLI that prints the temp directory it was given.
        const fake = path.join(home, "fake-toolchain");
        fs.mkdirSync(path.join(fake, "bin"), { recursive: true });
        fs.writeFileSync(path.join(fake, "bin", "pulumi"), "#!/bin/sh\nprintf '%s' \"$TMPDIR\"\n", { mode: 0o755 });
        const cache = path.join(home, "cache");
        const dir = path.join(cache, "hardened-cluster", "tmp");
        fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
        fs.chmodSync(dir, 0o755);
        const dayAgo = (Date.now() - 25 * 3600 * 1000) / 1000;
        for (const [name, old] of [["kubeconfig111", true], ["kubeconfig222", false], ["unrelated", true]] as const) {
            fs.writeFileSync(path.join(dir, name), "x", { mode: 0o600 });
            if (old) fs.utimesSync(path.join(dir, name), dayAgo, dayAgo);
        }
        const res = spawnSync("bash", [path.join(repoRoot, "scripts/pulumi"), "version"], {
            encoding: "utf8",
            env: { PATH: process.env.PATH, HOME: home, HC_TOOLCHAIN_DIR: fake, HC_STATE_HOME: path.join(home, "state"), XDG_CACHE_HOME: cache, TMPDIR: "/tmp" },
        });
        assert.equal(res.status, 0, res.stderr);
        assert.equal(res.stdout, dir);
        assert.equal(fs.statSync(dir).mode & 0o777, 0o700);
        assert.deepEqual(fs.readdirSync(dir).sort(), ["kubeconfig222", "unrelated"]);
    });
});
