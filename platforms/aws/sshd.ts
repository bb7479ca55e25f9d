// SSH on the nodes. Off by default: SSM Session Manager gives an audited shell without an open port. When a
// user turns it on, sshd gets a drop-in that allows only public keys, only the default user, only from the
// listed CIDRs, and never root. The drop-in is named to sort first because sshd keeps the first value it
// reads for most keywords, so a distribution or cloud-init drop-in cannot loosen it.
import { fail } from "../../components/common";

export const SSH_USER = "ec2-user";
export const SSHD_DROP_IN = "/etc/ssh/sshd_config.d/00-hardened-cluster.conf";
/** Keys below this many RSA bits are refused (NIST SP 800-57 puts 2048 at the end of its life). */
export const MIN_RSA_BITS = 3072;

const KEY_TYPES = [
    "ssh-ed25519", "sk-ssh-ed25519@openssh.com", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521",
    "sk-ecdsa-sha2-nistp256@openssh.com", "ssh-rsa",
] as const;

/** Checks one authorized_keys line: a known type, a blob that decodes to that type, RSA of at least MIN_RSA_BITS. */
export function checkAuthorizedKey(k: string, line: unknown): void {
    const allowed = `use an OpenSSH public key line "<type> <base64> [comment]" of type ${KEY_TYPES.join(", ")}`;
    if (typeof line !== "string" || /[\r\n]/.test(line)) fail(k, typeof line === "string" ? "(multi-line text)" : line, allowed);
    if (/PRIVATE KEY/.test(line)) fail(k, "(a private key)", "paste the .pub file, never the private key");
    const [type, blob] = line.trim().split(/\s+/);
    if (!(KEY_TYPES as readonly string[]).includes(type) || !/^[A-Za-z0-9+/]+={0,2}$/.test(blob ?? "")) fail(k, line, allowed);
    const bytes = Buffer.from(blob, "base64");
    const fields = sshFields(bytes);
    if (fields[0]?.toString("latin1") !== type) fail(k, line, "the key blob does not match its type; paste the line unchanged");
    if (type === "ssh-rsa") {
        const modulus = fields[2];
        const bits = modulus ? modulusBits(modulus) : 0;
        if (bits < MIN_RSA_BITS) fail(k, `ssh-rsa ${bits} bits`, `use an RSA key of at least ${MIN_RSA_BITS} bits, or ed25519`);
    }
}

/** The length-prefixed strings of an SSH wire-format blob. */
function sshFields(b: Buffer): Buffer[] {
    const out: Buffer[] = [];
    let at = 0;
    while (at + 4 <= b.length) {
        const len = b.readUInt32BE(at);
        if (at + 4 + len > b.length) break;
        out.push(b.subarray(at + 4, at + 4 + len));
        at += 4 + len;
    }
    return out;
}

function modulusBits(m: Buffer): number {
    let i = 0;
    while (i < m.length && m[i] === 0) i++;
    return i === m.length ? 0 : (m.length - i - 1) * 8 + (32 - Math.clz32(m[i]));
}

export interface SshSettings {
    enabled: boolean;
    allowedCidrs: string[];
}

/**
 * sshd_config directives, in order. Each entry says why, so a reviewer can check the table instead of the
 * text. Only keywords sshd 8.7+ (AL2023) knows are used.
 */
export function sshdDirectives(s: SshSettings): [keyword: string, value: string][] {
    return [
        ["PermitRootLogin", "no"],
        // Keys only: no passwords, no keyboard-interactive (which PAM could turn into passwords), no host-based trust.
        ["AuthenticationMethods", "publickey"],
        ["PubkeyAuthentication", "yes"],
        ["PasswordAuthentication", "no"],
        ["KbdInteractiveAuthentication", "no"],
        ["PermitEmptyPasswords", "no"],
        ["HostbasedAuthentication", "no"],
        ["IgnoreRhosts", "yes"],
        // One user, and only from the listed networks: a second fence behind the security groups.
        ["AllowUsers", s.allowedCidrs.map((c) => `${SSH_USER}@${c}`).join(" ")],
        ["PermitUserEnvironment", "no"],
        ["X11Forwarding", "no"],
        ["AllowTcpForwarding", "no"],
        ["AllowAgentForwarding", "no"],
        ["AllowStreamLocalForwarding", "no"],
        ["PermitTunnel", "no"],
        ["GatewayPorts", "no"],
        ["MaxAuthTries", "3"],
        ["LoginGraceTime", "30"],
        ["ClientAliveInterval", "300"],
        ["ClientAliveCountMax", "2"],
        ["LogLevel", "VERBOSE"],
        ["Ciphers", "chacha20-poly1305@openssh.com,aes256-gcm@openssh.com,aes128-gcm@openssh.com"],
        ["MACs", "hmac-sha2-512-etm@openssh.com,hmac-sha2-256-etm@openssh.com"],
        ["KexAlgorithms", "sntrup761x25519-sha512@openssh.com,curve25519-sha256,curve25519-sha256@libssh.org"],
    ];
}

export function renderSshdConfig(s: SshSettings): string {
    return ["# Written by hardened-cluster; sorts first so its values win.", ...sshdDirectives(s).map(([k, v]) => `${k} ${v}`)].join("\n") + "\n";
}

/** The cloud-config keys that carry the SSH posture (merged into the node's cloud-config). */
export function sshCloudConfig(s: SshSettings & { authorizedKeys: string[] }): {
    config: Record<string, unknown>;
    files: { path: string; content: string; permissions: string }[];
    commands: string[][];
} {
    const base = { ssh_pwauth: false, disable_root: true, ssh_deletekeys: true };
    if (!s.enabled) {
        // Masked, not just stopped: a package update or a socket unit must not bring it back.
        return { config: base, files: [], commands: [["systemctl", "disable", "--now", "sshd.service"], ["systemctl", "mask", "sshd.service"]] };
    }
    return {
        config: { ...base, ssh_authorized_keys: [...s.authorizedKeys] },
        files: [{ path: SSHD_DROP_IN, content: renderSshdConfig(s), permissions: "0600" }],
        // Validate before restarting, so a bad drop-in leaves the previous daemon running instead of none.
        commands: [["sh", "-c", "sshd -t && systemctl restart sshd.service"]],
    };
}
