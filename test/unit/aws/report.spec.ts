// The node report script, run for real with bash and openssl against TLS endpoints of this process (a stand-in
// for the AWS CLI records the put): what it reports for each trust file and endpoint, that the report reads back
// as the gate reads it, and that an unchanged report is not put again. Fingerprints are checked against
// node:crypto's, not the script's own openssl.
import { strict as assert } from "node:assert";
import { spawn } from "node:child_process";
import { X509Certificate } from "node:crypto";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import * as tls from "node:tls";
import { opensslFiles } from "../pki/openssl-ca";
import { NodeReport, parseNodeReport, reportProblems } from "../../../components/pki/ca-rotation-reports";
import { LAST_REPORT, NodeReportPlan, renderReportScript, reportExpectation } from "../../../platforms/aws/report";
import { PENDING_RESTARTS } from "../../../platforms/aws/secrets";

const PARAM = "/demo/reports/cp-0";

describe("aws: the node report for CA rotation gates (the rendered script, real TLS endpoints)", function () {
    this.timeout(60_000);
    let dir: string;
    const servers: tls.Server[] = [];
    const ports: number[] = [];
    let plan: NodeReportPlan;
    let script: string;
    const pem = (name: string) => fs.readFileSync(path.join(dir, name), "utf8");
    const { ca, leaf } = opensslFiles(() => dir);
    const listen = async (s: tls.Server) => {
        await new Promise<void>((resolve) => s.listen(0, "127.0.0.1", resolve));
        servers.push(s);
        return (s.address() as { port: number }).port;
    };
    const run = () => new Promise<{ status: number | null; out: string; err: string; put?: string[] }>((resolve) => {
        fs.rmSync(path.join(dir, "calls"), { force: true });
        // Asynchronous: the endpoints answer from this process.
        const p = spawn("bash", ["-c", script, "report"], { env: { PATH: `${path.join(dir, "bin")}:${process.env.PATH}`, FAKE_CALLS: path.join(dir, "calls") } });
        let out = "";
        let err = "";
        p.stdout.on("data", (d) => (out += d));
        p.stderr.on("data", (d) => (err += d));
        p.on("close", (status) => {
            const calls = path.join(dir, "calls");
            resolve({ status, out, err, ...(fs.existsSync(calls) ? { put: fs.readFileSync(calls, "utf8").split("\0").slice(0, -1) } : {}) });
        });
    });
    const valueOf = (put: string[]) => put[put.indexOf("--value") + 1];

    before(async () => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "hc-report-"));
        fs.chmodSync(dir, 0o700);
        ca("old-ca");
        ca("new-ca");
        ca("other-ca");
        leaf("etcd-server", "new-ca", "serverAuth");
        leaf("client", "new-ca", "clientAuth");
        leaf("apiserver", "other-ca", "serverAuth");
        fs.writeFileSync(path.join(dir, "trust.crt"), pem("old-ca.crt") + pem("new-ca.crt"));
        // Like etcd: a client without a certificate from the trusted CA gets no connection.
        const etcdPort = await listen(tls.createServer({ key: pem("etcd-server.key"), cert: pem("etcd-server.crt"), ca: pem("new-ca.crt"), requestCert: true, rejectUnauthorized: true }, (s) => s.end()));
        const apiPort = await listen(tls.createServer({ key: pem("apiserver.key"), cert: pem("apiserver.crt") }, (s) => s.end()));
        // A port nothing listens on: one taken and closed again.
        const closed = await listen(tls.createServer({}));
        await new Promise((r) => servers.pop()!.close(r));
        ports.push(etcdPort, apiPort, closed);
        const t = path.join(dir, "trust.crt");
        plan = {
            node: "cp-0",
            trust: [{ domain: "etcd", path: t }, { domain: "frontProxy", path: path.join(dir, "absent.crt") }],
            served: [
                { domain: "etcd", name: "etcd-client", host: "127.0.0.1", port: etcdPort, trustFile: t, clientPair: { cert: path.join(dir, "client.crt"), key: path.join(dir, "client.key") } },
                { domain: "kubernetes", name: "kube-apiserver", host: "127.0.0.1", port: apiPort, trustFile: t },
                { domain: "kubernetes", name: "kube-scheduler", host: "127.0.0.1", port: closed, trustFile: t },
            ],
        };
        fs.mkdirSync(path.join(dir, "bin"));
        fs.writeFileSync(path.join(dir, "bin", "aws"), `#!/bin/bash\nprintf '%s\\0' "$@" > "$FAKE_CALLS"\n`, { mode: 0o755 });
        fs.mkdirSync(path.join(dir, "state"), { mode: 0o700 });
        script = renderReportScript("eu-west-1", PARAM, plan)
            .split(PENDING_RESTARTS).join(path.join(dir, "state", "pending-restarts"))
            .split(LAST_REPORT).join(path.join(dir, "state", "report"));
    });

    after(async () => {
        for (const s of servers) await new Promise((r) => s.close(r));
        fs.rmSync(dir, { recursive: true, force: true });
    });

    it("puts what the node holds and serves as its String parameter: each trust file's fingerprints, the CA that verifies each served leaf, or why none", async () => {
        const r = await run();
        assert.equal(r.status, 0, r.err);
        assert.ok(r.put, r.out + r.err);
        assert.deepEqual(r.put.filter((a) => a !== valueOf(r.put!)), ["ssm", "put-parameter", "--region", "eu-west-1", "--name", PARAM, "--type", "String", "--overwrite", "--value"]);
        // Public facts only: no certificate or key material, let alone a key, goes into a String parameter.
        assert.doesNotMatch(valueOf(r.put), /-----BEGIN|PRIVATE/);
        const report = JSON.parse(valueOf(r.put)) as NodeReport;
        const fp = (name: string) => new X509Certificate(pem(name)).fingerprint256;
        assert.deepEqual(report, {
            node: "cp-0",
            trust: { [path.join(dir, "trust.crt")]: [fp("old-ca.crt"), fp("new-ca.crt")], [path.join(dir, "absent.crt")]: [] },
            served: {
                "etcd-client": { ca: fp("new-ca.crt") },
                "kube-apiserver": { error: "serves a leaf no certificate of its trust file verifies" },
                "kube-scheduler": { error: "presents no certificate" },
            },
            pending: [],
        });
        // As the gate reads it: etcd is ready for distrust-old against the new CA, not the old one.
        assert.equal(typeof parseNodeReport("cp-0", valueOf(r.put)), "object");
        const reports = { expected: [reportExpectation(plan)], reports: { "cp-0": valueOf(r.put) }, schedule: "" };
        assert.deepEqual(reportProblems("etcd", "distrust-old", fp("new-ca.crt"), reports), []);
        assert.deepEqual(reportProblems("etcd", "distrust-old", fp("old-ca.crt"), reports), ["cp-0 etcd-client: serves a leaf the new CA does not verify"]);
        assert.deepEqual(reportProblems("frontProxy", "issue-new", fp("new-ca.crt"), reports), [`cp-0 ${path.join(dir, "absent.crt")}: does not hold the new CA yet`]);
        const last = fs.statSync(path.join(dir, "state", "report"));
        assert.equal(last.mode & 0o777, 0o600);
    });

    it("does not put an unchanged report again, and reports units a sync left to restart", async () => {
        const again = await run();
        assert.equal(again.status, 0, again.err);
        assert.equal(again.put, undefined);
        assert.match(again.out, /unchanged since the last report/);
        fs.writeFileSync(path.join(dir, "state", "pending-restarts"), "etcd\nkube-apiserver\n");
        const pending = await run();
        assert.ok(pending.put, pending.out + pending.err);
        assert.deepEqual((JSON.parse(valueOf(pending.put)) as NodeReport).pending, ["etcd", "kube-apiserver"]);
        assert.deepEqual(reportProblems("etcd", "issue-new", new X509Certificate(pem("new-ca.crt")).fingerprint256,
            { expected: [reportExpectation(plan)], reports: { "cp-0": valueOf(pending.put) }, schedule: "" }), ["cp-0: etcd, kube-apiserver did not restart yet with the files its last sync replaced"]);
        fs.rmSync(path.join(dir, "state", "pending-restarts"));
    });

    it("fails, putting nothing, when the put fails", async () => {
        fs.rmSync(path.join(dir, "state", "report"));
        fs.writeFileSync(path.join(dir, "bin", "aws"), `#!/bin/bash\necho "AccessDeniedException" >&2\nexit 254\n`, { mode: 0o755 });
        const r = await run();
        assert.notEqual(r.status, 0);
        assert.match(r.err, /AccessDeniedException/);
        assert.equal(fs.existsSync(path.join(dir, "state", "report")), false, "a report not put is not kept as the last one");
    });

    it("gives up on an endpoint that accepts but never completes a handshake, after 10 s, and reports it", async () => {
        const silent = net.createServer(() => undefined);
        await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
        const port = (silent.address() as { port: number }).port;
        const saved = script;
        try {
            fs.writeFileSync(path.join(dir, "bin", "aws"), `#!/bin/bash\nprintf '%s\\0' "$@" > "$FAKE_CALLS"\n`, { mode: 0o755 });
            script = renderReportScript("eu-west-1", PARAM, { node: "cp-0", trust: [], served: [{ domain: "kubernetes", name: "kube-scheduler", host: "127.0.0.1", port, trustFile: path.join(dir, "trust.crt") }] })
                .split(LAST_REPORT).join(path.join(dir, "state", "report"));
            const started = Date.now();
            const r = await run();
            assert.equal(r.status, 0, r.err);
            const took = Date.now() - started;
            assert.ok(took >= 9_000 && took < 20_000, `${took} ms`);
            assert.deepEqual((JSON.parse(valueOf(r.put!)) as NodeReport).served, { "kube-scheduler": { error: "presents no certificate" } });
        } finally {
            script = saved;
            silent.close();
        }
    });

    it("refuses a path or name that is not a plain word, before writing anything", () => {
        assert.throws(() => renderReportScript("eu-west-1", PARAM, { ...plan, trust: [{ domain: "etcd", path: "/etc/a b" }] }), /refusing "\/etc\/a b"/);
        assert.throws(() => renderReportScript("eu-west-1", "/demo/reports/$(id)", plan), /refusing/);
    });
});
