// Runs the Debian validators the toolchain installs (cloud-init, systemd, openssh-server) on rendered
// output. A missing binary is an error, not a skip: a green run must mean the files were actually checked.
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";

export function requireBinary(name: string): string {
    const found = spawnSync("sh", ["-c", `command -v ${name}`], { encoding: "utf8" });
    if (found.status !== 0 || found.stdout.trim() === "") {
        throw new Error(`${name} is not installed; the toolchain step must install it (Debian: see platforms/aws/README.md)`);
    }
    return found.stdout.trim();
}

export interface ToolResult {
    ok: boolean;
    output: string;
}

function run(cmd: string, args: string[]): ToolResult {
    const r = spawnSync(cmd, args, { encoding: "utf8" });
    return { ok: r.status === 0, output: `${r.stdout ?? ""}${r.stderr ?? ""}`.trim() };
}

function withTempDir<T>(fn: (dir: string) => T): T {
    const dir = mkdtempSync(path.join(tmpdir(), "hc-aws-"));
    try {
        return fn(dir);
    } finally {
        rmSync(dir, { recursive: true, force: true });
    }
}

/** `cloud-init schema`; deprecation warnings count as failures, since they become errors in later releases. */
export function cloudInitSchema(text: string): ToolResult {
    const bin = requireBinary("cloud-init");
    return withTempDir((dir) => {
        const file = path.join(dir, "user-data");
        writeFileSync(file, text);
        const r = run(bin, ["schema", "--config-file", file]);
        return { ok: r.ok && !/DEPRECATED/i.test(r.output), output: r.output };
    });
}

// cloud-init's own user-data processor (its Python library, run by the interpreter its command names): what it
// makes of the bytes EC2 hands it, as content type and payload of each part.
const USER_DATA_PARTS = `import base64, json, sys
from cloudinit import user_data
message = user_data.UserDataProcessor({}).process(base64.b64decode(sys.stdin.read()))
parts = [p for p in message.walk() if p.get_content_maintype() != "multipart"]
print(json.dumps([[p.get_content_type(), p.get_payload(decode=True).decode()] for p in parts]))`;

/** The parts cloud-init reads from a launch template's base64 userData. */
export function cloudInitParts(userDataBase64: string): [string, string][] {
    const bin = requireBinary("cloud-init");
    const python = readFileSync(bin, "utf8").split("\n")[0].replace(/^#!/, "").trim();
    const r = spawnSync(python, ["-c", USER_DATA_PARTS], { input: userDataBase64, encoding: "utf8" });
    if (r.status !== 0) throw new Error(`cloud-init's user-data processor: ${r.stderr}${r.error ?? ""}`);
    return JSON.parse(r.stdout);
}

/**
 * The unit the distribution's containerd package installs (as containerd's own containerd.service): the
 * workers' units name it, so `systemd-analyze verify` needs it present.
 */
export const PACKAGED_CONTAINERD_UNIT = {
    name: "containerd.service",
    text: "[Unit]\nDescription=containerd container runtime\nAfter=network.target local-fs.target\n\n[Service]\nExecStartPre=-/sbin/modprobe overlay\n" +
        "ExecStart=/usr/bin/containerd\nType=notify\nDelegate=yes\nKillMode=process\nRestart=always\n\n[Install]\nWantedBy=multi-user.target\n",
};

/**
 * `systemd-analyze verify` inside a throwaway root holding a copy of the host's system units (for targets
 * such as network-online.target) and an executable stub at every Exec* path, so the check covers the
 * unit files themselves. Any output, even a warning about an unknown key, fails.
 */
export function systemdVerify(units: { name: string; text: string }[]): ToolResult {
    const bin = requireBinary("systemd-analyze");
    return withTempDir((root) => {
        const systemDir = "/usr/lib/systemd/system";
        cpSync(systemDir, path.join(root, systemDir), { recursive: true, verbatimSymlinks: true });
        const unitDir = path.join(root, "etc/systemd/system");
        mkdirSync(unitDir, { recursive: true });
        for (const u of units) {
            writeFileSync(path.join(unitDir, u.name), u.text);
            for (const m of u.text.matchAll(/^Exec(?:Start|StartPre|StartPost|Stop|StopPost|Reload)=[-+!@:]*("?)([^\s"]+)/gm)) {
                const stub = path.join(root, m[2]);
                mkdirSync(path.dirname(stub), { recursive: true });
                writeFileSync(stub, "#!/bin/sh\n");
                chmodSync(stub, 0o755);
            }
        }
        const r = run(bin, ["verify", "--man=no", `--root=${root}`, ...units.map((u) => `/etc/systemd/system/${u.name}`)]);
        return { ok: r.ok && r.output === "", output: r.output };
    });
}

/** `sshd -t` on a config made of the drop-in alone, with a throwaway host key. */
export function sshdTest(config: string): ToolResult {
    const bin = requireBinary("sshd");
    const keygen = requireBinary("ssh-keygen");
    return withTempDir((dir) => {
        const hostKey = path.join(dir, "host_ed25519");
        execFileSync(keygen, ["-q", "-t", "ed25519", "-N", "", "-f", hostKey]);
        // sshd -t insists on its privilege-separation directory, which only the service's start creates.
        mkdirSync("/run/sshd", { recursive: true, mode: 0o755 });
        const file = path.join(dir, "sshd_config");
        writeFileSync(file, config);
        return run(bin, ["-t", "-f", file, "-h", hostKey]);
    });
}
