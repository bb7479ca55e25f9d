// Pod Security Admission settings of a namespace and the labels that carry them.
import { DEFAULT_PSA_VERSION, fail, isDnsLabel, isPlainObject, key, knownKeys, oneOf, PSA_LEVELS, PSA_MODES, type PsaLevel, type PsaMode } from "../common";

// Part of this block's public API (secureNamespace.PSA_LEVELS, ...); defined once in common.
export { DEFAULT_PSA_VERSION, PSA_LEVELS, PSA_MODES, type PsaLevel, type PsaMode };
const VERSION = /^v\d+\.\d+$/;

export interface PodSecurityInput {
    enforce?: PsaLevel;
    audit?: PsaLevel;
    warn?: PsaLevel;
    /** "vX.Y" or "latest"; defaults to the cluster minor. */
    version?: string;
    /** Required (a DNS-label name for the exception, e.g. "legacy-agent-hostpath") when any mode is below
     * restricted, so every weaker namespace is named and shows up in the posture summary. */
    exception?: string;
}

export interface PodSecurity {
    enforce: PsaLevel;
    audit: PsaLevel;
    warn: PsaLevel;
    version: string;
    exception?: string;
}

/** The newest check of the restricted profile is "Running as Non-root user (v1.23+)" (Pod Security
 * Standards): a label pinned to an older version evaluates pods without it, so root containers pass
 * "restricted". Older pins are refused rather than silently weaker. */
export const MIN_PSA_VERSION = "v1.23";

function minor(v: string): [number, number] {
    const [major, min] = v.slice(1).split(".").map(Number);
    return [major, min];
}

export function validatePsaVersion(k: string, v: unknown): string {
    if (v !== "latest" && (typeof v !== "string" || !VERSION.test(v))) fail(k, v, `use "latest" or a minor version "vX.Y", e.g. "${DEFAULT_PSA_VERSION}"`);
    if (v !== "latest") {
        const [a, b] = minor(v as string);
        const [ma, mb] = minor(MIN_PSA_VERSION);
        if (a < ma || (a === ma && b < mb)) {
            fail(k, v, `versions before ${MIN_PSA_VERSION} lack restricted checks (runAsUser 0 passes); use ${MIN_PSA_VERSION} or later, or "latest"`);
        }
    }
    return v as string;
}

export function validatePodSecurity(k: string, input: unknown, defaultVersion: string): PodSecurity {
    const raw = (input ?? {}) as Record<string, unknown>;
    if (!isPlainObject(raw)) fail(k, input, "use an object { enforce?, audit?, warn?, version?, exception? }");
    knownKeys(k, raw, ["enforce", "audit", "warn", "version", "exception"]);
    const level = (m: PsaMode) => (raw[m] === undefined ? "restricted" : oneOf(key(k, m), raw[m], PSA_LEVELS));
    const ps: PodSecurity = {
        enforce: level("enforce"),
        audit: level("audit"),
        warn: level("warn"),
        version: validatePsaVersion(key(k, "version"), raw.version ?? defaultVersion),
    };
    const weaker = PSA_MODES.filter((m) => ps[m] !== "restricted");
    const ex = raw.exception;
    if (weaker.length > 0) {
        if (ex === undefined) {
            const what = weaker.map((m) => `${m}=${ps[m]}`).join(", ");
            fail(key(k, "exception"), ex, `${what} is below restricted; name the exception (a DNS label) to allow it`);
        }
        if (typeof ex !== "string" || !isDnsLabel(ex)) fail(key(k, "exception"), ex, "use a DNS label naming the exception");
        ps.exception = ex;
    } else if (ex !== undefined) {
        fail(key(k, "exception"), ex, "every mode is restricted, so there is nothing to except; remove it");
    }
    return ps;
}

/** The six namespace labels Pod Security Admission reads. */
export function podSecurityLabels(ps: PodSecurity): Record<string, string> {
    const out: Record<string, string> = {};
    for (const m of PSA_MODES) {
        out[`pod-security.kubernetes.io/${m}`] = ps[m];
        out[`pod-security.kubernetes.io/${m}-version`] = ps.version;
    }
    return out;
}
