// Through the same loader the program uses: `null` where an object belongs, and misspelt nested keys. Each is a
// ConfigError naming the full key the user wrote; a misspelt key's value (possibly a secret) is never repeated.
import { strict as assert } from "node:assert";
import { planStack } from "../../../platforms";
import { ConfigError } from "../../../components/common";
import { NAMESPACE } from "../../../config";
import { rejects } from "../config-error";

const SECRET = "hunter2-do-not-print";

function load(name: string, value: unknown): unknown {
    return planStack({ [`${NAMESPACE}:${name}`]: JSON.stringify(value) }, "local", { isRoot: true }).config;
}

/** Sets `value` at a dotted path ("a.b.0.c"), creating objects and arrays on the way. */
function at(path: string, value: unknown, base: Record<string, unknown> = {}): Record<string, unknown> {
    const parts = path.split(".");
    let o: Record<string, unknown> = base;
    parts.slice(0, -1).forEach((p, i) => {
        if (o[p] === undefined) o[p] = /^\d+$/.test(parts[i + 1]) ? [] : {};
        o = o[p] as Record<string, unknown>;
    });
    o[parts[parts.length - 1]] = value;
    return base;
}

/** "a.b.0.c" as the key path errors use: "a.b[0].c". */
const keyOf = (path: string) => path.replace(/\.(\d+)/g, "[$1]");

const JWT = () => ({ authentication: { jwt: [{ url: "https://idp.example.com", audiences: ["kubernetes"] }] } });

// [config key, path inside it, base object the path is set in]
const OBJECT_PATHS: [string, string, () => Record<string, unknown>][] = [
    ...["network", "tls", "apiServer", "controllerManager", "scheduler", "etcd", "kubelet", "admission", "authentication", "weakenings"].map(
        (p): [string, string, () => Record<string, unknown>] => ["controlPlane", p, () => ({})],
    ),
    ["controlPlane", "apiServer.extraArgs", () => ({})],
    ["controlPlane", "etcd.extraArgs", () => ({})],
    ["controlPlane", "kubelet.servingCert", () => ({})],
    ["controlPlane", "admission.podSecurity", () => ({})],
    ["controlPlane", "admission.podSecurity.defaults", () => ({})],
    ["controlPlane", "admission.podSecurity.exemptions", () => ({})],
    ["controlPlane", "admission.eventRateLimit", () => ({})],
    ["controlPlane", "admission.eventRateLimit.limits.0", () => ({})],
    ["controlPlane", "authentication.jwt.0", () => ({})],
    ["controlPlane", "authentication.jwt.0.claimMappings", JWT],
    ["controlPlane", "authentication.jwt.0.claimMappings.username", JWT],
    ["controlPlane", "weakenings.acceptExtraArgs", () => ({})],
    ["audit", "webhook", () => ({})],
    ["encryption", "keys.0", () => ({})],
];

describe("config: null where an object belongs", () => {
    it("covers every object key of the control-plane, audit and encryption blocks", () => assert.equal(OBJECT_PATHS.length, 24));
    for (const [name, path, base] of OBJECT_PATHS) {
        it(`${name}.${path}: null is a ConfigError naming the key`, () => {
            rejects(() => load(name, at(path, null, base())), `${NAMESPACE}:${name}.${keyOf(path)}`, /object|mapping|use/);
        });
    }
});

describe("config: misspelt nested keys are named, their values never repeated", () => {
    const TYPOS: [string, string, () => Record<string, unknown>][] = [
        ["controlPlane", "apiServer.extraArg", () => ({})],
        ["controlPlane", "weakenings.acceptExtraArg", () => ({})],
        ["controlPlane", "kubelet.servingCert.keyFiel", () => ({ kubelet: { servingCert: { certFile: "/c", keyFile: "/k" } } })],
        ["controlPlane", "authentication.jwt.0.certificateAuthorty", JWT],
        ["controlPlane", "admission.podSecurity.exemption", () => ({})],
        ["audit", "webhook.caPen", () => ({ webhook: { server: "https://audit.example.com" } })],
        ["audit", "webhok", () => ({})],
        ["encryption", "keys.0.secret", () => ({ keys: [{ name: "key1" }] })],
    ];
    assert.equal(TYPOS.length, 8);
    for (const [name, path, base] of TYPOS) {
        it(`${name}.${path}`, () => {
            const fullKey = `${NAMESPACE}:${name}.${keyOf(path)}`;
            assert.throws(() => load(name, at(path, { token: SECRET }, base())), (e: unknown) => {
                assert.ok(e instanceof ConfigError, String(e));
                assert.equal(e.key, fullKey);
                assert.ok(e.message.startsWith(`${fullKey}: `), e.message);
                assert.ok(!e.message.includes(SECRET), e.message);
                return true;
            });
        });
    }
});

describe("config: an extraArgs error names the full key path", () => {
    it("hardened-cluster:controlPlane.apiServer.extraArgs.foo", () => {
        rejects(() => load("controlPlane", { apiServer: { extraArgs: { foo: "bar" } } }), `${NAMESPACE}:controlPlane.apiServer.extraArgs.foo`, /acceptExtraArgs/);
    });
    it("and the acknowledgement points back at the same key", () => {
        rejects(() => load("controlPlane", { weakenings: { acceptExtraArgs: { scheduler: ["foo"] } } }), `${NAMESPACE}:controlPlane.weakenings.acceptExtraArgs.scheduler[0]`);
    });
});
