// Label syntax as the apiserver checks it, so a bad label fails at validation rather than mid-deployment.
import { fail, isDnsLabel, isPlainObject, key } from "../common";

const NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;

function isLabelKey(s: string): boolean {
    const slash = s.lastIndexOf("/");
    const [prefix, name] = slash < 0 ? [undefined, s] : [s.slice(0, slash), s.slice(slash + 1)];
    if (prefix !== undefined && (prefix.length > 253 || !prefix.split(".").every(isDnsLabel))) return false;
    return NAME.test(name);
}

function isLabelValue(s: string): boolean {
    return s === "" || NAME.test(s);
}

/** Labels that the blueprint sets itself; letting config set them would let it undo the posture. */
const RESERVED_LABEL_PREFIXES: readonly string[] = ["pod-security.kubernetes.io/", "kubernetes.io/metadata.name"];

export function validateLabels(k: string, v: unknown, opts: { allowEmpty: boolean; reserved?: boolean }): Record<string, string> {
    if (!isPlainObject(v)) fail(k, v, "use a map of label key to value");
    const out: Record<string, string> = {};
    for (const [lk, lv] of Object.entries(v as Record<string, unknown>)) {
        const kk = key(k, lk);
        if (!isLabelKey(lk)) fail(kk, lk, "use a label key: [prefix/]name, name up to 63 of [A-Za-z0-9-_.]");
        if (opts.reserved && RESERVED_LABEL_PREFIXES.some((p) => lk.startsWith(p))) {
            fail(kk, lk, `labels starting ${RESERVED_LABEL_PREFIXES.join(" or ")} are set from podSecurity and the name, not here`);
        }
        if (typeof lv !== "string" || !isLabelValue(lv)) fail(kk, lv, "use a label value: up to 63 of [A-Za-z0-9-_.], starting and ending alphanumeric");
        out[lk] = lv;
    }
    if (!opts.allowEmpty && Object.keys(out).length === 0) fail(k, v, "name at least one label (an empty selector matches every namespace)");
    return out;
}
