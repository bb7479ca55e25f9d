// A throwaway CA made by openssl, so what a test checks against is not made by the code under test.
import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

/** A self-signed P-256 CA valid for two days: its certificate and key, PEM. */
export function opensslCa(commonName: string): { certPem: string; keyPem: string } {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hc-ca-"));
    try {
        const r = spawnSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj", `/CN=${commonName}`, "-days", "2",
            "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
            "-keyout", path.join(dir, "key.pem"), "-out", path.join(dir, "cert.pem")], { encoding: "utf8" });
        assert.equal(r.status, 0, `openssl req: ${r.stderr}`);
        return { certPem: fs.readFileSync(path.join(dir, "cert.pem"), "utf8"), keyPem: fs.readFileSync(path.join(dir, "key.pem"), "utf8") };
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}
