// cloud-config for every node, as a plain object rendered with toYaml. User data is readable by anyone who
// may call ec2:DescribeInstanceAttribute and is kept in the launch template's history, so what goes in here is
// names, paths, units and public material only; renderCloudConfig refuses text that looks like a secret.
import { gunzipSync, gzipSync } from "node:zlib";
import { toYaml } from "../../components/common";
import type { FetchedBinaries } from "./binaries";
import { FETCH_SCRIPT_PATH, FETCH_UNIT, FetchedFile, renderFetchScript } from "./secrets";
import { SshSettings, sshCloudConfig } from "./sshd";
import { renderUnit, UnitFile } from "./systemd";

export interface InlineFile {
    path: string;
    content: string;
    /** Octal string, e.g. "0644": cloud-init's schema takes a string. */
    permissions: string;
    owner?: string;
    /** Written in cloud-init's final stage, after packages are installed (a package must not replace it). */
    defer?: boolean;
}

export interface Disk {
    device: string;
    label: string;
    mountPoint: string;
    /** user:group that owns the mount point, with mode 0700 (CIS 1.1.11/1.1.12 for etcd). */
    owner?: string;
}

export interface CloudConfigSpec {
    region: string;
    /** The key every SSM parameter the node fetches must be encrypted with (the cluster key). */
    parameterKeyArn: string;
    /** System users the units run as; created without a login shell or password. */
    systemUsers: string[];
    /** Enabled and started in this order, after the secrets unit. */
    units: { name: string; unit: UnitFile }[];
    files: InlineFile[];
    fetched: FetchedFile[];
    /** The stack's binaries, fetched and verified by the same unit before any secret; absent when the AMI has them. */
    binaries?: FetchedBinaries;
    disks: Disk[];
    packages: string[];
    ssh: SshSettings & { authorizedKeys: string[] };
    /** Run after the units are started. */
    commands: string[][];
    /** A service started only by its timer (name.service and name.timer); the timer is enabled after the units. */
    timers?: { name: string; service: UnitFile; timer: UnitFile }[];
}

export const UNIT_FILE_MODE = "0600";

/** The oneshot unit that runs the fetch script before anything that reads a secret. */
export function fetchUnit(before: readonly string[]): UnitFile {
    return {
        Unit: {
            Description: "Fetch this node's binaries from S3 and its secret files from SSM Parameter Store",
            Wants: ["network-online.target"],
            After: ["network-online.target"],
            ...(before.length > 0 ? { Before: [...before] } : {}),
        },
        Service: {
            Type: "oneshot",
            RemainAfterExit: true,
            ExecStart: FETCH_SCRIPT_PATH,
            // The instance profile's credentials can take a few seconds to appear after boot.
            Restart: "on-failure",
            RestartSec: 10,
        },
        Install: { WantedBy: "multi-user.target" },
    };
}

export function cloudConfig(spec: CloudConfigSpec): Record<string, unknown> {
    const ssh = sshCloudConfig(spec.ssh);
    const unitNames = spec.units.map((u) => `${u.name}.service`);
    // A unit file is where this platform keeps a component's settings, as kubeadm keeps them in a static pod
    // manifest, so CIS 1.1.1-1.1.8 apply: 0600, root's. systemd reads them as root.
    const unitFile = (name: string, unit: UnitFile): InlineFile => ({ path: `/etc/systemd/system/${name}`, content: renderUnit(unit), permissions: UNIT_FILE_MODE });
    const unitFiles: InlineFile[] = [
        unitFile(FETCH_UNIT, fetchUnit(unitNames)),
        ...spec.units.map((u) => unitFile(`${u.name}.service`, u.unit)),
        ...(spec.timers ?? []).flatMap((t) => [unitFile(`${t.name}.service`, t.service), unitFile(`${t.name}.timer`, t.timer)]),
    ];
    const files: InlineFile[] = [
        // A sync restarts the units of replaced files in the order they start here.
        { path: FETCH_SCRIPT_PATH, content: renderFetchScript(spec.region, spec.parameterKeyArn, spec.fetched, spec.binaries, spec.units.map((u) => u.name)), permissions: "0700" },
        ...unitFiles,
        ...spec.files,
        ...ssh.files,
    ];

    const doc: Record<string, unknown> = { ...ssh.config };
    if (spec.systemUsers.length > 0) {
        doc.users = ["default", ...spec.systemUsers.map((name) => ({ name, system: true, shell: "/sbin/nologin", lock_passwd: true, no_create_home: true }))];
    }
    if (spec.packages.length > 0) doc.packages = [...spec.packages];
    if (spec.disks.length > 0) {
        doc.fs_setup = spec.disks.map((d) => ({ label: d.label, filesystem: "ext4", device: d.device, partition: "none" }));
        doc.mounts = spec.disks.map((d) => [`LABEL=${d.label}`, d.mountPoint, "ext4", "defaults,nofail,nodev,nosuid,noexec", "0", "2"]);
    }
    // Files owned by a system user wait for the final stage (defer), after cloud-init has created the users; so do
    // files a package would otherwise overwrite.
    doc.write_files = files.map((f) => ({
        path: f.path,
        content: f.content,
        permissions: f.permissions,
        owner: f.owner ?? "root:root",
        ...((f.owner && f.owner !== "root:root") || f.defer ? { defer: true } : {}),
    }));
    doc.runcmd = [
        ...spec.disks.filter((d) => d.owner).flatMap((d) => [["chown", d.owner!, d.mountPoint], ["chmod", "0700", d.mountPoint]]),
        ["systemctl", "daemon-reload"],
        ["systemctl", "enable", "--now", FETCH_UNIT],
        ...spec.units.map((u) => ["systemctl", "enable", "--now", `${u.name}.service`]),
        ...(spec.timers ?? []).map((t) => ["systemctl", "enable", "--now", `${t.name}.timer`]),
        ...spec.commands,
        ...ssh.commands,
    ];
    return doc;
}

/** Patterns of material that must never be in user data, with what each one is. */
export const SECRET_PATTERNS: [RegExp, string][] = [
    [/-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/, "a PEM private key"],
    [/\b[a-z0-9]{6}\.[a-z0-9]{16}\b/, "a bootstrap token"],
    [/\bclient-key-data\s*:/, "a kubeconfig client key"],
    [/^\s*token\s*:\s*\S/m, "a kubeconfig token"],
    [/\b(secretbox|aescbc|aesgcm)\s*:/, "local EncryptionConfiguration keys"],
    [/\b(AKIA|ASIA)[0-9A-Z]{16}\b/, "an AWS access key id"],
    [/aws_secret_access_key/i, "an AWS secret access key"],
];

export function findSecretMaterial(text: string): string[] {
    return SECRET_PATTERNS.filter(([re]) => re.test(text)).map(([, what]) => what);
}

export function renderCloudConfig(spec: CloudConfigSpec): string {
    const text = `#cloud-config\n${toYaml(cloudConfig(spec))}`;
    const found = findSecretMaterial(text);
    // A wiring mistake, not a setting: the caller put a secret where a parameter reference belongs.
    if (found.length > 0) throw new Error(`user data would contain ${found.join(", ")}; put it in an SSM parameter (files[].ssmParameter) instead`);
    return text;
}

/** EC2 takes at most 16 KB of user data, counted before base64 encoding. */
export const USER_DATA_LIMIT = 16 * 1024;

/**
 * The launch template's userData: the cloud-config gzipped, then base64. A node's units, scripts and settings run
 * well past 16 KB as text; cloud-init recognises gzip by its magic bytes and reads what it decompresses as if it
 * had been given that. gzip leaves the modification time out of its header, so the same text encodes the same.
 * Throws past the limit: EC2 would refuse the launch, and only after every other resource exists.
 */
export function encodeUserData(text: string, name: string): string {
    const packed = gzipSync(Buffer.from(text, "utf8"), { level: 9 });
    if (packed.length > USER_DATA_LIMIT) {
        throw new Error(`${name}: user data is ${packed.length} bytes gzipped; EC2 takes at most ${USER_DATA_LIMIT}`);
    }
    return packed.toString("base64");
}

/** The cloud-config text of an encoded userData (gzipped or not). */
export function decodeUserData(base64: string): string {
    const raw = Buffer.from(base64, "base64");
    return (raw[0] === 0x1f && raw[1] === 0x8b ? gunzipSync(raw) : raw).toString("utf8");
}
