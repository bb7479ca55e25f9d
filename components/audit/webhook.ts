// The audit webhook backend's config file: kubeconfig format, which the apiserver loads like any client
// config, so it must pass client-go's "usable config" checks (a current context naming an existing cluster
// and an existing user entry, even when that user has no credentials).
import { AuditWebhookOptions, resolveWebhook } from "./options";

const NAME = "audit-webhook";
const USER = "kube-apiserver";

export interface AuditWebhookConfig {
    apiVersion: "v1";
    kind: "Config";
    clusters: { name: string; cluster: { server: string; "certificate-authority-data"?: string } }[];
    users: { name: string; user: Record<string, never> }[];
    contexts: { name: string; context: { cluster: string; user: string } }[];
    "current-context": string;
}

export function renderAuditWebhookConfig(webhook: AuditWebhookOptions, configKey = "audit"): AuditWebhookConfig {
    const w = resolveWebhook(webhook, `${configKey}.webhook`);
    const cluster: AuditWebhookConfig["clusters"][number]["cluster"] = { server: w.server };
    if (w.caPem !== undefined) cluster["certificate-authority-data"] = Buffer.from(w.caPem, "utf8").toString("base64");
    return {
        apiVersion: "v1",
        kind: "Config",
        clusters: [{ name: NAME, cluster }],
        users: [{ name: USER, user: {} }],
        contexts: [{ name: NAME, context: { cluster: NAME, user: USER } }],
        "current-context": NAME,
    };
}
