// The blueprint on the local ha topology as the rotation specs start it: the toolchain checked, a stack of its
// own (kubeadm's layout as root, else a fresh state directory), its plan, and kube-bench on a control-plane node.
import * as fs from "node:fs";
import { planLocalStack } from "../../platforms/local/plan";
import { e2eLocal, ProgramStack, programStack, toolchain } from "./harness";
import { runKubeBench, USER_LAYOUT_ROOT_ONLY } from "./kube-bench-run";

type Plan = ReturnType<typeof planLocalStack>;

export interface HaStack {
    ps: ProgramStack;
    plan: Plan;
    /** The nodes that run an apiserver (not the etcd-only one). */
    controlPlane: Plan["nodes"];
    /** kube-bench master and etcd on the first control-plane node: how many checks are scored, and which fail. */
    kubeBench(): { scored: number; failing: string[] };
    /** Destroys the stack and removes its state directory. */
    cleanup(): Promise<void>;
}

export async function haStack(name: string, ports: Record<string, number>, binaries: string[]): Promise<HaStack> {
    const system = process.getuid?.() === 0;
    toolchain(...binaries);
    const e2e = e2eLocal(name, ports, system);
    const removeState = () => { if (e2e.stateDir) fs.rmSync(e2e.stateDir, { recursive: true, force: true }); };
    const local = { ...e2e.local, topology: "ha" };
    let ps: ProgramStack;
    try {
        ps = await programStack({ name, blueprint: true, binaries, config: { "hardened-cluster:local": { value: JSON.stringify(local) } } });
    } catch (e) {
        removeState();
        throw e;
    }
    const plan = planLocalStack({ stack: ps.stackName, local: local as never, toolchainBin: toolchain().bin, isRoot: system });
    const controlPlane = plan.nodes.filter((n) => !n.node.etcdOnly);
    return {
        ps, plan, controlPlane,
        kubeBench() {
            const node = controlPlane[0];
            const report = runKubeBench(toolchain().bin, toolchain().kubeBenchCfg, node.kubeBenchConfig, { targets: "master,etcd", ...(system ? { nodeRoot: node.node.runDir } : {}) });
            const scored = report.filter((c) => c.scored);
            const notApplicable: Readonly<Record<string, string>> = system ? {} : USER_LAYOUT_ROOT_ONLY;
            return { scored: scored.length, failing: scored.filter((c) => c.status !== "PASS" && !(c.id in notApplicable)).map((c) => `${c.id} ${c.status}: ${c.text}`) };
        },
        async cleanup() {
            try {
                await ps.cleanup();
            } finally {
                removeState();
            }
        },
    };
}
