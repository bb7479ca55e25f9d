// The certificate-expiry script each control-plane node's timer runs, run for real: certificates made by
// openssl with known lifetimes, the AWS CLI, and moto's CloudWatch standing in for AWS. The expected days come
// from openssl's -days, not from the script.
import { strict as assert } from "node:assert";
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { certExpiryScript, CERT_EXPIRY_METRIC } from "../../../platforms/aws/cert-expiry";
import { Moto, startMoto } from "../../e2e/moto";
import { requireBinary } from "./host-tools";

const NAMESPACE = "HardenedCluster/expiry-test";
const REGION = "eu-west-1";

function freePort(): Promise<number> {
    return new Promise((resolve, reject) => {
        const s = net.createServer().listen(0, "127.0.0.1", () => {
            const port = (s.address() as net.AddressInfo).port;
            s.close(() => resolve(port));
        });
        s.on("error", reject);
    });
}

describe("aws: the certificate-expiry script against CloudWatch (moto) with real certificates", function () {
    this.timeout(60_000);
    let dir: string;
    let moto: Moto | undefined;
    let env: NodeJS.ProcessEnv;

    /** A self-signed certificate valid for `days` from now, PEM. */
    const cert = (days: number) => {
        const out = path.join(dir, `c-${days}-${Math.random().toString(36).slice(2)}.pem`);
        execFileSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", String(days), "-subj", `/CN=expiry-${days}`, "-keyout", "/dev/null", "-out", out], { stdio: "ignore" });
        return fs.readFileSync(out, "utf8");
    };
    const run = (script: string) => {
        const file = path.join(dir, `script-${Math.random().toString(36).slice(2)}`);
        fs.writeFileSync(file, script, { mode: 0o700 });
        return spawnSync("bash", [file], { env, encoding: "utf8" });
    };
    const minimum = (dimensions: string[]) => {
        const now = new Date();
        const out = execFileSync("aws", ["cloudwatch", "get-metric-statistics", "--region", REGION, "--namespace", NAMESPACE, "--metric-name", CERT_EXPIRY_METRIC,
            ...(dimensions.length > 0 ? ["--dimensions", ...dimensions] : []),
            "--start-time", new Date(now.getTime() - 3600_000).toISOString(), "--end-time", new Date(now.getTime() + 3600_000).toISOString(),
            "--period", "7200", "--statistics", "Minimum", "SampleCount", "--output", "json"], { env, encoding: "utf8" });
        // Over every bucket the range falls into: the lowest value and how many were published.
        const points = JSON.parse(out).Datapoints as { Minimum: number; SampleCount: number }[];
        return { minimum: Math.min(...points.map((p) => p.Minimum)), samples: points.reduce((n, p) => n + p.SampleCount, 0) };
    };

    before(async function () {
        requireBinary("openssl");
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "hc-cert-expiry-"));
        moto = await startMoto(await freePort(), path.join(dir, "moto"));
        env = moto.env({ id: "testing", secret: "testing" });
    });
    after(async function () {
        await moto?.stop();
        if (dir) fs.rmSync(dir, { recursive: true, force: true });
    });

    it("publishes the days left on the earliest certificate, counting every certificate of a bundle, with and without the node dimension", function () {
        const leaf = path.join(dir, "leaf.crt");
        const bundle = path.join(dir, "bundle.crt");
        fs.writeFileSync(leaf, cert(40));
        // The earliest sits second in a trust bundle.
        fs.writeFileSync(bundle, cert(400) + cert(20));
        const res = run(certExpiryScript({ region: REGION, namespace: NAMESPACE, node: "cp-0", certFiles: [leaf, bundle] }));
        assert.equal(res.status, 0, res.stderr);
        assert.match(res.stdout, new RegExp(`earliest notAfter in ${bundle.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}, (19\\.9\\d\\d|20\\.000) days left`));
        // Two series: the alarm's, without dimensions, and the node's.
        const listed = JSON.parse(execFileSync("aws", ["cloudwatch", "list-metrics", "--region", REGION, "--namespace", NAMESPACE, "--output", "json"], { env, encoding: "utf8" })).Metrics as { MetricName: string; Dimensions: { Name: string; Value: string }[] }[];
        assert.deepEqual(listed.map((m) => `${m.MetricName}{${m.Dimensions.map((d) => `${d.Name}=${d.Value}`).join(",")}}`).sort(), [`${CERT_EXPIRY_METRIC}{Node=cp-0}`, `${CERT_EXPIRY_METRIC}{}`]);
        const node = minimum(["Name=Node,Value=cp-0"]);
        assert.equal(node.samples, 1);
        // openssl -days 20 ends 20 days after it ran; a few seconds have passed since. (moto answers a query without
        // dimensions from every series, unlike CloudWatch, so only its minimum is compared.)
        for (const m of [node, minimum([])]) assert.ok(m.minimum > 19.99 && m.minimum <= 20, `${m.minimum} days`);
    });

    it("fails and publishes nothing when a certificate file is missing or holds no certificate", function () {
        const before = minimum([]).samples;
        assert.ok(before >= 1, "the first test's values are there to compare with");
        const leaf = path.join(dir, "ok.crt");
        fs.writeFileSync(leaf, cert(100));
        const empty = path.join(dir, "empty.crt");
        fs.writeFileSync(empty, "not a certificate\n");
        for (const [files, says] of [[[leaf, path.join(dir, "missing.crt")], /cannot read .*missing\.crt/], [[leaf, empty], /no certificate in .*empty\.crt|unable to load|Could not/]] as const) {
            const res = run(certExpiryScript({ region: REGION, namespace: NAMESPACE, node: "cp-1", certFiles: [...files] }));
            assert.notEqual(res.status, 0);
            assert.match(res.stderr, says);
        }
        assert.equal(minimum([]).samples, before, "a failed run published a value");
        assert.equal(minimum(["Name=Node,Value=cp-1"]).samples, 0);
    });

    it("refuses to render a script for a path or name that is not plain", function () {
        assert.throws(() => certExpiryScript({ region: REGION, namespace: NAMESPACE, node: "cp-0", certFiles: ["/etc/kubernetes/pki/a b.crt"] }), /not a plain absolute path/);
        assert.throws(() => certExpiryScript({ region: REGION, namespace: NAMESPACE, node: "cp-0; rm -rf /", certFiles: ["/a.crt"] }), /unexpected characters/);
        assert.throws(() => certExpiryScript({ region: REGION, namespace: NAMESPACE, node: "cp-0", certFiles: [] }), /no certificate files/);
    });
});
