// PKI and encryption-at-rest rules. Limits: kubeadm's lifetimes (leaves 1 year, CAs 10), NIST SP 800-57's
// 112-bit floor (RSA 2048, ECDSA P-256), and the EncryptionConfiguration docs (first provider encrypts,
// secretbox/aescbc/aesgcm keys are 32 bytes).
import { strict as assert } from "node:assert";
import { randomBytes } from "node:crypto";
import { UNKNOWN, checkResource } from "./policy-harness";

const SELF = "tls:index/selfSignedCert:SelfSignedCert";
const LEAF = "tls:index/locallySignedCert:LocallySignedCert";
const KEY = "tls:index/privateKey:PrivateKey";

describe("policy pack: pki-certificate-lifetime", () => {
    it("accepts a 1-year leaf with a renewal window and a 10-year CA", async () => {
        assert.deepEqual((await checkResource("pki-certificate-lifetime", LEAF, { validityPeriodHours: 8760, earlyRenewalHours: 720 })).violations, []);
        assert.deepEqual((await checkResource("pki-certificate-lifetime", SELF, { isCaCertificate: true, validityPeriodHours: 87600 })).violations, []);
    });
    it("refuses a 10-year leaf, a leaf without a renewal window, and a 20-year CA", async () => {
        assert.match((await checkResource("pki-certificate-lifetime", LEAF, { validityPeriodHours: 87600, earlyRenewalHours: 720 })).violations.join(), /leaf certificate valid 87600 hours/);
        assert.match((await checkResource("pki-certificate-lifetime", LEAF, { validityPeriodHours: 8760 })).violations.join(), /renewal window/);
        assert.match((await checkResource("pki-certificate-lifetime", SELF, { isCaCertificate: true, validityPeriodHours: 175200 })).violations.join(), /CA certificate/);
    });
    it("defers a validity that is unknown at preview", async () => {
        assert.equal((await checkResource("pki-certificate-lifetime", LEAF, { validityPeriodHours: UNKNOWN.number, earlyRenewalHours: 720 })).deferred, true);
    });
});

describe("policy pack: pki-key-strength", () => {
    it("accepts ECDSA P-256/P-384 and RSA 2048 (the provider's default size)", async () => {
        for (const props of [{ algorithm: "ECDSA", ecdsaCurve: "P256" }, { algorithm: "ECDSA", ecdsaCurve: "P384" }, { algorithm: "RSA", rsaBits: 4096 }, { algorithm: "RSA" }]) {
            assert.deepEqual((await checkResource("pki-key-strength", KEY, props)).violations, [], JSON.stringify(props));
        }
    });
    it("refuses RSA-1024, P-224 (the provider's default curve) and ED25519", async () => {
        for (const props of [{ algorithm: "RSA", rsaBits: 1024 }, { algorithm: "ECDSA" }, { algorithm: "ECDSA", ecdsaCurve: "P224" }, { algorithm: "ED25519" }]) {
            assert.equal((await checkResource("pki-key-strength", KEY, props)).violations.length, 1, JSON.stringify(props));
        }
    });
});

const key32 = () => randomBytes(32).toString("base64");
const config = (providers: unknown[]) => [
    "apiVersion: apiserver.config.k8s.io/v1",
    "kind: EncryptionConfiguration",
    "resources:",
    "  - resources: [secrets]",
    `    providers: ${JSON.stringify(providers)}`,
].join("\n");
const FILESET = "pulumi-nodejs:dynamic/hardened-cluster:LocalFileSet";
const fileSet = (content: string) => ({ files: [{ path: "/etc/kubernetes/encryption-config.yaml", content, mode: 0o600 }] });

describe("policy pack: encryption-provider", () => {
    it("accepts secretbox first and KMS v2 first, wherever the config is written", async () => {
        const sb = config([{ secretbox: { keys: [{ name: "k1", secret: key32() }] } }, { identity: {} }]);
        assert.deepEqual((await checkResource("encryption-provider", FILESET, fileSet(sb))).violations, []);
        const kms = config([{ kms: { apiVersion: "v2", name: "aws", endpoint: "unix:///var/run/kms.sock" } }]);
        assert.deepEqual((await checkResource("encryption-provider", "aws:ssm/parameter:Parameter", { name: "/c/encryption-config", type: "SecureString", value: kms })).violations, []);
    });
    it("refuses identity first, KMS v1, aescbc first and a 16-byte key", async () => {
        const cases: [unknown[], RegExp][] = [
            [[{ identity: {} }, { secretbox: { keys: [{ name: "k1", secret: key32() }] } }], /identity/],
            [[{ kms: { name: "old", endpoint: "unix:///k.sock" } }], /KMS v1/],
            [[{ aescbc: { keys: [{ name: "k1", secret: key32() }] } }], /aescbc, not secretbox/],
            [[{ secretbox: { keys: [{ name: "k1", secret: randomBytes(16).toString("base64") }] } }], /16 bytes, not 32/],
        ];
        for (const [providers, why] of cases) {
            const o = await checkResource("encryption-provider", FILESET, fileSet(config(providers)));
            assert.equal(o.violations.length, 1, JSON.stringify(providers));
            assert.match(o.violations[0], why);
        }
    });
    it("defers an encryption config whose content is unknown at preview, and ignores unrelated unknowns", async () => {
        assert.equal((await checkResource("encryption-provider", FILESET, { files: [{ path: "/x/encryption-config.yaml", content: UNKNOWN.string }] })).deferred, true);
        assert.equal((await checkResource("encryption-provider", FILESET, { files: [UNKNOWN.object] })).deferred, true);
        const other = await checkResource("encryption-provider", "kubernetes:core/v1:ConfigMap", { metadata: { name: UNKNOWN.string }, data: { a: "b" } });
        assert.equal(other.deferred, false);
    });
});
