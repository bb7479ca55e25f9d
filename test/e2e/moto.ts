// An AWS API emulator (moto's server) for the specs that run what the AWS platform renders on this machine.
// Given `unauthenticated`, the first that many requests are served without credentials (the spec's own setup)
// and every later one is checked against the IAM policies of the access key that signs it, as AWS would;
// without it, moto checks no credentials at all.
import { ChildProcess, execFileSync, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { requireBinary } from "../unit/aws/host-tools";
import { until } from "./processes";

export interface Moto {
    endpoint: string;
    /** The AWS CLI's environment for a caller with these keys (no shared config, no profile, this endpoint). */
    env(keys: AccessKey, extra?: Record<string, string>): Record<string, string>;
    /** Runs the AWS CLI as `keys`; returns stdout, or throws with the CLI's stderr. */
    aws(keys: AccessKey, args: string[]): string;
    stop(): Promise<void>;
}

export interface AccessKey {
    id: string;
    secret: string;
}

export const REGION = "eu-west-1";
export const ACCOUNT = "123456789012";

/** Starts moto on 127.0.0.1:port; fails (never skips) when python3, moto or the AWS CLI is missing. */
export async function startMoto(port: number, dir: string, unauthenticated?: number): Promise<Moto> {
    try {
        execFileSync("python3", ["-c", "import moto.server, boto3"], { stdio: "pipe" });
    } catch (e) {
        throw new Error(`the AWS emulator is missing: python3 with moto[server] and boto3 is required (${(e as Error).message.split("\n")[0]})`);
    }
    requireBinary("aws");
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const log = fs.openSync(path.join(dir, "moto.log"), "a");
    const child: ChildProcess = spawn("python3", ["-m", "moto.server", "-H", "127.0.0.1", "-p", String(port)], {
        stdio: ["ignore", log, log],
        env: { ...process.env, ...(unauthenticated === undefined ? {} : { INITIAL_NO_AUTH_ACTION_COUNT: String(unauthenticated) }) },
        detached: true,
    });
    fs.closeSync(log);
    const endpoint = `http://127.0.0.1:${port}`;
    await until("moto answers", 60, async () => {
        if (child.exitCode !== null) throw new Error(`moto exited with ${child.exitCode}: ${fs.readFileSync(path.join(dir, "moto.log"), "utf8").slice(-500)}`);
        try {
            const r = await fetch(`${endpoint}/moto-api/`);
            return r.status < 500 ? true : undefined;
        } catch {
            return undefined;
        }
    });
    const home = path.join(dir, "home");
    fs.mkdirSync(home, { recursive: true, mode: 0o700 });
    const env = (keys: AccessKey, extra: Record<string, string> = {}) => ({
        PATH: process.env.PATH ?? "/usr/bin:/bin",
        HOME: home,
        AWS_CONFIG_FILE: path.join(home, "none"),
        AWS_SHARED_CREDENTIALS_FILE: path.join(home, "none"),
        AWS_ENDPOINT_URL: endpoint,
        AWS_DEFAULT_REGION: REGION,
        AWS_ACCESS_KEY_ID: keys.id,
        AWS_SECRET_ACCESS_KEY: keys.secret,
        AWS_MAX_ATTEMPTS: "1",
        ...extra,
    });
    return {
        endpoint,
        env,
        aws(keys, args) {
            try {
                return execFileSync("aws", args, { env: env(keys), encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
            } catch (e) {
                const err = e as { stderr?: string; message: string };
                throw new Error(`aws ${args.slice(0, 2).join(" ")}: ${(err.stderr || err.message).trim()}`);
            }
        },
        async stop() {
            if (child.exitCode !== null || child.pid === undefined) return;
            try {
                process.kill(-child.pid, "SIGTERM");
            } catch { /* already gone */ }
            await until("moto stops", 20, async () => (child.exitCode !== null || child.signalCode !== null ? true : undefined));
        },
    };
}
