// The load balancer in front of several API servers: its rendered config must be one the toolchain's haproxy
// accepts, and haproxy run with it must send new connections only to servers whose /readyz answers 200 over
// verified TLS. Stand-ins for the API servers are Node HTTPS servers with openssl-made certificates that, like
// kube-apiserver here, refuse clients without a certificate from the cluster CA.
import { strict as assert } from "node:assert";
import { ChildProcess, execFileSync, spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as https from "node:https";
import type { TLSSocket } from "node:tls";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { balancerArgv, BalancerSpec, renderBalancerConfig } from "../../../platforms/local/balancer";
import { freePort } from "./proc";

const repoRoot = path.resolve(__dirname, "../../..");

function haproxyBinary(): string {
    const bin = execFileSync("bash", [path.join(repoRoot, "scripts/toolchain.sh"), "--bin-dir"], { encoding: "utf8" }).trim();
    const haproxy = path.join(bin, "haproxy");
    assert.ok(fs.existsSync(haproxy), `${haproxy} is missing: run scripts/toolchain.sh`);
    return haproxy;
}

function openssl(dir: string, args: string[]): void {
    execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
}

/** A leaf certificate signed by the CA in `dir` (ca.crt/ca.key unless `ca` names another), with `ext` lines. */
function leaf(dir: string, name: string, ext: string[], ca = "ca"): { cert: string; key: string } {
    fs.writeFileSync(path.join(dir, `${name}.ext`), `${ext.join("\n")}\nbasicConstraints=CA:FALSE\n`);
    openssl(dir, ["req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
        "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", `/CN=${name}`]);
    openssl(dir, ["x509", "-req", "-in", `${name}.csr`, "-CA", `${ca}.crt`, "-CAkey", `${ca}.key`, "-days", "1",
        "-extfile", `${name}.ext`, "-out", `${name}.crt`]);
    return { cert: path.join(dir, `${name}.crt`), key: path.join(dir, `${name}.key`) };
}

function selfSignedCa(dir: string, name: string): void {
    openssl(dir, ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
        "-keyout", `${name}.key`, "-out", `${name}.crt`, "-subj", `/CN=${name}`, "-days", "1"]);
}

interface Pki {
    caFile: string;
    healthClientPem: string;
    server: { cert: string; key: string };
    client: { cert: string; key: string };
    wrongName: { cert: string; key: string };
    otherCa: { cert: string; key: string };
}

function makePki(dir: string): Pki {
    selfSignedCa(dir, "ca");
    selfSignedCa(dir, "other-ca");
    // "localhost" is among the names the cluster PKI gives the apiserver's serving certificate.
    const server = leaf(dir, "apiserver", ["subjectAltName=DNS:localhost,IP:127.0.0.1", "extendedKeyUsage=serverAuth"]);
    const client = leaf(dir, "health", ["extendedKeyUsage=clientAuth"]);
    const wrongName = leaf(dir, "elsewhere", ["subjectAltName=DNS:elsewhere.example", "extendedKeyUsage=serverAuth"]);
    const otherCa = leaf(dir, "impostor", ["subjectAltName=DNS:localhost", "extendedKeyUsage=serverAuth"], "other-ca");
    const healthClientPem = path.join(dir, "health.pem");
    fs.writeFileSync(healthClientPem, fs.readFileSync(client.cert, "utf8") + fs.readFileSync(client.key, "utf8"), { mode: 0o600 });
    return { caFile: path.join(dir, "ca.crt"), healthClientPem, server, client, wrongName, otherCa };
}

/** An API-server stand-in: /readyz answers `ready`'s status, anything else answers its id. */
class StandIn {
    ready = 200;
    readyzSeen: { sni: unknown; host: unknown; clientCn: unknown }[] = [];
    watches: import("node:http").ServerResponse[] = [];
    private srv: https.Server;
    port = 0;

    constructor(readonly id: string, readonly address: string, pair: { cert: string; key: string }, caFile: string) {
        this.srv = https.createServer({
            cert: fs.readFileSync(pair.cert), key: fs.readFileSync(pair.key), ca: fs.readFileSync(caFile),
            requestCert: true, rejectUnauthorized: true,
        }, (req, res) => {
            const sock = req.socket as TLSSocket;
            if (req.url === "/readyz") {
                this.readyzSeen.push({ sni: sock.servername, host: req.headers.host, clientCn: sock.getPeerCertificate().subject?.CN });
                res.writeHead(this.ready).end(this.ready === 200 ? "ok" : "not ready");
            } else if (req.url === "/watch") {
                // Like a kubectl watch: the response stays open and the server writes to it when it likes.
                res.writeHead(200).write(`${this.id} start\n`);
                this.watches.push(res);
            } else {
                res.writeHead(200).end(this.id);
            }
        });
    }

    async start(): Promise<this> {
        await new Promise<void>((r) => this.srv.listen(0, this.address, r));
        this.port = (this.srv.address() as net.AddressInfo).port;
        return this;
    }

    async stop(): Promise<void> {
        this.srv.closeAllConnections();
        await new Promise((r) => this.srv.close(r));
    }
}

describe("local load balancer (haproxy) config", function () {
    this.timeout(20_000);
    let dir: string;
    let pki: Pki;
    let haproxy: string;
    before(function () {
        haproxy = haproxyBinary();
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "hc-balancer-"));
        pki = makePki(dir);
    });
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    const base = (): BalancerSpec => ({
        listen: { address: "127.0.0.1", port: 6443 },
        backends: [{ name: "apiserver-1", address: "127.0.0.11", port: 6443 }, { name: "apiserver-2", address: "127.0.0.12", port: 6443 }],
        caFile: pki.caFile,
        healthClientPem: pki.healthClientPem,
        adminSocket: path.join(dir, "admin.sock"),
    });

    function check(spec: BalancerSpec): { status: number | null; output: string } {
        const file = path.join(dir, "check.cfg");
        fs.writeFileSync(file, renderBalancerConfig(spec));
        const r = spawnSync(haproxy, ["-c", "-f", file], { encoding: "utf8", timeout: 10_000 });
        return { status: r.status, output: `${r.stdout}${r.stderr}` };
    }

    it("renders configs that haproxy -c accepts, with and without every optional field", function () {
        const variants: BalancerSpec[] = [
            base(),
            {
                ...base(),
                backends: [...base().backends, { name: "apiserver-3", address: "::1", port: 6443 }],
                user: { user: "nobody", group: "nogroup" },
                pidFile: path.join(dir, "haproxy.pid"),
                stateDir: dir,
                healthIntervalMs: 2000, fall: 3, rise: 5, serverName: "kubernetes.default.svc",
            },
        ];
        let checked = 0;
        for (const v of variants) {
            const r = check(v);
            assert.equal(r.status, 0, r.output);
            assert.match(r.output, /Configuration file is valid/);
            checked++;
        }
        assert.equal(checked, 2);
    });

    it("is checked for real: haproxy -c refuses the config when the CA file it names is missing", function () {
        const r = check({ ...base(), caFile: path.join(dir, "no-such-ca.crt") });
        assert.notEqual(r.status, 0, r.output);
        assert.match(r.output, /no-such-ca\.crt/);
    });

    it("forwards TCP with pass-through TLS, checks /readyz over verified TLS, exposes stats only to root and never cuts sessions of a server marked down", function () {
        // Comments aside: only directives count.
        const lines = renderBalancerConfig(base()).split("\n").map((l) => l.trim()).filter((l) => !l.startsWith("#"));
        const cfg = lines.join("\n");
        for (const want of ["mode tcp", "balance roundrobin", "option redispatch 1", "retries 3", "option httpchk",
            "http-check expect status 200", "nbthread 1", "log stderr format raw local0"]) {
            assert.ok(lines.includes(want), `missing "${want}"`);
        }
        const servers = lines.filter((l) => l.startsWith("server "));
        assert.deepEqual(servers, ["server apiserver-1 ipv4@127.0.0.11:6443", "server apiserver-2 ipv4@127.0.0.12:6443"]);
        // Pass-through: the server line must not make haproxy speak TLS to the server for client traffic.
        assert.ok(!/(^|\s)ssl(\s|$)/m.test(cfg), "traffic to the servers must not be TLS-terminated");
        const dflt = lines.find((l) => l.startsWith("default-server "))!.split(/\s+/);
        for (const w of ["check", "check-ssl", "required", "localhost", "inter", "500", "fall", "2", "rise"]) assert.ok(dflt.includes(w), w);
        assert.equal(dflt[dflt.indexOf("ca-file") + 1], pki.caFile);
        assert.equal(dflt[dflt.indexOf("crt") + 1], pki.healthClientPem);
        // One stats line: the admin socket a reload hands the listeners over through, a file only root may open.
        assert.deepEqual(lines.filter((l) => /\bstats\b/.test(l)), [`stats socket ${path.join(dir, "admin.sock")} mode 600 level admin expose-fd listeners`]);
        assert.doesNotMatch(cfg, /on-marked-down|shutdown-sessions|\bdaemon\b/);
        for (const t of ["client", "server", "tunnel"]) assert.ok(lines.includes(`timeout ${t} 1h`), t);
    });

    it("runs a master in the foreground from the rendered file", function () {
        assert.deepEqual(balancerArgv("/var/lib/hardened-cluster/local/balancer.cfg"), ["-W", "-db", "-f", "/var/lib/hardened-cluster/local/balancer.cfg"]);
        assert.throws(() => balancerArgv("balancer.cfg"), /configFile must be an absolute path/);
    });

    it("refuses bad input with an error naming the field", function () {
        const cases: [Partial<BalancerSpec>, RegExp][] = [
            [{ listen: { address: "127.0.0.1", port: 0 } }, /listen\.port must be an integer from 1 to 65535/],
            [{ listen: { address: "127.0.0.1", port: 65536 } }, /listen\.port must be an integer from 1 to 65535/],
            [{ listen: { address: "localhost", port: 6443 } }, /listen\.address must be an IPv4 or IPv6 address/],
            [{ backends: [] }, /backends must list at least one/],
            [{ backends: [{ name: "a", address: "127.0.0.11", port: 1.5 }] }, /backends\[0\]\.port must be an integer/],
            [{ backends: [{ name: "a b", address: "127.0.0.11", port: 1 }] }, /backends\[0\]\.name must be/],
            [{ backends: [{ name: "a", address: "127.0.0.11", port: 1 }, { name: "a", address: "127.0.0.12", port: 1 }] }, /backends\[1\]\.name "a" is used twice/],
            [{ backends: [{ name: "a", address: "127.0.0.1", port: 6443 }] }, /backends\[0\] 127\.0\.0\.1:6443 is the listen address/],
            [{ caFile: "ca.crt" }, /caFile must be an absolute path/],
            [{ healthClientPem: "/tmp/with space.pem" }, /healthClientPem may hold only/],
            [{ healthClientPem: "/tmp/x.pem#" }, /healthClientPem may hold only/],
            [{ adminSocket: "admin.sock" }, /adminSocket must be an absolute path/],
            [{ pidFile: "/run/../x.pid" }, /pidFile must be a normalised path/],
            [{ stateDir: "var/lib/haproxy" }, /stateDir must be an absolute path/],
            [{ user: { user: "root", group: "root" } }, /user\.user must not be root/],
            [{ user: { user: "nobody", group: "no group" } }, /user\.group must be/],
            [{ healthIntervalMs: 0 }, /healthIntervalMs must be an integer/],
            [{ fall: 0 }, /fall must be an integer/],
            [{ rise: 2.5 }, /rise must be an integer/],
            [{ serverName: "local host" }, /serverName must be a DNS name/],
        ];
        let n = 0;
        for (const [patch, err] of cases) {
            assert.throws(() => renderBalancerConfig({ ...base(), ...patch }), err, JSON.stringify(patch));
            n++;
        }
        assert.equal(n, cases.length);
    });
});

describe("local load balancer (haproxy) in front of API-server stand-ins", function () {
    this.timeout(30_000);
    let dir: string;
    let pki: Pki;
    let haproxy: string;
    let proc: ChildProcess | undefined;
    let log = "";
    let servers: StandIn[] = [];
    let listenPort = 0;

    before(function () {
        haproxy = haproxyBinary();
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "hc-balancer-run-"));
        pki = makePki(dir);
    });
    afterEach(async function () {
        if (proc && proc.exitCode === null && proc.signalCode === null) {
            const exited = new Promise((r) => proc!.once("exit", r));
            proc.kill("SIGTERM");
            await exited;
        }
        proc = undefined;
        await Promise.all(servers.map((s) => s.stop()));
        servers = [];
    });
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    async function startBalancer(backends: StandIn[]): Promise<void> {
        servers = backends;
        listenPort = await freePort();
        const file = path.join(dir, "balancer.cfg");
        fs.writeFileSync(file, renderBalancerConfig({
            listen: { address: "127.0.0.1", port: listenPort },
            backends: backends.map((s) => ({ name: s.id, address: s.address, port: s.port })),
            caFile: pki.caFile,
            healthClientPem: pki.healthClientPem,
            adminSocket: path.join(dir, "admin.sock"),
        }));
        log = "";
        proc = spawn(haproxy, balancerArgv(file), { stdio: ["ignore", "pipe", "pipe"] });
        proc.stdout!.on("data", (d) => (log += d));
        proc.stderr!.on("data", (d) => (log += d));
        const deadline = Date.now() + 5000;
        for (;;) {
            assert.equal(proc.exitCode, null, `haproxy exited: ${log}`);
            const up = await new Promise<boolean>((r) => {
                const s = net.connect(listenPort, "127.0.0.1", () => { s.destroy(); r(true); }).on("error", () => r(false));
            });
            if (up) return;
            assert.ok(Date.now() < deadline, `haproxy did not listen on ${listenPort}: ${log}`);
            await new Promise((r) => setTimeout(r, 50));
        }
    }

    /** One request on a new TCP connection through the balancer: the id of the server that answered, or "error". */
    function askWho(): Promise<string> {
        return new Promise((resolve) => {
            const req = https.request({
                host: "127.0.0.1", port: listenPort, path: "/who", servername: "localhost", agent: false,
                ca: fs.readFileSync(pki.caFile), cert: fs.readFileSync(pki.client.cert), key: fs.readFileSync(pki.client.key), timeout: 2000,
            }, (res) => {
                let body = "";
                res.on("data", (d) => (body += d)).on("end", () => resolve(body)).on("error", () => resolve("error"));
            });
            req.on("error", () => resolve("error")).on("timeout", () => req.destroy());
            req.end();
        });
    }

    async function batch(n = 20): Promise<Map<string, number>> {
        const counts = new Map<string, number>();
        for (let i = 0; i < n; i++) {
            const who = await askWho();
            counts.set(who, (counts.get(who) ?? 0) + 1);
        }
        return counts;
    }

    /** Waits until a whole batch lands on `id`; returns how long that took (ms). */
    async function convergeOn(id: string, withinMs: number): Promise<number> {
        const t0 = Date.now();
        let last = new Map<string, number>();
        while (Date.now() - t0 < withinMs) {
            last = await batch();
            if (last.get(id) === 20) return Date.now() - t0;
            await new Promise((r) => setTimeout(r, 100));
        }
        assert.fail(`traffic did not settle on ${id} within ${withinMs} ms: ${JSON.stringify([...last])}\n${log}`);
    }

    function assertAllOn(counts: Map<string, number>, id: string): void {
        const total = [...counts.values()].reduce((a, b) => a + b, 0);
        assert.equal(total, 20, "every request of the batch was counted");
        assert.deepEqual([...counts], [[id, 20]]);
    }

    it("sends every connection to the ready server, and moves traffic when readiness flips", async function () {
        const a = await new StandIn("apiserver-1", "127.0.0.11", pki.server, pki.caFile).start();
        const b = await new StandIn("apiserver-2", "127.0.0.12", pki.server, pki.caFile).start();
        b.ready = 500;
        await startBalancer([a, b]);
        // inter 500 ms with fall 2 / rise 2: a state change needs about a second; 3 s leaves room for a busy machine.
        await convergeOn("apiserver-1", 3000);
        assertAllOn(await batch(), "apiserver-1");

        a.ready = 500;
        b.ready = 200;
        await convergeOn("apiserver-2", 3000);
        assertAllOn(await batch(), "apiserver-2");

        // The checks came over TLS with the client certificate, the SNI and the Host haproxy was told to use.
        for (const s of [a, b]) {
            assert.ok(s.readyzSeen.length >= 2, `${s.id} saw ${s.readyzSeen.length} checks`);
            for (const seen of s.readyzSeen) assert.deepEqual(seen, { sni: "localhost", host: "localhost", clientCn: "health" });
        }
        assert.match(log, /Server kube-apiservers\/apiserver-2 is DOWN/);
        assert.match(log, /Server kube-apiservers\/apiserver-1 is DOWN/);
        assert.match(log, /Server kube-apiservers\/apiserver-2 is UP/);
    });

    it("lets a connection to a server marked down finish (no on-marked-down shutdown-sessions)", async function () {
        const a = await new StandIn("apiserver-1", "127.0.0.11", pki.server, pki.caFile).start();
        const b = await new StandIn("apiserver-2", "127.0.0.12", pki.server, pki.caFile).start();
        b.ready = 500;
        await startBalancer([a, b]);
        await convergeOn("apiserver-1", 3000);
        let body = "";
        let ended = false;
        const watch = new Promise<void>((resolve, reject) => {
            const req = https.request({
                host: "127.0.0.1", port: listenPort, path: "/watch", servername: "localhost", agent: false,
                ca: fs.readFileSync(pki.caFile), cert: fs.readFileSync(pki.client.cert), key: fs.readFileSync(pki.client.key),
            }, (res) => res.on("data", (d) => (body += d)).on("end", () => { ended = true; resolve(); }).on("error", reject));
            req.on("error", reject).end();
        });
        // Awaited below; a cut connection must fail the test there, not as an unhandled rejection now.
        watch.catch(() => undefined);
        const t0 = Date.now();
        while (a.watches.length === 0 && Date.now() - t0 < 3000) await new Promise((r) => setTimeout(r, 20));
        assert.equal(a.watches.length, 1, "the watch did not reach the ready server");
        // The server starts its graceful shutdown: /readyz fails, and haproxy marks it down.
        a.ready = 500;
        b.ready = 200;
        await convergeOn("apiserver-2", 3000);
        assert.match(log, /Server kube-apiservers\/apiserver-1 is DOWN/);
        assert.equal(ended, false, "the watch was cut when its server was marked down");
        a.watches[0].end("apiserver-1 still serving\n");
        await watch;
        assert.equal(body, "apiserver-1 start\napiserver-1 still serving\n");
    });

    it("reloads on SIGUSR2 with a new worker that takes the listener over: no connection fails meanwhile", async function () {
        const a = await new StandIn("apiserver-1", "127.0.0.11", pki.server, pki.caFile).start();
        await startBalancer([a]);
        await convergeOn("apiserver-1", 3000);
        let running = true;
        const answers: string[] = [];
        const loop = (async () => {
            while (running) answers.push(await askWho());
        })();
        const reloads = 3;
        const forked = () => (log.match(/New worker \(\d+\) forked/g) ?? []).length;
        for (let i = 0; i < reloads; i++) {
            await new Promise((r) => setTimeout(r, 400));
            // One reload at a time: the master does not queue a SIGUSR2 that arrives while it is still reloading.
            const before = forked();
            proc!.kill("SIGUSR2");
            const t0 = Date.now();
            while (forked() === before && Date.now() - t0 < 10_000) await new Promise((r) => setTimeout(r, 20));
        }
        await new Promise((r) => setTimeout(r, 1500));
        running = false;
        await loop;
        assert.equal(forked(), 1 + reloads, log);
        assert.ok(answers.length >= 20, `only ${answers.length} requests ran`);
        assert.deepEqual(answers.filter((w) => w !== "apiserver-1"), []);
    });

    it("never sends traffic to a ready server whose certificate is for another name or from another CA", async function () {
        const good = await new StandIn("apiserver-1", "127.0.0.11", pki.server, pki.caFile).start();
        const misnamed = await new StandIn("misnamed", "127.0.0.12", pki.wrongName, pki.caFile).start();
        const impostor = await new StandIn("impostor", "127.0.0.13", pki.otherCa, pki.caFile).start();
        await startBalancer([good, misnamed, impostor]);
        await convergeOn("apiserver-1", 3000);
        assertAllOn(await batch(), "apiserver-1");
        // Both answer 200 to anyone who gets that far: only the TLS verification can have kept them out.
        assert.equal(misnamed.readyzSeen.length + impostor.readyzSeen.length, 0, "a check completed against a server it must not trust");
        assert.match(log, /Server kube-apiservers\/misnamed is DOWN/);
        assert.match(log, /Server kube-apiservers\/impostor is DOWN/);
    });
});
