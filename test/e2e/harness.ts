// The real-engine test harness: every e2e spec runs the pinned Pulumi CLI, language host and provider
// plugins from the project's toolchain cache against a throwaway project, stack, backend and PULUMI_HOME
// under a temporary directory, and tears them down afterwards. A missing binary is a test failure.
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as auto from "@pulumi/pulumi/automation";

export const repoRoot = path.resolve(__dirname, "../..");

export interface Toolchain {
    dir: string;
    bin: string;
    kubeBenchCfg: string;
}

let cached: Toolchain | undefined;

/** The toolchain location, after checking that the named binaries are present and executable. */
export function toolchain(...required: string[]): Toolchain {
    if (!cached) {
        const bin = execFileSync("bash", [path.join(repoRoot, "scripts/toolchain.sh"), "--bin-dir"], { encoding: "utf8" }).trim();
        const dir = path.dirname(bin);
        cached = { dir, bin, kubeBenchCfg: path.join(dir, "kube-bench/cfg") };
    }
    const missing = ["pulumi", "pulumi-language-nodejs", ...required].filter((b) => {
        try {
            fs.accessSync(path.join(cached!.bin, b), fs.constants.X_OK);
            return false;
        } catch {
            return true;
        }
    });
    if (missing.length > 0) {
        throw new Error(`toolchain binaries missing from ${cached.bin}: ${missing.join(", ")} (run: npm run toolchain)`);
    }
    return cached;
}

/** Environment for the Pulumi CLI: offline, no update checks, transpile-only TypeScript. */
export function engineEnv(tc: Toolchain, extra: Record<string, string> = {}): Record<string, string> {
    return {
        PATH: `${tc.bin}:${process.env.PATH ?? ""}`,
        PULUMI_SKIP_UPDATE_CHECK: "true",
        PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
        PULUMI_NODEJS_TRANSPILE_ONLY: "true",
        ...extra,
    };
}

/**
 * A temp directory of the stack's own, under its root and so removed with it. The Kubernetes provider copies
 * each kubeconfig it is given (client key included) into the temp directory and never removes the copy.
 */
export function privateTmp(root: string): { TMPDIR: string } {
    const dir = path.join(root, "tmp");
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    return { TMPDIR: dir };
}

export interface ProgramStack {
    stack: auto.Stack;
    stackName: string;
    workDir: string;
    /** The temporary directory holding the project, backend and PULUMI_HOME (a place for test state too). */
    root: string;
    /** The environment the CLI runs with (backend, passphrase, PULUMI_HOME, toolchain PATH), for direct CLI calls. */
    env: Record<string, string>;
    /** Runs plain `pulumi stack export` (secrets stay encrypted, as anyone holding the state sees it). */
    exportText(): Promise<string>;
    /** Destroys the stack's resources, removes the stack and deletes every temporary directory. */
    cleanup(): Promise<void>;
}

export interface ProgramOptions {
    /** Short name; the project becomes `hc-e2e-<name>` (or hardened-cluster with `blueprint`). */
    name: string;
    /** The program's index.ts. It may import the blueprint as "./components/..." (a link to the repo's). */
    program?: string;
    /** Run the blueprint's own program (index.ts, platforms, scripts) as project "hardened-cluster". */
    blueprint?: boolean;
    config?: auto.ConfigMap;
    env?: Record<string, string>;
    /** Further binaries the test needs from the toolchain (checked before anything starts). */
    binaries?: string[];
}

/** A new project in a temporary directory, with its own file backend and PULUMI_HOME, and a stack on it. */
export async function programStack(opts: ProgramOptions): Promise<ProgramStack> {
    const tc = toolchain(...(opts.binaries ?? []));
    const root = fs.mkdtempSync(path.join(os.tmpdir(), `hc-e2e-${opts.name}-`));
    const workDir = path.join(root, "project");
    const backend = path.join(root, "backend");
    const home = path.join(root, "pulumi-home");
    for (const d of [workDir, backend, home]) fs.mkdirSync(d, { recursive: true, mode: 0o700 });

    // Links, not copies: the program runs the repository's own code; its stack files stay out of the repo.
    const links = opts.blueprint ? ["index.ts", "platforms", "scripts", "package.json"] : [];
    if (!opts.blueprint) {
        if (opts.program === undefined) throw new Error("programStack: give a program or blueprint: true");
        fs.writeFileSync(path.join(workDir, "index.ts"), opts.program);
        fs.writeFileSync(path.join(workDir, "package.json"), JSON.stringify({ name: `hc-e2e-${opts.name}`, private: true, main: "index.ts" }));
    }
    fs.copyFileSync(path.join(repoRoot, "tsconfig.json"), path.join(workDir, "tsconfig.json"));
    for (const l of ["node_modules", "components", ...links]) fs.symlinkSync(path.join(repoRoot, l), path.join(workDir, l));

    const env = engineEnv(tc, {
        PULUMI_BACKEND_URL: `file://${backend}`,
        PULUMI_CONFIG_PASSPHRASE: randomBytes(16).toString("hex"),
        ...privateTmp(root),
        ...opts.env,
    });
    const pulumiCommand = await auto.PulumiCommand.get({ root: tc.dir, skipVersionCheck: true });
    const ws = await auto.LocalWorkspace.create({
        workDir,
        pulumiHome: home,
        pulumiCommand,
        envVars: env,
        projectSettings: {
            name: opts.blueprint ? "hardened-cluster" : `hc-e2e-${opts.name}`,
            runtime: { name: "nodejs", options: { typescript: true } },
            main: "index.ts",
        },
    });
    const stackName = `e2e-${opts.name}-${randomBytes(3).toString("hex")}`;
    const stack = await auto.Stack.create(stackName, ws);
    if (opts.config) await stack.setAllConfig(opts.config);

    let cleaned = false;
    return {
        stack,
        stackName,
        workDir,
        root,
        env: { ...env, PULUMI_HOME: home },
        async exportText() {
            // Not stack.exportStack(): the Automation API adds --show-secrets to it.
            return execFileSync(path.join(tc.bin, "pulumi"), ["stack", "export", "--stack", stackName], {
                cwd: workDir,
                env: { ...process.env, ...env, PULUMI_HOME: home },
                encoding: "utf8",
                // Each dynamic resource carries its serialized provider: a control plane's state is megabytes.
                maxBuffer: 256 * 1024 * 1024,
            });
        },
        async cleanup() {
            if (cleaned) return;
            cleaned = true;
            try {
                await stack.destroy();
                await ws.removeStack(stackName);
            } finally {
                fs.rmSync(root, { recursive: true, force: true });
            }
        },
    };
}

/** Every PEM private key block in a text (to prove none reaches state unencrypted). */
export function privateKeyBlocks(text: string): string[] {
    return text.match(/-----BEGIN [A-Z ]*PRIVATE KEY-----/g) ?? [];
}

/** A bare cluster stack: LocalCluster alone (no baseline), exporting its admin kubeconfig. The harness links
 * only components/ into inline programs, so the platform is imported by its absolute path in the repository.
 * The user layout keeps it clear of kubeadm's paths, which the system-layout specs claim. */
export function bareClusterProgram(stateDir: string, ports: Record<string, number>): string {
    return `
import * as pulumi from "@pulumi/pulumi";
import { LocalCluster } from ${JSON.stringify(path.join(repoRoot, "platforms/local/cluster"))};
import { planLocalStack } from ${JSON.stringify(path.join(repoRoot, "platforms/local/plan"))};
const plan = planLocalStack({
    stack: pulumi.getStack(),
    toolchainBin: ${JSON.stringify(toolchain().bin)},
    local: { layout: "user", stateDir: ${JSON.stringify(stateDir)}, ports: ${JSON.stringify(ports)} },
});
const cluster = new LocalCluster("bare", { plan });
export const kubeconfig = cluster.kubeconfig;
export const ready = cluster.ready;
`;
}

/**
 * The local key of a blueprint e2e stack: kubeadm's layout as root, else a fresh state directory of its own.
 * Purged on destroy, so the next spec in the same sandbox finds kubeadm's directories free. No worker: the
 * control-plane specs do not need one, and the worker spec starts its own.
 */
export function e2eLocal(name: string, ports: Record<string, number>, system: boolean): { local: Record<string, unknown>; stateDir?: string } {
    if (system) return { local: { layout: "system", ports, purgeOnDestroy: true, workers: 0 } };
    const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), `hc-e2e-${name}-state-`));
    return { local: { layout: "user", stateDir, ports, purgeOnDestroy: true }, stateDir };
}
