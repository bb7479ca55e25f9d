// KMS v2 end to end on the local platform: the project's plugin (hc-kms-plugin) wraps the apiserver's data keys,
// Secrets move from a secretbox key to it through the same four-stage rotation, and a KEK rotation (a new id
// appended to local.kmsKeyIds) is picked up by the running plugin and apiserver and every value rewritten under
// it. etcd is read here with etcdctl, and the EncryptedObject's keyID (field 2 of the kmsv2 api.proto message)
// is decoded by this file, not by the code under test.
import * as assert from "assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { LocalStackPlan, planLocalStack } from "../../platforms/local/plan";
import { ProgramStack, programStack, toolchain } from "./harness";
import { Credential, fromKubeconfig, request } from "./kube";
import { allProcesses, processesOn } from "./processes";
import { countSecretValues } from "./etcd-read";
import { E2E_PORTS } from "./ports";

const ports = E2E_PORTS.encryptionKms;
const system = process.getuid?.() === 0;
const BINARIES = ["pulumi-resource-pulumi-nodejs", "pulumi-resource-tls", "pulumi-resource-random", "pulumi-resource-kubernetes",
    "etcd", "etcdctl", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "hc-kms-plugin"];
const SECRETS = 300;
const ENC_KEY = "hardened-cluster:encryption";
const KMS = { name: "local-kms", provider: "kms" };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** "<prefix> <keyID>" of a stored value: the header up to the plugin name, and for KMS v2 the wrapping KEK id. */
function describeValue(v: Buffer): string {
    const text = v.subarray(0, 80).toString("latin1");
    const kms = /^k8s:enc:kms:v2:([^:]+):/.exec(text);
    if (!kms) return /^k8s:enc:[a-z0-9]+:v1:[^:]+:/.exec(text)?.[0] ?? "clear";
    // Protocol buffers: (field << 3 | wire type) varint tags; length-delimited fields carry a varint length.
    let at = kms[0].length;
    const varint = () => {
        let n = 0;
        for (let shift = 0; ; shift += 7) {
            const b = v[at++];
            n += (b & 0x7f) * 2 ** shift;
            if (!(b & 0x80)) return n;
        }
    };
    while (at < v.length) {
        const tag = varint();
        if ((tag & 7) === 0) { varint(); continue; }
        const len = varint();
        if (tag >> 3 === 2) return `${kms[0]} ${v.subarray(at, at + len).toString("utf8")}`;
        at += len;
    }
    return `${kms[0]} (no keyID)`;
}

describe("KMS v2 on the local platform: the project's plugin, a rotation onto it, a KEK rotation without restart (real processes)", function () {
    this.timeout(20 * 60_000);
    let ps: ProgramStack;
    let plan: LocalStackPlan;
    let admin: Credential;
    let stateDir: string | undefined;
    let local: Record<string, unknown>;

    const secretsByValue = (): Record<string, number> => countSecretValues(plan, describeValue);
    const setEncryption = (stage: string, keys: object[]) => ps.stack.setConfig(ENC_KEY, { value: JSON.stringify({ stage, keys }) });
    const up = () => ps.stack.up({ onOutput: (o) => process.env.HC_E2E_VERBOSE && process.stdout.write(o) });
    const pluginPids = () => allProcesses().filter((p) => p.name === "hc-kms-plugin" && p.args.includes(`--listen=${plan.local.kms.socket}`)).map((p) => p.pid);
    const apiserverPids = () => processesOn([ports.apiServer]).filter((p) => p.name === "kube-apiserver").map((p) => p.pid);

    before(async function () {
        toolchain(...BINARIES);
        // A unix socket the apiserver dials may not sit below /tmp (anyone could create it first): a user run
        // keeps its state in the home directory.
        stateDir = system ? undefined : fs.mkdtempSync(path.join(os.homedir(), ".hc-e2e-kms-"));
        local = system ? { layout: "system", ports, purgeOnDestroy: true, workers: 0 } : { layout: "user", stateDir, ports, purgeOnDestroy: true };
        ps = await programStack({
            name: "encryption-kms", blueprint: true, binaries: BINARIES,
            config: { "hardened-cluster:local": { value: JSON.stringify(local) }, [ENC_KEY]: { value: JSON.stringify({ keys: [{ name: "k1" }] }) } },
        });
        plan = planLocalStack({ stack: ps.stackName, local: local as never, toolchainBin: toolchain().bin, isRoot: system });
        const res = await up();
        assert.equal(res.summary.result, "succeeded");
        admin = fromKubeconfig(res.outputs.kubeconfig.value);
        assert.deepEqual(pluginPids(), [], "the plugin runs although no key uses it");
        let next = 0;
        await Promise.all(Array.from({ length: 8 }, async () => {
            while (next < SECRETS) {
                const i = next++;
                const r = await request(admin, "POST", "/api/v1/namespaces/default/secrets", { metadata: { name: `s-${i}` }, stringData: { v: `value-${i}` } });
                assert.equal(r.status, 201, r.body);
            }
        }));
    });
    after(async function () {
        await ps?.cleanup();
        if (stateDir) fs.rmSync(stateDir, { recursive: true, force: true });
    });

    it("moves every Secret from secretbox to the local KMS v2 plugin through add, promote, retire and steady", async function () {
        assert.deepEqual(Object.keys(secretsByValue()), ["k8s:enc:secretbox:v1:k1:"]);
        await setEncryption("add", [{ name: "k1" }, KMS]);
        const add = await up();
        assert.equal(add.outputs.details.value.encryption.staleValues, 0);
        assert.equal(pluginPids().length, 1, "the plugin did not start with the first kms key");
        assert.equal(fs.statSync(plan.local.kms.keysFile).mode & 0o777, 0o600);
        assert.equal(fs.statSync(path.dirname(plan.local.kms.socket)).mode & 0o777, 0o700);
        await setEncryption("promote", [{ name: "k1" }, KMS]);
        const promote = await up();
        const enc = promote.outputs.details.value.encryption;
        assert.equal(enc.staleValues, 0);
        assert.ok(enc.rewritten >= SECRETS, `rewrote ${enc.rewritten}`);
        assert.deepEqual(Object.keys(secretsByValue()), ["k8s:enc:kms:v2:local-kms: kek1"]);
        await setEncryption("retire", [{ name: "k1" }, KMS]);
        await up();
        await setEncryption("steady", [KMS]);
        await up();
        const r = await request(admin, "GET", `/api/v1/namespaces/default/secrets/s-${SECRETS - 1}`);
        assert.equal(r.status, 200, r.body);
        assert.equal(Buffer.from(r.json().data.v, "base64").toString(), `value-${SECRETS - 1}`);
    });

    it("rotates the KEK with no restart of the plugin or the apiserver, and rewrites every value under the new one", async function () {
        const plugin = pluginPids();
        const apiserver = apiserverPids();
        assert.equal(plugin.length, 1);
        assert.equal(apiserver.length, 1);
        let reads = 0;
        const errors: string[] = [];
        let reading = true;
        const reader = (async () => {
            while (reading) {
                const i = Math.floor(Math.random() * SECRETS);
                const res = await request(admin, "GET", `/api/v1/namespaces/default/secrets/s-${i}`).catch((e) => ({ status: 0, body: String(e) }));
                reads++;
                if (res.status !== 200) errors.push(`${res.status} ${res.body.slice(0, 200)}`);
                await sleep(100);
            }
        })();
        let result;
        try {
            await ps.stack.setConfig("hardened-cluster:local", { value: JSON.stringify({ ...local, kmsKeyIds: ["kek1", "kek2"] }) });
            result = await up();
        } finally {
            reading = false;
            await reader;
        }
        const enc = result.outputs.details.value.encryption;
        console.log(`    KEK rotation: ${enc.rewritten} values rewritten at ${Number(enc.rewritePerSecond).toFixed(0)}/s; ${reads} reads, ${errors.length} errors`);
        assert.equal(enc.staleValues, 0);
        assert.deepEqual(Object.keys(enc.kmsKeyIds), ["kek2"]);
        assert.deepEqual(Object.keys(secretsByValue()), ["k8s:enc:kms:v2:local-kms: kek2"]);
        assert.deepEqual(pluginPids(), plugin, "the plugin restarted");
        assert.deepEqual(apiserverPids(), apiserver, "the apiserver restarted");
        assert.ok(reads > 10, `only ${reads} reads`);
        assert.deepEqual(errors.slice(0, 5), []);
    });
});
