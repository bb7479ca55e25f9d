// The worker's kubelet rejoin, run for real with bash and openssl on certificates openssl made, its two fixed
// paths moved into a temporary directory, with stand-ins for systemctl and curl that record their calls. The boot
// drill runs the unchanged script in a worker, with the real kubelet joining again.
import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { CLUSTER_SIGNING_CA_PATH, KUBELET_CERT_DIR, renderKubeletRejoinScript } from "../../../platforms/aws/kubelet-rejoin";
import { opensslCa } from "../pki/openssl-ca";

const TOKEN = "abcdef.0123456789abcdef";

describe("aws: a worker's kubelet joins again when its certificates are not from the signing CA (the rendered script)", function () {
    this.timeout(60_000);
    let dir: string;
    const at = (...p: string[]) => path.join(dir, ...p);
    const ossl = (args: string[]) => {
        const r = spawnSync("openssl", args, { encoding: "utf8", cwd: dir });
        assert.equal(r.status, 0, `openssl ${args.join(" ")}: ${r.stderr}`);
    };
    /** A CA from the shared helper, kept as <name>.crt and <name>.key for openssl to sign with. */
    const ca = (name: string) => {
        const c = opensslCa(name);
        fs.writeFileSync(at(`${name}.crt`), c.certPem);
        fs.writeFileSync(at(`${name}.key`), c.keyPem, { mode: 0o600 });
    };
    /** A kubelet-style pair file: the certificate from `signer`, then its key. */
    const pair = (file: string, signer: string) => {
        ossl(["req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj", "/O=system:nodes/CN=system:node:ip-10-0-1-5", "-keyout", "leaf.key", "-out", "leaf.csr"]);
        ossl(["x509", "-req", "-in", "leaf.csr", "-CA", `${signer}.crt`, "-CAkey", `${signer}.key`, "-set_serial", "9", "-days", "1", "-out", "leaf.crt"]);
        fs.writeFileSync(at("pki", file), fs.readFileSync(at("leaf.crt"), "utf8") + fs.readFileSync(at("leaf.key"), "utf8"), { mode: 0o600 });
    };
    const script = () => renderKubeletRejoinScript({ unit: "kubelet", kubeconfig: at("kubelet.conf"), bootstrapKubeconfig: at("bootstrap-kubelet.conf") })
        .replace(`signer=${CLUSTER_SIGNING_CA_PATH}\n`, `signer=${at("signing-ca.crt")}\n`)
        .replace(`dir=${KUBELET_CERT_DIR}\n`, `dir=${at("pki")}\n`);
    const run = (status = "200") => {
        for (const f of ["systemctl-calls", "curl-calls", "curl-header"]) fs.rmSync(at(f), { force: true });
        const r = spawnSync("bash", ["-c", script(), "rejoin"], { encoding: "utf8", env: { PATH: `${at("bin")}:${process.env.PATH}`, FAKE_DIR: dir, FAKE_STATUS: status } });
        const lines = (f: string) => (fs.existsSync(at(f)) ? fs.readFileSync(at(f), "utf8").trim().split("\n") : []);
        return { ...r, systemctl: lines("systemctl-calls"), curl: lines("curl-calls"), header: lines("curl-header") };
    };
    const held = () => ["kubelet-client-current.pem", "kubelet-server-current.pem"].filter((f) => fs.existsSync(at("pki", f))).concat(fs.existsSync(at("kubelet.conf")) ? ["kubelet.conf"] : []);

    before(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "hc-rejoin-"));
        fs.chmodSync(dir, 0o700);
        fs.mkdirSync(at("bin"));
        ca("old-ca");
        ca("new-ca");
        // systemctl records; curl records its argv and the header file it was given, and answers FAKE_STATUS.
        fs.writeFileSync(at("bin", "systemctl"), `#!/bin/bash\necho "$*" >> "$FAKE_DIR/systemctl-calls"\n`, { mode: 0o755 });
        fs.writeFileSync(at("bin", "curl"), [
            "#!/bin/bash", `echo "$*" >> "$FAKE_DIR/curl-calls"`,
            `prev=; for a in "$@"; do [ "$prev" = -H ] && cat -- "\${a#@}" >> "$FAKE_DIR/curl-header"; prev=$a; done`,
            `printf '%s' "$FAKE_STATUS"`, "",
        ].join("\n"), { mode: 0o755 });
        fs.writeFileSync(at("bootstrap-kubelet.conf"), [
            "apiVersion: v1", "kind: Config", "clusters:", "  - name: c", "    cluster:", "      server: https://10.0.1.5:6443",
            `      certificate-authority: ${at("old-ca.crt")}`, "users:", "  - name: kubelet-bootstrap", "    user:", `      token: ${TOKEN}`, "",
        ].join("\n"), { mode: 0o600 });
    });
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    beforeEach(() => {
        fs.rmSync(at("pki"), { recursive: true, force: true });
        fs.mkdirSync(at("pki"));
        fs.writeFileSync(at("kubelet.conf"), "apiVersion: v1\n", { mode: 0o600 });
    });

    it("leaves a kubelet whose certificates are both from the signing CA alone", () => {
        fs.copyFileSync(at("new-ca.crt"), at("signing-ca.crt"));
        pair("kubelet-client-current.pem", "new-ca");
        pair("kubelet-server-current.pem", "new-ca");
        const r = run();
        assert.equal(r.status, 0, r.stderr);
        assert.deepEqual([r.systemctl, r.curl, held()], [[], [], ["kubelet-client-current.pem", "kubelet-server-current.pem", "kubelet.conf"]]);
    });

    it("removes only a serving certificate from another CA, asks the API nothing, and restarts the kubelet", () => {
        fs.copyFileSync(at("new-ca.crt"), at("signing-ca.crt"));
        pair("kubelet-client-current.pem", "new-ca");
        pair("kubelet-server-current.pem", "old-ca");
        const r = run();
        assert.equal(r.status, 0, r.stderr);
        assert.deepEqual([r.systemctl, r.curl, held()], [["try-restart -- kubelet.service"], [], ["kubelet-client-current.pem", "kubelet.conf"]]);
    });

    it("removes a client certificate from another CA with the kubeconfig naming it once the bootstrap token is accepted, the token in a header file, not in argv", () => {
        fs.copyFileSync(at("new-ca.crt"), at("signing-ca.crt"));
        pair("kubelet-client-current.pem", "old-ca");
        const r = run("200");
        assert.equal(r.status, 0, r.stderr);
        assert.deepEqual([r.systemctl, held()], [["try-restart -- kubelet.service"], []]);
        assert.equal(r.curl.length, 1);
        assert.match(r.curl[0], /^-sS -o \/dev\/null -w %\{http_code\} --max-time 10 --cacert \S+old-ca\.crt -H @\S+ https:\/\/10\.0\.1\.5:6443\/apis\/certificates\.k8s\.io\/v1\/certificatesigningrequests\?limit=1$/);
        assert.ok(!r.curl[0].includes(TOKEN), "the token is in curl's argv");
        assert.deepEqual(r.header, [`Authorization: Bearer ${TOKEN}`]);
        // The header file went with the script.
        assert.ok(!fs.existsSync(r.curl[0].match(/-H @(\S+)/)![1]));
    });

    it("keeps a client certificate from another CA while the bootstrap token is refused, and fails naming why", () => {
        fs.copyFileSync(at("new-ca.crt"), at("signing-ca.crt"));
        pair("kubelet-client-current.pem", "old-ca");
        pair("kubelet-server-current.pem", "old-ca");
        for (const status of ["401", "000"]) {
            const r = run(status);
            assert.equal(r.status, 1, r.stdout);
            assert.match(r.stderr, new RegExp(`the bootstrap token is not accepted \\(HTTP ${status}\\); keeping it until pulumi up renews the token`));
            assert.ok(!r.stderr.includes(TOKEN));
            assert.deepEqual([r.systemctl, held()], [[], ["kubelet-client-current.pem", "kubelet-server-current.pem", "kubelet.conf"]]);
        }
    });

    it("fails with no signing CA to compare with, removing nothing", () => {
        fs.rmSync(at("signing-ca.crt"), { force: true });
        pair("kubelet-client-current.pem", "old-ca");
        const r = run();
        assert.equal(r.status, 1);
        assert.match(r.stderr, /signing-ca\.crt is missing/);
        assert.deepEqual([r.systemctl, r.curl, held()], [[], [], ["kubelet-client-current.pem", "kubelet.conf"]]);
    });
});
