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

/**
 * CAs and leaves made by openssl as files in `dir`: `ca(name)` writes a self-signed P-256 `<name>.crt` and
 * `<name>.key`, `leaf(name, signer, usage)` a one-day leaf for 127.0.0.1 with that extended key usage, signed
 * by `<signer>`.
 */
export function opensslFiles(dir: () => string): { ca(name: string): void; leaf(name: string, signer: string, usage: string): void } {
    const ossl = (args: string[]) => {
        const r = spawnSync("openssl", args, { encoding: "utf8", cwd: dir() });
        assert.equal(r.status, 0, `openssl ${args.join(" ")}: ${r.stderr}`);
    };
    return {
        ca: (name) => ossl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj", `/CN=${name}`, "-days", "2", "-keyout", `${name}.key`, "-out", `${name}.crt`]),
        leaf: (name, signer, usage) => {
            fs.writeFileSync(path.join(dir(), `${name}.ext`), `extendedKeyUsage=${usage}\nsubjectAltName=IP:127.0.0.1\n`);
            ossl(["req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj", `/CN=${name}`, "-keyout", `${name}.key`, "-out", `${name}.csr`]);
            ossl(["x509", "-req", "-in", `${name}.csr`, "-CA", `${signer}.crt`, "-CAkey", `${signer}.key`, "-set_serial", "7", "-days", "1", "-extfile", `${name}.ext`, "-out", `${name}.crt`]);
        },
    };
}
