// The audit webhook backend on the local platform, end to end: the blueprint's own program brings up a local
// stack whose audit.webhook points at an HTTPS receiver this test runs on loopback (its certificate from a
// throwaway CA passed as caPem), and a write made through the admin kubeconfig must arrive there as an
// audit.k8s.io/v1 EventList.
//
// The mode is left at its default, "batch", because that is what a stack gets: the batching backend sends
// when 400 events are buffered or --audit-webhook-batch-max-wait (upstream default 30s, not overridden
// here) has passed, so each wait below is bounded at that 30s plus slack for throttling and a loaded machine.
// "blocking" would answer faster, but would then test a mode nobody gets without asking for it. Each create
// waits first for the batches holding the deployment's own requests to pass (see drained()).
//
// An http:// server is not tried here: test/unit/audit/validation.spec.ts ("an http webhook") already
// proves it is a ConfigError naming audit.webhook.server, through the same resolver the program uses.
import { strict as assert } from "node:assert";
import { randomBytes, X509Certificate } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import { planLocalStack } from "../../platforms/local/plan";
import { AuditSink, startAuditSink } from "./audit-sink";
import { Credential, fromKubeconfig, request } from "./kube";
import { processesOn } from "./processes";
import { e2eLocal, ProgramStack, programStack, toolchain } from "./harness";
import { E2E_PORTS } from "./ports";

const ports = E2E_PORTS.auditWebhook;
const system = process.getuid?.() === 0;
const BINARIES = ["pulumi-resource-pulumi-nodejs", "pulumi-resource-tls", "pulumi-resource-random", "pulumi-resource-kubernetes",
    "etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler"];
/** Upstream's --audit-webhook-batch-max-wait default (30s), plus slack. */
const DELIVERY_BOUND_MS = 90_000;
const BATCH_WAIT_SECONDS = 5;

interface ApiServer { pid: number; flags: Map<string, string> }

/** The one kube-apiserver on this spec's ports, with its --flag=value pairs. */
function apiServer(): ApiServer {
    const found = processesOn(Object.values(ports)).filter((p) => p.name === "kube-apiserver");
    assert.equal(found.length, 1, `expected one kube-apiserver on this spec's ports, found ${found.length}`);
    const flags = new Map<string, string>();
    for (const a of found[0].args.split(/\s+/).slice(1)) {
        const m = /^--([^=]+)=(.*)$/.exec(a);
        if (m) flags.set(m[1], m[2]);
    }
    return { pid: found[0].pid, flags };
}

/** The username the x509 authenticator gives a client certificate: its subject's CN. */
function commonName(certPem: string): string {
    const cn = new X509Certificate(certPem).subject.split("\n").find((l) => l.startsWith("CN="));
    assert.ok(cn, "the admin certificate has no CN");
    return cn.slice(3);
}

describe("audit webhook on the local platform (real control plane, real receiver)", function () {
    this.timeout(20 * 60_000);
    let ps: ProgramStack;
    let sink: AuditSink;
    let admin: Credential;
    let outputs: Record<string, { value: any; secret: boolean }>;
    let stateDir: string | undefined;
    let apiServerLog: string;
    let auditLog: string;

    // A 5 s batch wait instead of upstream's 30 s: the sink sees each batch sooner, and the spec waits less.
    const webhookConfig = (urlPath: string) => ({ webhook: { server: `${sink.origin}${urlPath}`, caPem: sink.caPem, batchMaxWaitSeconds: BATCH_WAIT_SECONDS } });
    const up = async () => {
        const res = await ps.stack.up({ onOutput: (o) => process.env.HC_E2E_VERBOSE && process.stdout.write(o) });
        assert.equal(res.summary.result, "succeeded");
        upEnded = Date.now();
        return res;
    };

    let upEnded = 0;
    /**
     * Waits until the sink receives a batch holding only events from after the last `up`. Kubernetes 1.34 cannot
     * serialize an audit event whose request body is a YAML apply patch that is not also JSON (which the
     * Kubernetes provider sends); the webhook then drops the whole batch such an event is in (upstream:
     * kubernetes/kubernetes#139419 and its review). Our create must not share a batch with the provider's work.
     */
    async function drained(): Promise<void> {
        const clean = (p: AuditSink["posts"][number]) => p.at > upEnded && (p.body?.items ?? []).length > 0 &&
            p.body.items.every((e: any) => Date.parse(e.requestReceivedTimestamp) > upEnded);
        const until = Date.now() + DELIVERY_BOUND_MS;
        while (!sink.posts.some(clean)) {
            assert.ok(Date.now() < until, `no batch of post-up events reached the sink within ${DELIVERY_BOUND_MS / 1000}s`);
            await new Promise((r) => setTimeout(r, 500));
        }
    }

    /** Creates a uniquely named ConfigMap and waits for the sink to receive its create event. */
    async function createAndAwait(): Promise<{ name: string; post: AuditSink["posts"][number]; event: any; ms: number }> {
        await drained();
        const name = `e2e-audit-${randomBytes(4).toString("hex")}`;
        const res = await request(admin, "POST", "/api/v1/namespaces/default/configmaps", {
            apiVersion: "v1", kind: "ConfigMap", metadata: { name }, data: { k: "v" },
        });
        assert.equal(res.status, 201, res.body);
        const started = Date.now();
        const isOurs = (e: any) => e?.objectRef?.name === name && e?.stage === "ResponseComplete";
        while (Date.now() - started < DELIVERY_BOUND_MS) {
            for (const post of sink.posts) {
                const event = (post.body?.items ?? []).find(isOurs);
                if (event) return { name, post, event, ms: Date.now() - started };
            }
            await new Promise((r) => setTimeout(r, 500));
        }
        // Diagnostics only: whether the event was logged at all, whether it arrives late, what the API server said.
        const logged = fs.readFileSync(auditLog, "utf8").includes(`"name":"${name}"`);
        let late = "never within a further 120s";
        for (const until = Date.now() + 120_000; Date.now() < until; await new Promise((r) => setTimeout(r, 1000))) {
            if (sink.posts.some((p) => (p.body?.items ?? []).some(isOurs))) { late = `after ${((Date.now() - started) / 1000).toFixed(0)}s`; break; }
        }
        const seen = sink.posts.map((p) => `${((p.at - started) / 1000).toFixed(1)}s ${p.path} ${p.body?.items?.length ?? "?"} events`);
        const said = fs.readFileSync(apiServerLog, "utf8").split("\n").filter((l) => /audit|webhook/i.test(l) && !/admission controller|AUDIT: id=/.test(l)).slice(-15);
        assert.fail(`no audit event for configmap ${name} within ${DELIVERY_BOUND_MS / 1000}s (in the audit log: ${logged}; arrived: ${late}); ` +
            `posts (time after the create): ${seen.join("; ") || "none"}; TLS errors: ${sink.tlsErrors.join("; ") || "none"}; ` +
            `kube-apiserver on audit:\n${said.join("\n")}`);
    }

    before(async function () {
        toolchain(...BINARIES);
        sink = await startAuditSink();
        const e2e = e2eLocal("audit-webhook", ports, system);
        stateDir = e2e.stateDir;
        const local = e2e.local;
        ps = await programStack({
            name: "audit-webhook",
            blueprint: true,
            binaries: BINARIES,
            config: {
                "hardened-cluster:local": { value: JSON.stringify(local) },
                "hardened-cluster:audit": { value: JSON.stringify(webhookConfig("/audit")) },
                "hardened-cluster:baseline": { value: JSON.stringify({ tenants: [{ name: "team-a" }] }) },
            },
        });
        const plan = planLocalStack({ stack: ps.stackName, local: local as never, toolchainBin: toolchain().bin, isRoot: system });
        apiServerLog = plan.nodes[0].logFiles["kube-apiserver"];
        auditLog = path.join(plan.local.layout.auditLogDir, "audit.log");
        outputs = (await up()).outputs;
        admin = fromKubeconfig(outputs.kubeconfig.value);
    });
    after(async function () {
        try {
            await ps?.cleanup();
        } finally {
            await sink?.close();
            if (stateDir) fs.rmSync(stateDir, { recursive: true, force: true });
        }
    });

    it("the apiserver reads a 0600 webhook config naming the receiver and its CA, in batch mode with the configured wait", function () {
        const { flags } = apiServer();
        assert.equal(flags.get("audit-webhook-mode"), "batch");
        assert.equal(flags.get("audit-webhook-batch-max-wait"), `${BATCH_WAIT_SECONDS}s`);
        const file = flags.get("audit-webhook-config-file");
        assert.ok(file, "kube-apiserver has no --audit-webhook-config-file");
        const st = fs.statSync(file);
        assert.ok(st.isFile(), `${file} is not a regular file`);
        assert.equal(st.mode & 0o777, 0o600);
        const kc = parse(fs.readFileSync(file, "utf8"));
        const current = kc.contexts.find((c: any) => c.name === kc["current-context"]);
        assert.ok(current, "the webhook kubeconfig's current-context names no context");
        const cluster = kc.clusters.find((c: any) => c.name === current.context.cluster).cluster;
        assert.equal(cluster.server, `${sink.origin}/audit`);
        assert.equal(Buffer.from(cluster["certificate-authority-data"], "base64").toString("utf8").trim(), sink.caPem.trim());
    });

    it("reports the webhook in the local posture output", function () {
        const audit = outputs.posture.value?.cluster?.audit;
        assert.ok(audit, `no audit in the cluster posture: ${JSON.stringify(outputs.posture.value?.cluster)}`);
        assert.equal(audit.webhook, true);
    });

    it("delivers a ConfigMap create to the receiver as an audit.k8s.io/v1 EventList", async function () {
        const { name, post, event, ms } = await createAndAwait();
        console.log(`      (create event received ${(ms / 1000).toFixed(1)}s after the request)`);
        // Well under upstream's 30 s batch wait: the configured wait is the one in force.
        assert.ok(ms < 20_000, `the create event took ${ms} ms to arrive with a ${BATCH_WAIT_SECONDS}s batch wait`);
        assert.equal(post.path, "/audit");
        assert.match(post.contentType, /^application\/json/);
        assert.equal(post.body.apiVersion, "audit.k8s.io/v1");
        assert.equal(post.body.kind, "EventList");
        assert.equal(event.verb, "create");
        assert.equal(event.objectRef.resource, "configmaps");
        assert.equal(event.objectRef.namespace, "default");
        assert.equal(event.objectRef.name, name);
        assert.equal(event.user.username, commonName(admin.certPem!));
        assert.equal(event.responseStatus?.code, 201);
    });

    it("a change to the webhook file alone restarts the apiserver onto the new receiver URL", async function () {
        const before = apiServer();
        await ps.stack.setConfig("hardened-cluster:audit", { value: JSON.stringify(webhookConfig("/audit-moved")) });
        await up();
        const after = apiServer();
        // The command line is unchanged, so only the file's content can have triggered the restart.
        assert.deepEqual([...after.flags], [...before.flags]);
        assert.notEqual(after.pid, before.pid, "kube-apiserver was not restarted after its webhook config changed");
        const { post } = await createAndAwait();
        assert.equal(post.path, "/audit-moved");
    });

    it("the controller manager and scheduler still run after the API server's restart", async function () {
        // Upstream, both exit when they cannot renew their leader lease; the restart above stopped the API server.
        // A lease renewal deadline (10s upstream) passes well within this wait.
        await new Promise((r) => setTimeout(r, 20_000));
        const running = processesOn(Object.values(ports)).map((p) => p.name).sort();
        assert.deepEqual(running, ["etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler"]);
    });
});
