// haproxy in the toolchain is Debian's package unpacked without root (scripts/toolchain.sh, install_haproxy).
// The installed wrapper must run the pinned version whatever the caller's environment, and the install step must
// refresh stale package lists only as root, and otherwise stop naming the pinned version. The step's decisions are
// exercised with stand-ins for apt-get, apt-cache, dpkg and id on PATH, so no mirror is needed for them.
import { strict as assert } from "node:assert";
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

const repoRoot = path.resolve(__dirname, "../../..");
const script = fs.readFileSync(path.join(repoRoot, "scripts/toolchain.sh"), "utf8");

/** A pinned value as scripts/lib/versions.sh sets it. */
function pinned(name: string): string {
    const m = new RegExp(`^${name}=(\\S+)$`, "m").exec(fs.readFileSync(path.join(repoRoot, "scripts/lib/versions.sh"), "utf8"));
    assert.ok(m, `${name} is not pinned in scripts/lib/versions.sh`);
    return m[1];
}

/** The text of shell functions of scripts/toolchain.sh, to run them without the rest of the script. */
function functions(...names: string[]): string {
    return names.map((n) => {
        const m = new RegExp(`^${n}\\(\\) \\{(?: .*; \\}$|\\n[\\s\\S]*?\\n\\}$)`, "m").exec(script);
        assert.ok(m, `scripts/toolchain.sh has no function ${n}`);
        return m[0];
    }).join("\n");
}

describe("toolchain: haproxy", function () {
    it("runs the pinned Debian version through the wrapper, whatever LD_LIBRARY_PATH the caller has", function () {
        const bin = execFileSync("bash", [path.join(repoRoot, "scripts/toolchain.sh"), "--bin-dir"], { encoding: "utf8" }).trim();
        const haproxy = path.join(bin, "haproxy");
        assert.ok(fs.existsSync(haproxy), `${haproxy} is missing: run scripts/toolchain.sh`);
        const r = spawnSync(haproxy, ["-v"], { cwd: "/", encoding: "utf8", env: { PATH: "/usr/bin:/bin", LD_LIBRARY_PATH: "/nonexistent" } });
        assert.equal(r.status, 0, r.stderr);
        assert.ok(r.stdout.startsWith(`HAProxy version ${pinned("HAPROXY_DEB_VERSION")} `), r.stdout);
    });

    describe("the install step", function () {
        let dir: string;
        const debs = () => [
            `haproxy=${pinned("HAPROXY_DEB_VERSION")}`, `liblua5.3-0=${pinned("LIBLUA53_DEB_VERSION")}`,
            `libopentracing-c-wrapper0=${pinned("LIBOPENTRACING_C_WRAPPER_DEB_VERSION")}`, `libopentracing1=${pinned("LIBOPENTRACING_DEB_VERSION")}`,
        ];
        beforeEach(function () {
            dir = fs.mkdtempSync(path.join(os.tmpdir(), "hc-haproxy-step-"));
            const stubs = path.join(dir, "stubs");
            fs.mkdirSync(stubs);
            const stub = (name: string, body: string) => fs.writeFileSync(path.join(stubs, name), `#!/bin/bash\n${body}\n`, { mode: 0o755 });
            stub("id", `[ "$1" = -u ] && echo "$FAKE_UID"`);
            // Like apt-cache: a version the lists lack prints nothing and still exits 0.
            stub("apt-cache", `[ "$LISTS" = fresh ] || { [ "$LISTS" = stale ] && [ -e "$STATE/updated" ]; } || exit 0
printf 'Package: %s\\nVersion: %s\\n\\n' "\${2%%=*}" "\${2#*=}"`);
            stub("apt-get", `echo "$*" >> "$STATE/apt-get.log"
case "$1" in update) touch "$STATE/updated" ;; esac
for a in "$@"; do case "$a" in *=*) [ "$a" = APT::Sandbox::User=root ] || echo "\${a%%=*}" > "\${a%%=*}_\${a#*=}_amd64.deb" ;; esac; done`);
            stub("dpkg", `[ "$1" = -x ] || exit 2
case "$(cat "$2")" in
  haproxy) mkdir -p "$3/usr/sbin"; printf '#!/bin/sh\\necho "LD=$LD_LIBRARY_PATH args=$*"\\n' > "$3/usr/sbin/haproxy"; chmod +x "$3/usr/sbin/haproxy" ;;
  liblua5.3-0) mkdir -p "$3/usr/lib/x86_64-linux-gnu"; touch "$3/usr/lib/x86_64-linux-gnu/liblua5.3.so.0" ;;
esac`);
            fs.mkdirSync(path.join(dir, "state"));
        });
        afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

        function install(uid: number, lists: "fresh" | "stale" | "never") {
            const body = `set -euo pipefail; . "${repoRoot}/scripts/lib/versions.sh"
${functions("log", "die", "haproxy_debs", "unlisted_debs", "install_haproxy")}
install_haproxy`;
            const r = spawnSync("bash", ["-c", body], {
                encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 20_000,
                env: {
                    PATH: `${dir}/stubs:/usr/bin:/bin`, FAKE_UID: String(uid), LISTS: lists, STATE: path.join(dir, "state"),
                    BUILD: path.join(dir, "tc/build"), HC_TOOLCHAIN_DIR: path.join(dir, "tc"), HC_TOOLCHAIN_BIN: path.join(dir, "tc/bin"),
                },
            });
            const logFile = path.join(dir, "state/apt-get.log");
            const aptGet = fs.existsSync(logFile) ? fs.readFileSync(logFile, "utf8").trim().split("\n") : [];
            return { status: r.status, stderr: r.stderr, aptGet, wrapper: path.join(dir, "tc/bin/haproxy") };
        }

        it("as a user, stops on stale package lists naming the pinned version, and changes nothing", function () {
            const r = install(1000, "stale");
            assert.equal(r.status, 1, r.stderr);
            assert.ok(r.stderr.includes(`haproxy=${pinned("HAPROXY_DEB_VERSION")}`), r.stderr);
            assert.match(r.stderr, /as root run apt-get update/);
            assert.deepEqual(r.aptGet, [], "nothing may be updated or downloaded");
            assert.equal(fs.existsSync(r.wrapper), false);
        });

        it("as root, refreshes stale lists once, then unpacks the four pinned packages behind a wrapper", function () {
            const r = install(0, "stale");
            assert.equal(r.status, 0, r.stderr);
            assert.equal(r.aptGet.length, 2, r.aptGet.join("\n"));
            assert.equal(r.aptGet[0], "update -qq");
            const downloaded = r.aptGet[1].split(" ").filter((a) => /^lib|^haproxy=/.test(a));
            assert.deepEqual(downloaded, debs());
            // The wrapper sets the loader path to the unpacked libraries (replacing the caller's) and passes argv on.
            const out = execFileSync(r.wrapper, ["-c", "-f", "/x y.cfg"], { encoding: "utf8", env: { PATH: "/usr/bin:/bin", LD_LIBRARY_PATH: "/elsewhere" } });
            assert.equal(out.trim(), `LD=${path.join(dir, "tc/haproxy/usr/lib/x86_64-linux-gnu")} args=-c -f /x y.cfg`);
            assert.equal(fs.existsSync(path.join(dir, "tc/haproxy.new")), false, "the unpack directory was left behind");
        });

        it("as root, stops naming the version when even fresh lists lack it", function () {
            const r = install(0, "never");
            assert.equal(r.status, 1, r.stderr);
            assert.deepEqual(r.aptGet, ["update -qq"]);
            assert.match(r.stderr, /no configured Debian mirror offers haproxy=\S+ liblua5\.3-0=/);
            assert.equal(fs.existsSync(r.wrapper), false);
        });

        it("as a user with current lists, downloads without refreshing anything", function () {
            const r = install(1000, "fresh");
            assert.equal(r.status, 0, r.stderr);
            assert.equal(r.aptGet.length, 1, r.aptGet.join("\n"));
            assert.match(r.aptGet[0], /^download -qq haproxy=/);
            assert.ok(fs.existsSync(r.wrapper));
        });
    });
});
