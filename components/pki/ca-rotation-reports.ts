// A CA rotation's gates where the machine running `pulumi up` cannot dial the nodes (AWS: private subnets). Each
// node reports what it holds and serves after every sync instead, and the gate reads those reports: the same two
// questions as the live checks of ca-rotation-gate.ts, answered from the node.
// - to issue-new: every trust file of the domain on every node holds the new CA, and no reader of a replaced
//   file waits for its restart (so every verifier runs with the new CA);
// - to distrust-old: every endpoint of the domain serves, and every client certificate a node holds is, a leaf that
//   the new CA verifies;
// - to steady (after distrust-old): every trust file of the domain holds the new CA alone, and nothing waits for a
//   restart, so no process trusts the old CA any more (an apiserver that did would publish it again in
//   extension-apiserver-authentication, which the step to steady prunes for good).
// A report says what was true at its node's last sync; nodes sync on a timer, so a refusal says to try again
// after the next one. No imports: the gate's provider is serialized into the state with these functions.
import type { CaName } from "./certlist";

/** What one node reports (the AWS platform's report script writes it as JSON). */
export interface NodeReport {
    node: string;
    /** Each trust file: the SHA-256 fingerprint (as X509Certificate.fingerprint256) of every certificate in it. */
    trust: Record<string, string[]>;
    /** Each TLS endpoint: the fingerprint of the certificate in its trust file that verifies the leaf it serves, or why none. */
    served: Record<string, { ca: string } | { error: string }>;
    /** Each leaf the node holds in a file and presents as a client (a worker kubelet's): as `served`. */
    held?: Record<string, { ca: string } | { error: string }>;
    /** Units whose files a sync replaced and that have not restarted since. */
    pending: string[];
}

/** What a node must report on, from the plan: the files and endpoints of each domain. */
export interface NodeReportExpectation {
    node: string;
    trust: Record<CaName, string[]>;
    served: Record<CaName, string[]>;
    held?: Record<CaName, string[]>;
}

export interface CaRotationReports {
    expected: NodeReportExpectation[];
    /** Each node's last report as it stored it (JSON); a node that never reported has none. */
    reports: Record<string, string>;
    /** How a refusal says when the nodes report again, e.g. "every 15 minutes". */
    schedule: string;
    /**
     * An API URL the machine running `pulumi up` reaches (a balancer's is enough): kube-root-ca.crt is in no
     * node's files, so the cluster CA's issue-new reads it through the API.
     */
    api?: string;
}

/** The report's shape checked, or what is wrong with it. */
export function parseNodeReport(node: string, text: string | undefined): NodeReport | string {
    if (text === undefined || text.trim() === "" || text.trim() === "{}") return "has not reported yet";
    let v: unknown;
    try {
        v = JSON.parse(text);
    } catch {
        return "its report is not JSON";
    }
    const r = v as Partial<NodeReport>;
    const obj = (x: unknown) => typeof x === "object" && x !== null && !Array.isArray(x);
    const strings = (x: unknown) => Array.isArray(x) && x.every((s) => typeof s === "string");
    if (!obj(r) || r.node !== node) return `its report names node ${JSON.stringify(obj(r) ? r.node : undefined)}`;
    if (!obj(r.trust) || !Object.values(r.trust!).every(strings)) return "its report has no valid trust files";
    const verdicts = (x: unknown) => obj(x) && Object.values(x as object).every((s) => obj(s) && (typeof (s as { ca?: unknown }).ca === "string" || typeof (s as { error?: unknown }).error === "string"));
    if (!verdicts(r.served)) return "its report has no valid endpoints";
    if (r.held !== undefined && !verdicts(r.held)) return "its report has no valid held certificates";
    if (!strings(r.pending)) return "its report has no valid pending restarts";
    return r as NodeReport;
}

/** What keeps the nodes from `phase` of `domain`, by their reports; empty when every node is ready. */
export function reportProblems(domain: CaName, phase: "issue-new" | "distrust-old" | "steady", newCaFingerprint: string, r: CaRotationReports): string[] {
    const problems: string[] = [];
    for (const e of r.expected) {
        // A node that holds nothing of the domain (a worker, for the etcd CA) does not hold its rotation back.
        if (e.trust[domain].length + e.served[domain].length + (e.held?.[domain].length ?? 0) === 0) continue;
        const report = parseNodeReport(e.node, r.reports[e.node]);
        if (typeof report === "string") {
            problems.push(`${e.node}: ${report}`);
            continue;
        }
        if (report.pending.length > 0) problems.push(`${e.node}: ${report.pending.join(", ")} did not restart yet with the files its last sync replaced`);
        if (phase === "issue-new" || phase === "steady") {
            for (const file of e.trust[domain]) {
                const held = report.trust[file];
                if (held === undefined) problems.push(`${e.node} ${file}: not in its report`);
                else if (!held.includes(newCaFingerprint)) problems.push(`${e.node} ${file}: does not hold the new CA yet`);
                else if (phase === "steady" && held.some((fp) => fp !== newCaFingerprint)) problems.push(`${e.node} ${file}: still holds another CA than the new one`);
            }
        } else {
            const check = (names: string[], verdicts: NodeReport["served"] | undefined, verb: string) => {
                for (const name of names) {
                    const s = verdicts?.[name];
                    if (s === undefined) problems.push(`${e.node} ${name}: not in its report`);
                    else if ("error" in s) problems.push(`${e.node} ${name}: ${s.error}`);
                    else if (s.ca !== newCaFingerprint) problems.push(`${e.node} ${name}: ${verb} a leaf the new CA does not verify`);
                }
            };
            check(e.served[domain], report.served, "serves");
            check(e.held?.[domain] ?? [], report.held, "holds");
        }
    }
    return problems;
}
