// What the specs that run a program in a child process on the mock monitor share (stacks.spec.ts, urns.spec.ts):
// a fake toolchain, the engine's defaults from Pulumi.yaml, and the child run itself.
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { parse, stringify } from "yaml";
import { imageName, IMAGES_PUBLISHED, writeImageArchive } from "../aws/fixtures";

export const ROOT = path.resolve(__dirname, "../../..");
// The AWS stacks publish etcdctl, etcdutl, the AWS KMS plugin, the workers' kubelet, flanneld and CNI plugins besides,
// and the node images.
const TOOLCHAIN_BINARIES = ["etcd", "etcdctl", "etcdutl", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "hc-aws-kms-plugin", "hc-csr-approver", "kubelet", "kube-proxy", "kube-router", "flanneld",
    "cni/bridge", "cni/host-local", "cni/loopback", "cni/portmap"];
const KUBE_BENCH_STOCK = { master: { apiserver: {}, controllermanager: {}, scheduler: {}, etcd: {} }, etcd: { etcd: {} } };

/** Empty executables and a minimal kube-bench config: enough for LocalCluster's checks, which stay as strict. */
export function fakeToolchain(dir: string): void {
    mkdirSync(path.join(dir, "bin", "cni"), { recursive: true });
    for (const b of TOOLCHAIN_BINARIES) {
        writeFileSync(path.join(dir, "bin", b), "");
        chmodSync(path.join(dir, "bin", b), 0o755);
    }
    mkdirSync(path.join(dir, "bin", "images"), { recursive: true });
    for (const i of IMAGES_PUBLISHED) writeImageArchive(path.join(dir, "bin", "images", `${i}.tar`), imageName(i));
    mkdirSync(path.join(dir, "kube-bench", "cfg"), { recursive: true });
    writeFileSync(path.join(dir, "kube-bench", "cfg", "config.yaml"), stringify(KUBE_BENCH_STOCK));
}

/** The engine's string form of a config value: strings as they are, everything else as JSON. */
export function configString(v: unknown): string {
    return typeof v === "string" ? v : JSON.stringify(v);
}

/** Pulumi.yaml's declared defaults, as the engine hands them to the program ("namespace:key" -> string). */
export function projectDefaults(namespaced: (k: string) => string): Record<string, string> {
    const decls = parse(readFileSync(path.join(ROOT, "Pulumi.yaml"), "utf8")).config ?? {};
    const out: Record<string, string> = {};
    for (const [k, d] of Object.entries<any>(decls)) {
        if (d && typeof d === "object" && "default" in d) out[namespaced(k)] = configString(d.default);
    }
    return out;
}

function namespaced(k: string): string {
    return k.includes(":") ? k : `hardened-cluster:${k}`;
}

/** Pulumi.yaml's declared defaults, then the stack file's values on top, keyed as the program sees them. */
export function engineConfig(stackFile: string): Record<string, string> {
    const out = projectDefaults(namespaced);
    const stack = parse(readFileSync(stackFile, "utf8")) ?? {};
    for (const [k, v] of Object.entries<unknown>(stack.config ?? {})) {
        if (v && typeof v === "object" && "secure" in (v as object)) throw new Error(`${stackFile}: ${k} is encrypted; this spec runs without the stack's passphrase`);
        out[namespaced(k)] = configString(v);
    }
    return out;
}

/**
 * Runs `runner` in a child process with the program's configuration as the language host passes it
 * (PULUMI_CONFIG) and a fake toolchain under `tmp`; returns the JSON the runner wrote to `result`.
 */
export function runInChild<T>(label: string, runner: string, config: Record<string, string>, tmp: string, result: string, extra: Record<string, string>): T {
    const env: NodeJS.ProcessEnv = {
        ...process.env,
        TS_NODE_TRANSPILE_ONLY: "true",
        HC_TOOLCHAIN_DIR: path.join(tmp, "toolchain"),
        XDG_STATE_HOME: path.join(tmp, "xdg-state"),
        HC_TEST_RESULT: result,
        PULUMI_CONFIG: JSON.stringify(config),
        ...extra,
    };
    for (const k of ["PULUMI_CONFIG_SECRET_KEYS", "PULUMI_NODEJS_STACK", "PULUMI_NODEJS_PROJECT", "PULUMI_NODEJS_DRY_RUN"]) delete env[k];
    const child = spawnSync(process.execPath, ["-r", "ts-node/register", runner], { cwd: ROOT, env, encoding: "utf8", timeout: 240_000 });
    if (!existsSync(result)) {
        throw new Error(`${label}: the runner wrote no result (status ${child.status}, signal ${child.signal})\n${child.stdout}\n${child.stderr}`);
    }
    return JSON.parse(readFileSync(result, "utf8"));
}
