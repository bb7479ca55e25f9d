import { strict as assert } from "node:assert";
import { parse } from "yaml";
import { kubeadmLayout, stateDirLayout, toYaml } from "../../../components/common";
import { auditApiServerFlags, auditLogFiles, auditPosture, renderAuditWebhookConfig } from "../../../components/audit";

const FILES = { policyFile: "/etc/kubernetes/audit-policy.yaml", logFile: "/var/log/kubernetes/audit/audit.log" };
// Not a real CA: the renderer only checks PEM framing, and the test only needs bytes to survive encoding.
const CA = "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUTESTONLY\n-----END CERTIFICATE-----";

describe("audit: files, flags, webhook and posture", () => {
    it("places the log in the layout's audit directory and the policy with the other config files", () => {
        const files = auditLogFiles(kubeadmLayout());
        assert.equal(files.logFile, "/var/log/kubernetes/audit/audit.log");
        assert.equal(files.policyFile, "/etc/kubernetes/audit-policy.yaml");
        assert.equal(files.webhookConfigFile, "/etc/kubernetes/audit-webhook.conf");
        assert.equal(auditLogFiles(stateDirLayout("/srv/hc")).logFile, "/srv/hc/audit/audit.log");
    });

    it("defaults to the CIS retention of 30 days, 10 files and 100 MB, as JSON", () => {
        assert.deepEqual(auditApiServerFlags(undefined, FILES), {
            "audit-policy-file": FILES.policyFile,
            "audit-log-path": FILES.logFile,
            "audit-log-maxage": "30",
            "audit-log-maxbackup": "10",
            "audit-log-maxsize": "100",
            "audit-log-format": "json",
        });
    });

    it("passes longer retention through", () => {
        const flags = auditApiServerFlags({ maxAge: 90, maxBackup: 20, maxSize: 200 }, FILES);
        assert.deepEqual([flags["audit-log-maxage"], flags["audit-log-maxbackup"], flags["audit-log-maxsize"]], ["90", "20", "200"]);
    });

    it("adds the webhook backend's flags only when a webhook is set, defaulting to batch mode", () => {
        assert.equal(Object.keys(auditApiServerFlags({}, FILES)).some((f) => f.startsWith("audit-webhook")), false);
        const files = { ...FILES, webhookConfigFile: "/etc/kubernetes/audit-webhook.conf" };
        const flags = auditApiServerFlags({ webhook: { server: "https://sink.example.com/audit" } }, files);
        assert.equal(flags["audit-webhook-config-file"], "/etc/kubernetes/audit-webhook.conf");
        assert.equal(flags["audit-webhook-mode"], "batch");
        assert.equal(auditApiServerFlags({ webhook: { server: "https://s.example", mode: "blocking-strict" } }, files)["audit-webhook-mode"], "blocking-strict");
        // Upstream's batch wait (30s) unless set; kube-apiserver takes a duration.
        assert.equal(flags["audit-webhook-batch-max-wait"], undefined);
        assert.equal(auditApiServerFlags({ webhook: { server: "https://s.example", batchMaxWaitSeconds: 5 } }, files)["audit-webhook-batch-max-wait"], "5s");
        // The log file backend stays on beside the webhook.
        assert.equal(flags["audit-log-path"], FILES.logFile);
    });

    it("refuses a webhook when the caller gave no file for its config", () => {
        assert.throws(() => auditApiServerFlags({ webhook: { server: "https://sink.example.com" } }, FILES), /webhookConfigFile/);
    });

    it("renders the webhook config as a usable kubeconfig with the CA embedded", () => {
        const cfg = renderAuditWebhookConfig({ server: "https://sink.example.com/audit", caPem: CA });
        assert.deepEqual(parse(toYaml(cfg)), cfg);
        assert.equal(cfg.kind, "Config");
        const ctx = cfg.contexts.find((c) => c.name === cfg["current-context"]);
        assert.ok(ctx, "current-context must name a context");
        const cluster = cfg.clusters.find((c) => c.name === ctx.context.cluster);
        assert.ok(cluster, "the context must name a cluster");
        assert.ok(cfg.users.some((u) => u.name === ctx.context.user), "the context must name an existing user");
        assert.equal(cluster.cluster.server, "https://sink.example.com/audit");
        assert.equal(Buffer.from(cluster.cluster["certificate-authority-data"]!, "base64").toString("utf8").trim(), CA);
        assert.ok(!JSON.stringify(cfg).includes("insecure-skip-tls-verify"));
    });

    it("leaves the CA out when none is given", () => {
        const cfg = renderAuditWebhookConfig({ server: "https://sink.example.com" });
        assert.deepEqual(cfg.clusters[0].cluster, { server: "https://sink.example.com" });
    });

    it("reports the secure defaults with no weakenings", () => {
        assert.deepEqual(auditPosture(undefined), { preset: "standard", maxAge: 30, maxBackup: 10, maxSize: 100, webhook: false, weakenings: [] });
        assert.deepEqual(auditPosture({ preset: "strict", webhook: { server: "https://s.example" } }).weakenings, []);
        assert.equal(auditPosture({ webhook: { server: "https://s.example" } }).webhook, true);
    });

    it("lists the minimal preset and reduced retention as weakenings", () => {
        const p = auditPosture({ preset: "minimal", maxAge: 7, allowReducedRetention: true }, "hc:audit");
        assert.deepEqual(p.weakenings.map((w) => w.option), ["hc:audit.preset", "hc:audit.allowReducedRetention"]);
        assert.match(p.weakenings[1].effect, /maxAge 7 < 30/);
        assert.equal(p.maxAge, 7);
    });
});
