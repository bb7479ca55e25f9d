// What every rule of the pack shares: its metadata (severity, framework, remediation), its policy config
// (enforcement level is the engine's own key; `exceptions` is ours), and the record of exceptions honoured.
//
// Unknown values: the SDK wraps inputs in a proxy that throws UnknownValueError when a rule reads a value
// not known yet; the engine then reports "can't run policy ... during preview" (advisory) and the rule runs
// again, mandatory, on the known values of `pulumi up`. The rules leave that in place: a check never passes
// because a value is unknown, and a preview never fails because of one.
import { UnknownValueError } from "@pulumi/policy";
import type { PolicyComplianceFramework, ReportViolation, ResourceValidationPolicy, Severity, StackValidationPolicy } from "@pulumi/policy";

export interface Framework {
    name: string;
    version: string;
    reference: string;
    specification: string;
}

export const cis = (id: string, text: string): Framework => ({ name: "CIS Kubernetes Benchmark", version: "1.12", reference: id, specification: text });
export const pss = (reference: string, text: string): Framework =>
    ({ name: "Kubernetes Pod Security Standards", version: "v1.34", reference, specification: text });
export const k8sDocs = (reference: string, text: string): Framework =>
    ({ name: "Kubernetes documentation (security good practices)", version: "v1.34", reference, specification: text });
export const fsbp = (id: string, text: string): Framework =>
    ({ name: "AWS Foundational Security Best Practices", version: "1.0", reference: id, specification: text });
export const nist = (reference: string, text: string): Framework =>
    ({ name: "NIST SP 800-57 Part 1", version: "Rev. 5", reference, specification: text });

interface Meta {
    name: string;
    description: string;
    severity: Severity;
    framework: Framework;
    remediation: string;
    /** JSON schema of the `exceptions` config key, when the rule takes exceptions. */
    exceptions?: object;
}

function base(m: Meta) {
    return {
        name: m.name,
        description: m.description,
        enforcementLevel: "mandatory" as const,
        severity: m.severity,
        framework: m.framework as PolicyComplianceFramework,
        remediationSteps: m.remediation,
        ...(m.exceptions ? { configSchema: { properties: { exceptions: m.exceptions } } } : {}),
    };
}

export type ResourceCheck = ResourceValidationPolicy["validateResource"];
export type StackCheck = StackValidationPolicy["validateStack"];

export const resourceRule = (m: Meta, validateResource: ResourceCheck): ResourceValidationPolicy => ({ ...base(m), validateResource });
export const stackRule = (m: Meta, validateStack: StackCheck): StackValidationPolicy => ({ ...base(m), validateStack });

/** Exceptions the rules honoured in this run, reported (advisory) by the `exceptions-honoured` stack rule. */
const honoured = new Map<string, { rule: string; urn: string; what: string }>();

export function honour(rule: string, urn: string, what: string): void {
    honoured.set(`${rule}\u0000${urn}\u0000${what}`, { rule, urn, what });
}

export function honouredExceptions(): { rule: string; urn: string; what: string }[] {
    return [...honoured.values()];
}

export function resetHonoured(): void {
    honoured.clear();
}

/** The rule that makes every honoured exception visible; advisory, so it never blocks. */
export const exceptionsHonoured: StackValidationPolicy = {
    name: "exceptions-honoured",
    description: "Lists every exception from the policy config that another rule of this pack honoured.",
    enforcementLevel: "advisory",
    severity: "low",
    remediationSteps: "None needed if the exception is intended; otherwise remove it from the policy config.",
    validateStack: (_args, report: ReportViolation) => {
        for (const h of honouredExceptions()) report(`exception honoured by ${h.rule}: ${h.what}`, h.urn);
    },
};

/** The typed `exceptions` value of a rule's config, or a fallback. */
export function exceptionsOf<T>(args: { getConfig<C extends object>(): C }, fallback: T): T {
    const c = args.getConfig<{ exceptions?: T }>();
    return c?.exceptions ?? fallback;
}

export const isObj = (v: unknown): v is Record<string, any> => typeof v === "object" && v !== null && !Array.isArray(v);
export const arr = (v: unknown): any[] => (Array.isArray(v) ? v : []);

/** Go's strconv.ParseBool, as the Kubernetes binaries read their flags: undefined if it is not a boolean. */
export function goBool(v: unknown): boolean | undefined {
    if (typeof v === "boolean") return v;
    if (typeof v !== "string") return undefined;
    if (["1", "t", "T", "TRUE", "true", "True"].includes(v)) return true;
    if (["0", "f", "F", "FALSE", "false", "False"].includes(v)) return false;
    return undefined;
}

// The SDK's sentinel for an unknown object (internal to it, so not in its typings; the pack pins 1.21.0).
// eslint-disable-next-line @typescript-eslint/no-var-requires
const UNKNOWN_OBJECT: string = require("@pulumi/policy/proxy").unknownObjectValue;

/** Defers a rule to `up` the way the SDK does for an unknown input: the engine reports "can't run ... during
 * preview" (advisory) and runs the rule, mandatory, on the known values. For stack rules, whose resources
 * carry outputs, which the engine leaves empty at preview when a provider's configuration is unknown. */
export function defer(path: string): never {
    throw new UnknownValueError(UNKNOWN_OBJECT, [path]);
}
