// A raw read of etcd for the encryption specs: every Secret's stored value, fetched with etcdctl and the stack's
// etcd health-check client pair, and counted by a label the spec itself derives from the value. The code
// under test never reads these values for the test.
import { execFileSync } from "node:child_process";
import * as path from "node:path";
import type { LocalStackPlan } from "../../platforms/local/plan";
import { toolchain } from "./harness";

export function countSecretValues(plan: LocalStackPlan, label: (value: Buffer) => string): Record<string, number> {
    const pick = (suffix: string) => plan.nodes[0].bundle.files.map((f) => f.path).find((f) => f.endsWith(suffix))!;
    const etcd = plan.nodes[0].bundle.processes.find((p) => p.name === "etcd")!;
    const endpoint = etcd.argv.find((a) => a.startsWith("--advertise-client-urls="))!.split("=")[1].split(",")[0];
    const out = execFileSync(path.join(toolchain().bin, "etcdctl"), [`--endpoints=${endpoint}`, `--cacert=${pick("/etcd/ca.crt")}`,
        `--cert=${pick("/etcd/healthcheck-client.crt")}`, `--key=${pick("/etcd/healthcheck-client.key")}`, "get", "--prefix", "/registry/secrets/", "-w", "json"],
    { encoding: "utf8", maxBuffer: 1 << 30 });
    const counts: Record<string, number> = {};
    for (const kv of (JSON.parse(out).kvs ?? []) as { value: string }[]) {
        const k = label(Buffer.from(kv.value, "base64"));
        counts[k] = (counts[k] ?? 0) + 1;
    }
    return counts;
}
