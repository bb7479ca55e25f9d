// A worker's report, run for real with bash and openssl: its name from the instance metadata service (a stand-in
// curl answers as IMDSv2 does and records how it was asked), its trust files (the CA file and a kubeconfig that
// embeds the bundle), the CA that verifies the kubelet's serving certificate on a TLS endpoint of this process
// and its client certificate on disk, and what the cluster CA's gate makes of it. Fingerprints come from
// node:crypto, not the script's openssl.
import { strict as assert } from "node:assert";
import { spawn } from "node:child_process";
import { X509Certificate } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as tls from "node:tls";
import { opensslFiles } from "../pki/openssl-ca";
import { NodeReport, reportProblems } from "../../../components/pki/ca-rotation-reports";
import { KUBELET_CLIENT_CERT } from "../../../platforms/aws/kubelet-rejoin";
import { workerExpectations } from "../../../platforms/aws/program";
import { LAST_REPORT, renderReportScript, workerReportPlan } from "../../../platforms/aws/report";
import { PENDING_RESTARTS } from "../../../platforms/aws/secrets";
import { PORTS } from "../../../platforms/aws/security-groups";
import { CLUSTER_CA_PATH } from "../../../platforms/worker-join";

const UNDER = "/demo/reports/workers";
const ADDRESS = "10.0.1.7";
const TOKEN = "imds-session-token-4f1c";
const PROXY_KUBECONFIG = "/etc/kubernetes/kube-proxy.conf";
const CLIENT_CERT = KUBELET_CLIENT_CERT;

describe("aws: a worker's report for the cluster CA rotation's gate (the rendered script, a stand-in IMDS)", function () {
    this.timeout(60_000);
    let dir: string;
    let server: tls.Server;
    let port: number;
    const software = {
        units: [],
        files: [{ path: CLUSTER_CA_PATH, mode: 0o644 }, { path: PROXY_KUBECONFIG, mode: 0o600, embedsClusterCa: true }, { path: "/etc/kubernetes/kube-proxy-config.yaml", mode: 0o600 }],
    };
    const at = (p: string) => path.join(dir, "root", p);
    const pem = (name: string) => fs.readFileSync(path.join(dir, name), "utf8");
    const fp = (name: string) => new X509Certificate(pem(name)).fingerprint256;
    const { ca, leaf } = opensslFiles(() => dir);
    /** The script with the node's paths under this test's root and the kubelet's port on this process's endpoint. */
    const script = () => renderReportScript("eu-west-1", { workersUnder: UNDER }, workerReportPlan(software))
        .split(` 127.0.0.1 ${PORTS.kubelet} `).join(` 127.0.0.1 ${port} `)
        .split(CLUSTER_CA_PATH).join(at(CLUSTER_CA_PATH))
        .split(PROXY_KUBECONFIG).join(at(PROXY_KUBECONFIG))
        .split(CLIENT_CERT).join(at(CLIENT_CERT))
        .split(PENDING_RESTARTS).join(path.join(dir, "state", "pending-restarts"))
        .split(LAST_REPORT).join(path.join(dir, "state", "report"));
    const run = (address = ADDRESS) => new Promise<{ status: number | null; out: string; err: string; put?: string[]; curl: string[][] }>((resolve) => {
        for (const f of ["calls", "curl-calls"]) fs.rmSync(path.join(dir, f), { force: true });
        const p = spawn("bash", ["-c", script(), "report"], {
            env: { PATH: `${path.join(dir, "bin")}:${process.env.PATH}`, FAKE_CALLS: path.join(dir, "calls"), CURL_CALLS: path.join(dir, "curl-calls"), FAKE_TOKEN: TOKEN, FAKE_ADDRESS: address },
        });
        let out = "";
        let err = "";
        p.stdout.on("data", (d) => (out += d));
        p.stderr.on("data", (d) => (err += d));
        p.on("close", (status) => {
            const calls = path.join(dir, "calls");
            const curl = fs.existsSync(path.join(dir, "curl-calls")) ? fs.readFileSync(path.join(dir, "curl-calls"), "utf8").split("\n").filter(Boolean).map((l) => l.split("\0").slice(0, -1)) : [];
            resolve({ status, out, err, curl, ...(fs.existsSync(calls) ? { put: fs.readFileSync(calls, "utf8").split("\0").slice(0, -1) } : {}) });
        });
    });
    const valueOf = (put: string[]) => put[put.indexOf("--value") + 1];

    before(async () => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "hc-worker-report-"));
        fs.chmodSync(dir, 0o700);
        ca("old-ca");
        ca("new-ca");
        leaf("kubelet-server", "new-ca", "serverAuth");
        leaf("kubelet-client", "old-ca", "clientAuth");
        for (const p of [CLUSTER_CA_PATH, PROXY_KUBECONFIG, CLIENT_CERT]) fs.mkdirSync(path.dirname(at(p)), { recursive: true });
        fs.writeFileSync(at(CLUSTER_CA_PATH), pem("old-ca.crt") + pem("new-ca.crt"));
        // As the stack renders kube-proxy's: the bundle as certificate-authority-data, here the old CA alone, and a client key.
        fs.writeFileSync(at(PROXY_KUBECONFIG), [
            "apiVersion: v1", "kind: Config", "clusters:", "  - name: demo", "    cluster:",
            `      certificate-authority-data: ${Buffer.from(pem("old-ca.crt")).toString("base64")}`, "      server: https://10.0.0.10:6443",
            "users:", "  - name: kube-proxy", "    user:", `      client-key-data: ${Buffer.from(pem("kubelet-client.key")).toString("base64")}`, "",
        ].join("\n"));
        // The kubelet's pair file: certificate and key in one, as kubelet-client-current.pem is.
        fs.writeFileSync(at(CLIENT_CERT), pem("kubelet-client.crt") + pem("kubelet-client.key"));
        server = tls.createServer({ key: pem("kubelet-server.key"), cert: pem("kubelet-server.crt") }, (s) => s.end());
        await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
        port = (server.address() as { port: number }).port;
        fs.mkdirSync(path.join(dir, "bin"));
        fs.mkdirSync(path.join(dir, "state"), { mode: 0o700 });
        fs.writeFileSync(path.join(dir, "bin", "aws"), `#!/bin/bash\nprintf '%s\\0' "$@" > "$FAKE_CALLS"\n`, { mode: 0o755 });
        // IMDSv2: a PUT for a session token, then GETs that carry it in a header (here read from the file curl names).
        fs.writeFileSync(path.join(dir, "bin", "curl"), `#!/bin/bash
{ printf '%s\\0' "$@"; echo; } >> "$CURL_CALLS"
args=" $* "
if [[ "$args" == *" -X PUT "* && "$args" == *" http://169.254.169.254/latest/api/token "* ]]; then printf '%s' "$FAKE_TOKEN"; exit 0; fi
for a in "$@"; do [[ "$a" == @* ]] && header=$(cat -- "\${a#@}"); done
[ "\${header:-}" = "X-aws-ec2-metadata-token: $FAKE_TOKEN" ] || { echo "curl: (22) The requested URL returned error: 401" >&2; exit 22; }
[[ "$args" == *" http://169.254.169.254/latest/meta-data/local-ipv4 "* ]] && printf '%s' "$FAKE_ADDRESS" && exit 0
exit 22
`, { mode: 0o755 });
    });

    after(async () => {
        await new Promise((r) => server.close(r));
        fs.rmSync(dir, { recursive: true, force: true });
    });

    it("names itself by the address IMDSv2 gives, the session token passed in a header file and never in argv", async () => {
        const r = await run();
        assert.equal(r.status, 0, r.err);
        assert.equal(r.curl.length, 2, JSON.stringify(r.curl));
        assert.ok(r.curl.every((argv) => !argv.some((a) => a.includes(TOKEN))), JSON.stringify(r.curl));
        assert.ok(r.put, r.out + r.err);
        assert.deepEqual(r.put.filter((a) => a !== valueOf(r.put!)), ["ssm", "put-parameter", "--region", "eu-west-1", "--name", `${UNDER}/${ADDRESS}`, "--type", "String", "--overwrite", "--value"]);
        assert.match(r.out, new RegExp(`reported to ${UNDER}/${ADDRESS}`));
        assert.equal((JSON.parse(valueOf(r.put)) as NodeReport).node, `workers/${ADDRESS}`);
    });

    it("reports the CA file's and the kubeconfig's CAs, the CA of the kubelet's serving and client certificates; the gate holds distrust-old back for the old client certificate", async () => {
        fs.rmSync(path.join(dir, "state", "report"), { force: true });
        const r = await run();
        assert.equal(r.status, 0, r.err);
        const text = valueOf(r.put!);
        assert.doesNotMatch(text, /-----BEGIN|PRIVATE/);
        assert.deepEqual(JSON.parse(text), {
            node: `workers/${ADDRESS}`,
            trust: { [at(CLUSTER_CA_PATH)]: [fp("old-ca.crt"), fp("new-ca.crt")], [at(PROXY_KUBECONFIG)]: [fp("old-ca.crt")] },
            served: { kubelet: { ca: fp("new-ca.crt") } },
            held: { "kubelet-client": { ca: fp("old-ca.crt") } },
            pending: [],
        });
        // The gate, with the worker expected as the program expects each running instance (paths as on the node).
        const expected = workerExpectations(software, [ADDRESS]).map((e) => ({ ...e, trust: { ...e.trust, kubernetes: e.trust.kubernetes.map(at) } }));
        assert.equal(expected.length, 1);
        const gate = (phase: "issue-new" | "distrust-old", fingerprint: string) =>
            reportProblems("kubernetes", phase, fingerprint, { expected, reports: { [`workers/${ADDRESS}`]: text }, schedule: "" });
        assert.deepEqual(gate("issue-new", fp("new-ca.crt")), [`workers/${ADDRESS} ${at(PROXY_KUBECONFIG)}: does not hold the new CA yet`]);
        assert.deepEqual(gate("distrust-old", fp("new-ca.crt")), [`workers/${ADDRESS} kubelet-client: holds a leaf the new CA does not verify`]);
        assert.deepEqual(gate("distrust-old", fp("old-ca.crt")), [`workers/${ADDRESS} kubelet: serves a leaf the new CA does not verify`]);
        // A worker holds nothing of the etcd CA: its missing report does not hold that rotation back.
        assert.deepEqual(reportProblems("etcd", "issue-new", fp("new-ca.crt"), { expected, reports: {}, schedule: "" }), []);
        assert.deepEqual(gate("issue-new", fp("old-ca.crt")), []);
    });

    it("reports a kubelet with no client certificate yet, and fails, putting nothing, when IMDS gives no address", async () => {
        fs.rmSync(at(CLIENT_CERT));
        try {
            const r = await run();
            assert.equal(r.status, 0, r.err);
            assert.deepEqual((JSON.parse(valueOf(r.put!)) as NodeReport).held, { "kubelet-client": { error: "holds no certificate" } });
        } finally {
            fs.writeFileSync(at(CLIENT_CERT), pem("kubelet-client.crt") + pem("kubelet-client.key"));
        }
        const bad = await run("10.0.1.7/../../cp-0");
        assert.equal(bad.status, 1);
        assert.match(bad.err, /the instance metadata service gave no IPv4 address/);
        assert.equal(bad.put, undefined);
    });
});
