// A model of how kube-bench v0.15.6 reads settings, so the CIS table judges rendered output the way the
// benchmark will on a running node:
//   - a flag is "found" when its text occurs anywhere in the audit output (the `ps` lines that matched the
//     binary name), and its value is what follows the first occurrence, after "=" or ":", up to whitespace;
//     a bare "--flag" reads as "true";
//   - for the kubelet, a flag missing from the command line is looked up in the config file instead;
//   - "eq"/"noteq" compare "true"/"false" case-insensitively and anything else exactly, "has" is a
//     substring test, "gte" parses integers, valid_elements splits on commas.
import { parse } from "yaml";
import { toYaml } from "../../../components/common";
import { RenderedControlPlane } from "../../../components/control-plane";

export class Probe {
    constructor(
        readonly found: boolean,
        readonly value: string,
    ) {}

    eq(expected: string): boolean {
        return this.found && sameValue(this.value, expected);
    }
    notEq(expected: string): boolean {
        return this.found && !sameValue(this.value, expected);
    }
    has(part: string): boolean {
        return this.found && this.value.includes(part);
    }
    notHave(part: string): boolean {
        return this.found && !this.value.includes(part);
    }
    gte(n: number): boolean {
        return this.found && /^\s*[-+]?\d+\s*$/.test(this.value) && parseInt(this.value, 10) >= n;
    }
    validElements(allowed: readonly string[]): boolean {
        const items = this.value
            .trim()
            .replace(/,+$/, "")
            .split(",")
            .map((s) => s.trim())
            .filter((s) => s !== "");
        return this.found && items.length > 0 && items.every((s) => allowed.includes(s));
    }
    toString(): string {
        return this.found ? JSON.stringify(this.value) : "(not set)";
    }
}

function sameValue(value: string, expected: string): boolean {
    const v = value.toLowerCase();
    return v === "true" || v === "false" ? v === expected : value === expected;
}

export function flagIn(output: string, flag: string): Probe {
    const at = output.indexOf(flag);
    if (at < 0) return new Probe(false, "");
    const rest = output.slice(at + flag.length);
    const m = /^(?:=|: *)*(\S*)/.exec(rest)!;
    if (m[1] !== "") return new Probe(true, m[1]);
    return new Probe(true, flag.startsWith("--") ? "true" : flag);
}

/** A dotted path into parsed YAML, rendered as kube-bench's jsonpath prints scalars; arrays join with ",". */
export function pathIn(doc: unknown, path: string): Probe {
    let cur: unknown = doc;
    for (const part of path.split(".")) {
        if (typeof cur !== "object" || cur === null || !(part in cur)) return new Probe(false, "");
        cur = (cur as Record<string, unknown>)[part];
    }
    const value = Array.isArray(cur) ? cur.map(String).join(",") : String(cur);
    return new Probe(value !== "", value);
}

export type Target = "apiserver" | "controllermanager" | "scheduler" | "etcd" | "kubelet";

/** What kube-bench's audit commands would see for the rendered settings. */
export interface AuditView {
    /** Looks a flag up the way the check's audit would; for the kubelet, `path` is the config fallback. */
    item(flag: string, path?: string): Probe;
}

/** `ps -ef` lines: the binary path, then argv joined by spaces. */
export function psLine(binary: string, args: readonly string[]): string {
    return [`/usr/local/bin/${binary}`, ...args].join(" ");
}

export function auditView(target: Target, r: RenderedControlPlane): AuditView {
    const api = psLine("kube-apiserver", r.apiServer.args);
    let output: string;
    switch (target) {
        case "apiserver":
            output = api;
            break;
        case "controllermanager":
            output = psLine("kube-controller-manager", r.controllerManager.args);
            break;
        case "scheduler":
            output = psLine("kube-scheduler", r.scheduler.args);
            break;
        case "etcd":
            // `ps -ef | grep etcd` also matches the API server (its flags mention etcd); put it first, the
            // worst case for a flag name that also occurs in its command line.
            output = [api, ...r.etcd.map((m) => psLine("etcd", m.args))].join("\n");
            break;
        case "kubelet":
            output = psLine("kubelet", r.kubelet.args);
            break;
    }
    // kube-bench parses the file from disk, so judge what YAML round-tripping leaves of the object.
    const config = target === "kubelet" ? parse(toYaml(r.files.kubeletConfig)) : undefined;
    return {
        item(flag: string, path?: string): Probe {
            const p = flagIn(output, flag);
            if (p.found || path === undefined || config === undefined) return p;
            return pathIn(config, path);
        },
    };
}
