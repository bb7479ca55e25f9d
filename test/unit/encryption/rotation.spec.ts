// The rotation's pure half: the etcd scan, the reload wait and the rewrite. Value prefixes follow the
// Kubernetes docs on encryption at rest ("k8s:enc:<provider>:v1:<key name>:"); the metric names and the
// "sha256:<hex>" hash label are what kube-apiserver v1.34 serves on /metrics; list paging, 409 Conflict and
// 410 Gone for an expired continue token are the API conventions the rewrite relies on.
import { strict as assert } from "node:assert";
import { createHash } from "node:crypto";
import {
    ApiCall, configHash, coveredResources, keyIdHash, kmsKeyId, latestKmsKeyIdHash, parseReloadMetrics, plainPrefixes, rewriteAll, RewriteCheckpoint, scanStale,
    valuesUsing, waitForConfig,
} from "../../../components/encryption";

const b64 = (s: string | Buffer) => Buffer.from(s).toString("base64");
const kv = (key: string, value: string) => ({ key: b64(key), value: b64(value) });
const enc = (k: string) => `k8s:enc:secretbox:v1:${k}:\x00\x3a\xff`;

describe("encryption rotation: the etcd scan", () => {
    const kvs = [
        kv("/registry/secrets/a/s1", enc("k1")),
        kv("/registry/secrets/a/s2", enc("k2")),
        kv("/registry/secrets/b/s3", enc("k1")),
        kv("/registry/secrets/b/s4", '{"kind":"Secret"}'),
        kv("/registry/configmaps/a/c1", '{"kind":"ConfigMap"}'),
        kv("/registry/pods/a/p1", "k8s\x00protobuf"),
        kv("/elsewhere/x", enc("k1")),
    ];

    it("counts what the writer did not write: other keys everywhere, clear values only where covered", () => {
        const s = scanStale(kvs, "secretbox:k2", plainPrefixes(["secrets"]));
        assert.equal(s.scanned, 6);
        assert.deepEqual(s.refs, { "secretbox:k1": 2, "secretbox:k2": 1 });
        assert.equal(s.stale, 3);
        assert.deepEqual(s.sample, ["/registry/secrets/a/s1", "/registry/secrets/b/s3", "/registry/secrets/b/s4"]);
        assert.equal(scanStale(kvs, "secretbox:k2", plainPrefixes(["secrets", "configmaps"])).stale, 4);
        assert.equal(scanStale(kvs, "secretbox:k1", []).stale, 1);
    });

    it("finds the values a dropped key would leave unreadable", () => {
        assert.deepEqual(valuesUsing(kvs, ["secretbox:k1"]), { count: 2, sample: ["/registry/secrets/a/s1", "/registry/secrets/b/s3"] });
        assert.deepEqual(valuesUsing(kvs, ["aescbc:k1"]), { count: 0, sample: [] });
    });

    it("knows the fixed storage paths of the covered core resources only", () => {
        assert.deepEqual(plainPrefixes(["secrets", "deployments.apps"]), ["/registry/secrets/"]);
        assert.deepEqual(plainPrefixes(["*.*"]), ["/registry/configmaps/", "/registry/secrets/"]);
    });
});

describe("encryption rotation: KMS v2 values and key ids", () => {
    // EncryptedObject (kmsv2 api.proto): encryptedData = 1, keyID = 2, encryptedDEKSource = 3, hand-encoded.
    const field = (n: number, body: Buffer) => Buffer.concat([Buffer.from([(n << 3) | 2, body.length]), body]);
    const kmsValue = (plugin: string, keyId: string) => Buffer.concat([
        Buffer.from(`k8s:enc:kms:v2:${plugin}:`), field(1, Buffer.from([1, 2, 3, 0x3a])), field(2, Buffer.from(keyId)), field(3, Buffer.alloc(32, 7)),
    ]);

    it("reads the KEK id out of a KMS v2 value, and nothing out of anything else", () => {
        assert.equal(kmsKeyId(kmsValue("local-kms", "kek2")), "kek2");
        assert.equal(kmsKeyId(Buffer.from("k8s:enc:secretbox:v1:k1:abc")), undefined);
        assert.equal(kmsKeyId(Buffer.concat([Buffer.from("k8s:enc:kms:v2:p:"), Buffer.from([0x12, 40, 0x61])])), undefined);
    });

    it("counts values under the KMS writer but an older KEK as stale", () => {
        const kvs = [kmsValue("local-kms", "kek1"), kmsValue("local-kms", "kek2"), kmsValue("local-kms", "kek2")]
            .map((v, i) => ({ key: b64(`/registry/secrets/a/s${i}`), value: v.toString("base64") }));
        const s = scanStale(kvs, "kms:local-kms", [], "kek2");
        assert.deepEqual([s.stale, s.kmsKeyIds, s.refs], [1, { kek1: 1, kek2: 2 }, { "kms:local-kms": 3 }]);
        assert.equal(scanStale(kvs, "kms:local-kms").stale, 0);
    });

    it("takes the newest key id a provider's Status reported, hashed as sha256:<hex>", () => {
        const h = (id: string) => `sha256:${createHash("sha256").update(id).digest("hex")}`;
        assert.equal(keyIdHash("kek1"), h("kek1"));
        const text = [
            `apiserver_envelope_encryption_key_id_hash_status_last_timestamp_seconds{apiserver_id_hash="sha256:aa",key_id_hash="${h("kek1")}",provider_name="local-kms"} 1.7e+09`,
            `apiserver_envelope_encryption_key_id_hash_status_last_timestamp_seconds{apiserver_id_hash="sha256:aa",key_id_hash="${h("kek2")}",provider_name="local-kms"} 1.8e+09`,
            `apiserver_envelope_encryption_key_id_hash_status_last_timestamp_seconds{apiserver_id_hash="sha256:aa",key_id_hash="${h("x")}",provider_name="other"} 1.9e+09`,
        ].join("\n");
        assert.equal(latestKmsKeyIdHash(text, "local-kms"), h("kek2"));
        assert.equal(latestKmsKeyIdHash(text, "absent"), undefined);
    });
});

describe("encryption rotation: every apiserver on the new file", () => {
    const metrics = (hash: string, failures = 0) => [
        "# TYPE apiserver_encryption_config_controller_last_config_info gauge",
        `apiserver_encryption_config_controller_last_config_info{apiserver_id_hash="sha256:aa",hash="${hash}"} 1`,
        `apiserver_encryption_config_controller_automatic_reloads_total{apiserver_id_hash="sha256:aa",status="success"} 2`,
        ...(failures ? [`apiserver_encryption_config_controller_automatic_reloads_total{apiserver_id_hash="sha256:aa",status="failure"} ${failures}`] : []),
    ].join("\n");

    it("hashes the file as the apiserver reports it: sha256: and the hex digest of its bytes", () => {
        assert.equal(configHash("abc"), `sha256:${createHash("sha256").update("abc").digest("hex")}`);
        assert.deepEqual(parseReloadMetrics(metrics("sha256:01", 3)), { hashes: ["sha256:01"], successes: 2, failures: 3 });
    });

    it("waits until every apiserver reports the hash, polling the ones still behind", async () => {
        let clock = 0;
        const seen: string[] = [];
        const api = (name: string, loadsAt: number) => ({ name, metrics: async () => (seen.push(name), metrics(clock >= loadsAt ? "sha256:new" : "sha256:old")) });
        const secs = await waitForConfig([api("a", 0), api("b", 4000)], "sha256:new", { timeoutMs: 60_000, pollMs: 2000, now: () => clock, sleep: async (ms) => void (clock += ms) });
        assert.equal(secs, 4);
        assert.deepEqual(seen, ["a", "b", "b", "b"]);
    });

    it("stops naming the apiserver whose reload failed, and the one that never loads by the timeout", async () => {
        let clock = 0;
        let failures = 0;
        const failing = { name: "kube-apiserver https://127.0.0.12:6443", metrics: async () => metrics("sha256:old", failures++) };
        await assert.rejects(waitForConfig([failing], "sha256:new", { timeoutMs: 60_000, now: () => clock, sleep: async (ms) => void (clock += ms) }),
            /kube-apiserver https:\/\/127\.0\.0\.12:6443 refused the new encryption config \(automatic reload failures 0 -> 1\); it still runs on sha256:old/);
        clock = 0;
        const stuck = { name: "b", metrics: async () => metrics("sha256:old") };
        await assert.rejects(waitForConfig([stuck], "sha256:new", { timeoutMs: 10_000, now: () => clock, sleep: async (ms) => void (clock += ms) }),
            /not every apiserver loaded the encryption config sha256:new within 10 s: b runs on sha256:old/);
    });
});

/** An apiserver holding Secrets in memory: pages, a conflict on chosen names, a Secret deleted under the rewrite. */
function fakeApi(names: string[], o: { conflictOnce?: string[]; goneBeforeWrite?: string[]; expireToken?: string } = {}) {
    const calls: string[] = [];
    const conflicts = new Set(o.conflictOnce);
    const puts: string[] = [];
    const api: ApiCall = async (method, p, body) => {
        calls.push(`${method} ${p}`);
        const url = new URL(p, "https://x");
        if (method === "GET" && url.pathname === "/api/v1") {
            return { status: 200, text: JSON.stringify({ resources: [
                { name: "secrets", kind: "Secret", namespaced: true, verbs: ["list", "update", "get"] },
                { name: "pods/log", kind: "Pod", namespaced: true, verbs: ["get"] },
                { name: "configmaps", kind: "ConfigMap", namespaced: true, verbs: ["list", "update"] },
                { name: "bindings", kind: "Binding", namespaced: true, verbs: ["create"] },
            ] }) };
        }
        if (method === "GET" && url.pathname === "/apis") return { status: 200, text: JSON.stringify({ groups: [{ name: "apps", preferredVersion: { groupVersion: "apps/v1" } }] }) };
        if (method === "GET" && url.pathname === "/apis/apps/v1") {
            return { status: 200, text: JSON.stringify({ resources: [{ name: "deployments", kind: "Deployment", namespaced: true, verbs: ["list", "update"] }, { name: "deployments/scale", kind: "Scale", namespaced: true, verbs: ["update"] }] }) };
        }
        if (method === "GET" && url.pathname === "/api/v1/secrets") {
            const token = url.searchParams.get("continue");
            if (token && token === o.expireToken) {
                o.expireToken = undefined;
                return { status: 410, text: "expired" };
            }
            const start = token ? Number(token) : 0;
            const limit = Number(url.searchParams.get("limit"));
            const items = names.slice(start, start + limit).map((n) => ({ metadata: { name: n, namespace: "ns", resourceVersion: "1" }, data: {} }));
            const more = start + limit < names.length;
            return { status: 200, text: JSON.stringify({ items, metadata: more ? { continue: String(start + limit) } : {} }) };
        }
        const name = decodeURIComponent(url.pathname.split("/").pop()!);
        if (method === "GET") return { status: 200, text: JSON.stringify({ metadata: { name, namespace: "ns", resourceVersion: "2" } }) };
        if (method === "PUT") {
            const b = body as { apiVersion: string; kind: string; metadata: { resourceVersion: string } };
            assert.equal(`${b.apiVersion} ${b.kind}`, "v1 Secret");
            if (o.goneBeforeWrite?.includes(name)) return { status: 404, text: "not found" };
            if (conflicts.delete(name)) return { status: 409, text: "conflict" };
            puts.push(`${name}@${b.metadata.resourceVersion}`);
            return { status: 200, text: "{}" };
        }
        return { status: 500, text: `unexpected ${method} ${p}` };
    };
    return { api, calls, puts };
}

describe("encryption rotation: the rewrite", () => {
    const names = Array.from({ length: 25 }, (_, i) => `s${i}`);

    it("covers the listable, updatable resources the patterns name, secrets first", async () => {
        const { api } = fakeApi([]);
        assert.deepEqual((await coveredResources(api, ["configmaps", "secrets"])).map((r) => r.id), ["secrets", "configmaps"]);
        assert.deepEqual((await coveredResources(api, ["secrets", "*.apps"])).map((r) => `${r.id} ${r.base}`), ["secrets /api/v1", "deployments.apps /apis/apps/v1"]);
        assert.deepEqual((await coveredResources(api, ["*.*"])).map((r) => r.id), ["secrets", "configmaps", "deployments.apps"]);
    });

    it("writes every object back unchanged through the pages, retrying a conflict on the fresh object and passing over a deleted one", async () => {
        const { api, puts } = fakeApi(names, { conflictOnce: ["s3"], goneBeforeWrite: ["s7"] });
        const saved: RewriteCheckpoint[] = [];
        const [secrets] = await coveredResources(api, ["secrets"]);
        const r = await rewriteAll(api, { writer: "secretbox:k2", resources: [secrets], save: (c) => saved.push(JSON.parse(JSON.stringify(c))), pageSize: 10 });
        assert.equal(r.rewritten, 24);
        assert.equal(r.gone, 1);
        assert.equal(r.conflicts, 1);
        assert.ok(puts.includes("s3@2"), "the conflicting Secret was written back as re-read");
        assert.equal(puts.length, 24);
        assert.deepEqual(saved.map((c) => [c.processed, c.current?.continue ?? null, c.done]), [[10, "10", []], [20, "20", []], [25, null, ["secrets"]]]);
    });

    it("resumes from a checkpoint for the same key, and starts afresh for another key", async () => {
        const { api, calls, puts } = fakeApi(names);
        const [secrets] = await coveredResources(api, ["secrets"]);
        const checkpoint: RewriteCheckpoint = { writer: "secretbox:k2", done: [], current: { resource: "secrets", continue: "20" }, processed: 20 };
        const r = await rewriteAll(api, { writer: "secretbox:k2", resources: [secrets], checkpoint, save: () => undefined, pageSize: 10 });
        assert.equal(r.resumedAt, 20);
        assert.deepEqual(puts, ["s20@1", "s21@1", "s22@1", "s23@1", "s24@1"]);
        assert.ok(calls.includes("GET /api/v1/secrets?limit=10&continue=20"));
        const other = await rewriteAll(api, { writer: "secretbox:k3", resources: [secrets], checkpoint, save: () => undefined, pageSize: 10 });
        assert.equal(other.resumedAt, 0);
        assert.equal(other.rewritten, 25);
    });

    it("lists a resource again from its start when its continue token has expired (410 Gone)", async () => {
        const { api, puts } = fakeApi(names, { expireToken: "20" });
        const [secrets] = await coveredResources(api, ["secrets"]);
        const r = await rewriteAll(api, { writer: "secretbox:k2", resources: [secrets], save: () => undefined, pageSize: 10 });
        assert.equal(r.restarts, 1);
        assert.equal(puts.length, 45);
        assert.equal(new Set(puts).size, 25);
    });

    it("fails on an error it cannot retry, naming the object", async () => {
        const api: ApiCall = async (method, p) => (method === "GET" && p.startsWith("/api/v1/secrets")
            ? { status: 200, text: JSON.stringify({ items: [{ metadata: { name: "x", namespace: "ns" } }], metadata: {} }) }
            : { status: 422, text: "invalid" });
        const secrets = { id: "secrets", base: "/api/v1", resource: "secrets", apiVersion: "v1", kind: "Secret", namespaced: true };
        await assert.rejects(rewriteAll(api, { writer: "w", resources: [secrets], save: () => undefined }), /PUT \/api\/v1\/namespaces\/ns\/secrets\/x: HTTP 422 invalid/);
    });
});
