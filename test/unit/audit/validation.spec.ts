import { strict as assert } from "node:assert";
import { ConfigError } from "../../../components/common";
import { rejects } from "../config-error";
import { AuditLogOptions, auditApiServerFlags, auditPosture, renderAuditPolicy, renderAuditWebhookConfig } from "../../../components/audit";

const FILES = { policyFile: "/p.yaml", logFile: "/a.log", webhookConfigFile: "/w.conf" };

describe("audit: bad input names the setting", () => {
    // [what, options, key path, something the message must say]
    const cases: [string, unknown, string, RegExp?][] = [
        ["an unknown option", { maxage: 30 }, "audit.maxage", /maxAge/],
        ["an unknown preset", { preset: "paranoid" }, "audit.preset", /strict/],
        ["maxAge below the CIS minimum", { maxAge: 7 }, "audit.maxAge", /allowReducedRetention/],
        ["maxBackup below the CIS minimum", { maxBackup: 5 }, "audit.maxBackup", /at least 10/],
        ["maxSize below the CIS minimum", { maxSize: 50 }, "audit.maxSize", /at least 100/],
        ["maxSize as a string", { maxSize: "100" }, "audit.maxSize", /whole number/],
        ["a zero maxBackup even when reduced retention is allowed", { maxBackup: 0, allowReducedRetention: true }, "audit.maxBackup"],
        ["allowReducedRetention as a string", { allowReducedRetention: "yes" }, "audit.allowReducedRetention"],
        ["an http webhook", { webhook: { server: "http://sink.example.com" } }, "audit.webhook.server", /https/],
        ["a webhook URL that does not parse", { webhook: { server: "sink.example.com" } }, "audit.webhook.server"],
        ["a webhook without server", { webhook: { mode: "batch" } }, "audit.webhook.server"],
        ["credentials in the webhook URL", { webhook: { server: "https://u:p@sink.example.com" } }, "audit.webhook.server", /credentials/],
        ["an unknown webhook mode", { webhook: { server: "https://s.example", mode: "async" } }, "audit.webhook.mode", /blocking-strict/],
        ["a webhook CA that is not PEM", { webhook: { server: "https://s.example", caPem: "not a cert" } }, "audit.webhook.caPem", /CERTIFICATE/],
        ["a private key beside the webhook CA", {
            webhook: {
                server: "https://s.example",
                caPem: "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----",
            },
        }, "audit.webhook.caPem"],
        ["a batch wait of 0", { webhook: { server: "https://s.example", batchMaxWaitSeconds: 0 } }, "audit.webhook.batchMaxWaitSeconds", /1 to 300/],
        ["a batch wait over five minutes", { webhook: { server: "https://s.example", batchMaxWaitSeconds: 301 } }, "audit.webhook.batchMaxWaitSeconds", /1 to 300/],
        ["a batch wait in blocking mode", { webhook: { server: "https://s.example", mode: "blocking", batchMaxWaitSeconds: 5 } }, "audit.webhook.batchMaxWaitSeconds", /batch/],
        ["an unknown webhook field", { webhook: { server: "https://s.example", insecure: true } }, "audit.webhook.insecure"],
        ["options that are not an object", ["standard"], "audit"],
        ["a token in the webhook URL's query", { webhook: { server: "https://sink.example.com/events?token=abc" } }, "audit.webhook.server", /query/],
        ["a bare query mark in the webhook URL", { webhook: { server: "https://sink.example.com/events?" } }, "audit.webhook.server", /query/],
        ["a fragment in the webhook URL", { webhook: { server: "https://sink.example.com/events#token=abc" } }, "audit.webhook.server", /fragment/],
        ["null as the webhook", { webhook: null }, "audit.webhook"],
        ["null as the whole block", null, "audit"],
    ];

    for (const [what, options, path, mentions] of cases) {
        it(`rejects ${what} in the policy, flags and posture alike`, () => {
            rejects(() => renderAuditPolicy(options as AuditLogOptions), path, mentions);
            rejects(() => auditApiServerFlags(options as AuditLogOptions, FILES), path, mentions);
            rejects(() => auditPosture(options as AuditLogOptions), path, mentions);
        });
    }

    it("never echoes credentials found in a webhook URL", () => {
        assert.throws(() => renderAuditPolicy({ webhook: { server: "https://user:hunter2@s.example" } }), (e: unknown) => {
            assert.ok(e instanceof ConfigError);
            assert.ok(!e.message.includes("hunter2"), e.message);
            return true;
        });
    });

    it("never echoes a webhook URL it refuses, whatever the reason", () => {
        const servers = ["https://sink.example.com/e?token=hunter2", "https://sink.example.com/e#hunter2", "http://sink.example.com/hunter2", "https://:hunter2@s.example"];
        for (const server of servers) {
            assert.throws(() => auditPosture({ webhook: { server } }), (e: unknown) => {
                assert.ok(e instanceof ConfigError);
                assert.equal(e.key, "audit.webhook.server");
                assert.ok(!e.message.includes("hunter2"), e.message);
                return true;
            });
        }
    });

    it("roots key paths at the caller's configKey", () => {
        rejects(() => auditApiServerFlags({ maxAge: 1 }, FILES, "hardened-cluster:audit"), "hardened-cluster:audit.maxAge");
        rejects(() => renderAuditWebhookConfig({ server: "ftp://x" }, "hc"), "hc.webhook.server");
    });

    it("accepts reduced retention only through the named option", () => {
        const flags = auditApiServerFlags({ maxAge: 1, maxBackup: 1, maxSize: 10, allowReducedRetention: true }, FILES);
        assert.deepEqual([flags["audit-log-maxage"], flags["audit-log-maxbackup"], flags["audit-log-maxsize"]], ["1", "1", "10"]);
    });
});
