// How long the pure half of the cluster baseline takes for many tenants: validate, render, summarise.
// Prints the figure; it asserts nothing, so a slow machine never fails a build (the unit tests check that
// the same 200 tenants render correctly).
//
//   TS_NODE_TRANSPILE_ONLY=true node -r ts-node/register bench/baseline-render.ts [tenants] [runs]
//
// With HC_BENCH_RESULT=<file> it also writes its figures there as JSON (RenderFigures), for
// bench/control-plane.ts, which runs it in a process of its own so the long runs before it cannot skew it.
import { writeFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { clusterPosture, planClusterBaseline, renderClusterBaseline, type ClusterBaselineConfig } from "../components/cluster-baseline";

export interface RenderFigures {
    tenants: number;
    objects: number;
    runs: number;
    medianMs: number;
    minMs: number;
    maxMs: number;
}

function config(n: number): ClusterBaselineConfig {
    return {
        tenants: Array.from({ length: n }, (_, i) => ({
            name: `tenant-${i}`,
            labels: { team: `team-${i % 20}` },
            allowSameNamespace: i % 2 === 0,
            allowIngressFromNamespaces: [{ namespaceLabels: { team: `team-${(i + 1) % 20}` }, ports: [{ port: 8080 }] }],
            allowEgressTo: [{ cidr: "0.0.0.0/0", ports: [{ port: 443 }] }],
            roleBindings: {
                developer: [{ kind: "Group", name: `team-${i}-devs` }],
                "ci-deployer": [{ kind: "ServiceAccount", name: "pipeline", namespace: "ci" }],
            },
        })),
        rbac: { clusterBindings: { auditor: [{ kind: "Group", name: "auditors" }] } },
        admission: { allowedRegistries: ["registry.k8s.io", "ghcr.io"] },
    };
}

function once(n: number): { ms: number; objects: number } {
    const input = config(n);
    const start = performance.now();
    const plan = planClusterBaseline("bench", input);
    const objs = renderClusterBaseline(plan);
    clusterPosture(plan);
    const ms = performance.now() - start;
    const tenantObjects = objs.tenants.flatMap((t) => [t.namespace, ...t.networkPolicies, t.resourceQuota, t.limitRange, t.defaultServiceAccount, ...t.roleBindings]);
    const clusterObjects = [...objs.builtInNamespacePatches, objs.policy, objs.policyBinding, ...plan.rbac.clusterRoles, ...plan.rbac.clusterRoleBindings];
    return { ms, objects: tenantObjects.length + clusterObjects.length };
}

function measure(tenantCount: number, runs: number): RenderFigures {
    once(tenantCount); // warm-up: module loading and JIT are not what is measured
    const samples = Array.from({ length: runs }, () => once(tenantCount));
    const times = samples.map((s) => s.ms).sort((a, b) => a - b);
    return {
        tenants: tenantCount, objects: samples[0].objects, runs,
        medianMs: times[Math.floor(times.length / 2)], minMs: times[0], maxMs: times[times.length - 1],
    };
}

if (require.main === module) {
    const f = measure(Number(process.argv[2] ?? 200), Number(process.argv[3] ?? 20));
    console.log(
        `baseline-render: ${f.tenants} tenants -> ${f.objects} objects; ` +
            `median ${f.medianMs.toFixed(1)} ms, min ${f.minMs.toFixed(1)} ms, max ${f.maxMs.toFixed(1)} ms over ${f.runs} runs`,
    );
    if (process.env.HC_BENCH_RESULT) writeFileSync(process.env.HC_BENCH_RESULT, JSON.stringify(f));
}
