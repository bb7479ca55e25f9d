// Encryption at rest: any EncryptionConfiguration a program writes (a local file, an SSM parameter, ...).
// The document is found by its kind in the resource's string inputs, so the rule does not depend on which
// resource type delivers it; a file named like one whose content is still unknown is left to `up`.
import { UnknownValueError } from "@pulumi/policy";
import { parseAllDocuments } from "yaml";
import { k8sDocs, isObj, arr, resourceRule } from "./common";

const NAMED_LIKE_CONFIG = /encryption[-_]?config/i;
/** Fields that carry a file's or a parameter's content: unknown there may hide an encryption config. */
const CONTENT_KEYS = ["content", "value", "files"];

/** Every EncryptionConfiguration document in a resource's inputs. Unknown content rethrows (the engine then
 * defers the rule to `up`) where the value could be one: a content-like field, an entry of a `files` list, or
 * anything beside a path or name that says it is an encryption config. */
export function encryptionConfigs(props: Record<string, any>): Record<string, any>[] {
    const found: Record<string, any>[] = [];
    const visit = (v: any, named: boolean, depth: number, parentKey: string): void => {
        if (depth > 8) return;
        if (typeof v === "string") {
            if (!v.includes("EncryptionConfiguration")) return;
            try {
                for (const d of parseAllDocuments(v)) {
                    const doc = d.toJS();
                    if (isObj(doc) && doc.kind === "EncryptionConfiguration") found.push(doc);
                }
            } catch {
                // Not YAML: not a config the API server could load either.
            }
            return;
        }
        if (Array.isArray(v) || isObj(v)) {
            const keys = Object.keys(v).filter((k) => !k.startsWith("__"));
            let here = named;
            for (const k of ["path", "name"]) {
                try {
                    if (typeof (v as any)[k] === "string" && NAMED_LIKE_CONFIG.test((v as any)[k])) here = true;
                } catch (e) {
                    if (!(e instanceof UnknownValueError)) throw e;
                }
            }
            for (const k of keys) {
                let child: any;
                try {
                    child = (v as any)[k];
                } catch (e) {
                    // Left to `up` rather than passed: this value may be the config itself.
                    if (e instanceof UnknownValueError && (here || CONTENT_KEYS.includes(k) || parentKey === "files")) throw e;
                    if (e instanceof UnknownValueError) continue;
                    throw e;
                }
                visit(child, here, depth + 1, k);
            }
        }
    };
    visit(props, false, 0, "");
    return found;
}

/** Findings for one EncryptionConfiguration (empty when it complies). */
export function encryptionFindings(doc: Record<string, any>): string[] {
    const out: string[] = [];
    for (const [i, entry] of arr(doc.resources).entries()) {
        if (!isObj(entry)) continue;
        const what = arr(entry.resources).join(",") || `resources[${i}]`;
        const providers = arr(entry.providers).filter(isObj);
        const first = providers[0];
        const kind = first ? Object.keys(first)[0] : undefined;
        if (kind === undefined) out.push(`${what}: no provider`);
        else if (kind === "identity") out.push(`${what}: the first provider is identity, so new writes are stored in plain text`);
        else if (kind === "kms" && first.kms?.apiVersion !== "v2") out.push(`${what}: the first provider is KMS ${first.kms?.apiVersion ?? "v1"}, not v2`);
        else if (!["secretbox", "kms"].includes(kind)) out.push(`${what}: the first provider is ${kind}, not secretbox or KMS v2`);
        for (const p of providers) {
            for (const [type, cfg] of Object.entries(p)) {
                if (!["secretbox", "aescbc", "aesgcm"].includes(type) || !isObj(cfg)) continue;
                for (const k of arr(cfg.keys).filter(isObj)) {
                    const len = typeof k.secret === "string" ? Buffer.from(k.secret, "base64").length : 0;
                    if (len !== 32) out.push(`${what}: ${type} key ${k.name} is ${len} bytes, not 32`);
                }
            }
        }
    }
    return out;
}

export const encryptionAtRest = resourceRule({
    name: "encryption-provider",
    description: "Every EncryptionConfiguration the program writes puts secretbox or KMS v2 first (never identity) and uses 32-byte keys.",
    severity: "critical",
    framework: k8sDocs("encrypt-data#understanding-the-encryption-at-rest-configuration", "The first provider encrypts new writes; identity stores them in plain text (CIS 1.12 1.2.28, Manual, covers the same ground)"),
    remediation: "Put a secretbox provider (32 random bytes, base64) or kms with apiVersion: v2 first; keep identity only last, for reading old data during a migration.",
}, (args, report) => {
    for (const doc of encryptionConfigs(args.props)) for (const f of encryptionFindings(doc)) report(f);
});
