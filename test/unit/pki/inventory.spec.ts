// The certificate inventory's rules on real certificates (made by openssl here): what it reads from a PEM
// text, when a certificate enters its renewal window, what makes the inventory fail, and the certificate a TLS
// endpoint serves, read from a real handshake.
import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as tls from "node:tls";
import { certificatesIn, inventoryProblems, InventoryCert, renderInventory, renewalStart } from "../../../components/pki/inventory";
import { servedCertificate } from "../../../platforms/local/certs";

function makeCert(dir: string, name: string, days: number, extra: string[] = []): { cert: string; key: string } {
    const cert = path.join(dir, `${name}.crt`);
    const key = path.join(dir, `${name}.key`);
    execFileSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", String(days),
        "-subj", `/CN=${name}/O=hc-test`, "-keyout", key, "-out", cert, ...extra], { stdio: "ignore" });
    return { cert, key };
}

describe("certificate inventory", function () {
    this.timeout(30_000);
    let dir: string;
    before(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "hc-unit-inventory-"))));
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    it("reads every certificate of a bundle: subject, issuer, serial, validity, SANs", () => {
        const a = makeCert(dir, "a", 10, ["-addext", "subjectAltName=DNS:a.example,IP:127.0.0.5"]);
        const b = makeCert(dir, "b", 20);
        const both = certificatesIn(fs.readFileSync(a.cert, "utf8") + fs.readFileSync(b.cert, "utf8"));
        assert.equal(both.length, 2);
        assert.equal(both[0].subject, "CN=a, O=hc-test");
        assert.equal(both[0].issuer, "CN=a, O=hc-test");
        assert.deepEqual(both[0].sans, ["DNS:a.example", "IP Address:127.0.0.5"]);
        const serial = execFileSync("openssl", ["x509", "-in", a.cert, "-noout", "-serial"], { encoding: "utf8" }).trim().split("=")[1];
        assert.equal(both[0].serial, serial.toUpperCase());
        const days = (Date.parse(both[1].notAfter) - Date.parse(both[1].notBefore)) / 86_400_000;
        assert.equal(Math.round(days), 20);
        assert.deepEqual(certificatesIn("no certificate here"), []);
    });

    it("puts a certificate in its renewal window earlyRenewalHours before it expires, and fails the inventory then", () => {
        const [c] = certificatesIn(fs.readFileSync(makeCert(dir, "short", 1).cert, "utf8"));
        // kubeadm renews a year's certificate in its last 30 days; the blueprint's default window is 720 h.
        assert.equal(renewalStart(c, 720).getTime(), Date.parse(c.notAfter) - 720 * 3_600_000);
        const entry = (hours: number): InventoryCert => {
            const from = renewalStart(c, hours);
            return { node: "n", source: "/x/short.crt", cert: c, readers: ["etcd"], onChange: "restart", renewFrom: from.toISOString(), due: new Date() >= from };
        };
        assert.deepEqual(inventoryProblems([entry(0)], []), []);
        const problems = inventoryProblems([entry(720)], []);
        assert.equal(problems.length, 1);
        assert.match(problems[0], /^n \/x\/short\.crt: due for renewal since .* \(expires /);
    });

    it("fails when an endpoint serves another serial than its file, or cannot be read; a certificate made in memory is listed only", () => {
        const [c] = certificatesIn(fs.readFileSync(makeCert(dir, "served", 5).cert, "utf8"));
        const ok = { node: "n", process: "kube-apiserver", address: "127.0.0.1:1", file: "/f.crt", fileSerial: c.serial, served: c };
        const memory = { node: "n", process: "kube-scheduler", address: "127.0.0.1:2", served: c };
        assert.deepEqual(inventoryProblems([], [ok, memory]), []);
        const stale = inventoryProblems([], [{ ...ok, fileSerial: "01" }]);
        assert.match(stale[0], new RegExp(`serves serial ${c.serial} but /f.crt holds 01: restart it`));
        assert.match(inventoryProblems([], [{ ...memory, served: undefined, error: "connect ECONNREFUSED" }])[0], /no certificate read \(connect ECONNREFUSED\)/);
        const text = renderInventory({ at: new Date().toISOString(), certificates: [], endpoints: [ok, memory], problems: [] });
        assert.match(text, /kube-scheduler 127\.0\.0\.1:2: serves serial .*; made in memory \(no file\)/);
        assert.match(text, /no problems/);
    });

    it("reads the certificate a TLS server presents, without trusting it", async () => {
        const pair = makeCert(dir, "server", 3);
        const server = tls.createServer({ cert: fs.readFileSync(pair.cert), key: fs.readFileSync(pair.key) }, (s) => s.end());
        await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
        try {
            const port = (server.address() as { port: number }).port;
            const served = await servedCertificate({ host: "127.0.0.1", port });
            assert.equal(served.serialNumber.toUpperCase(), certificatesIn(fs.readFileSync(pair.cert, "utf8"))[0].serial);
        } finally {
            server.close();
        }
        await assert.rejects(servedCertificate({ host: "127.0.0.1", port: 1 }), /ECONNREFUSED/);
    });
});
