// How long the pure half of the cluster baseline takes for many tenants: validate, render, summarise.
// Prints the figure; it asserts nothing, so a slow machine never fails a build (the unit tests check that
// the same 200 tenants render correctly).
//
//   TS_NODE_TRANSPILE_ONLY=true node -r ts-node/register bench/baseline-render.ts [tenants] [runs]
import { performance } from "node:perf_hooks";
import { clusterPosture, planClusterBaseline, renderClusterBaseline, type ClusterBaselineConfig } from "../components/cluster-baseline";

const tenantCount = Number(process.argv[2] ?? 200);
const runs = Number(process.argv[3] ?? 20);

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

once(tenantCount); // warm-up: module loading and JIT are not what is measured
const samples = Array.from({ length: runs }, () => once(tenantCount));
const times = samples.map((s) => s.ms).sort((a, b) => a - b);
const median = times[Math.floor(times.length / 2)];
console.log(
    `baseline-render: ${tenantCount} tenants -> ${samples[0].objects} objects; ` +
        `median ${median.toFixed(1)} ms, min ${times[0].toFixed(1)} ms, max ${times[times.length - 1].toFixed(1)} ms over ${runs} runs`,
);
