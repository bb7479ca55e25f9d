// Runs one rule of the policy pack the way the SDK's analyzer server does: inputs wrapped in the SDK's
// unknown-checking proxy, the rule's config from getConfig, every reportViolation collected. A rule that
// reads an unknown value ends "deferred", which the engine turns into an advisory "can't run during preview".
import type { PolicyResource, ReportViolation, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { UnknownValueError, unknownCheckingProxy } from "@pulumi/policy";
import { policies } from "../../../policy/policies";
import { honouredExceptions, resetHonoured } from "../../../policy/rules/common";

// The sentinels the engine's preview values deserialize to (internal to the SDK, so not in its typings).
// eslint-disable-next-line @typescript-eslint/no-var-requires
const sdkProxy = require("@pulumi/policy/proxy") as Record<string, string>;
export const UNKNOWN = {
    string: sdkProxy.unknownStringValue,
    number: sdkProxy.unknownNumberValue,
    boolean: sdkProxy.unknownBooleanValue,
    array: sdkProxy.unknownArrayValue,
    object: sdkProxy.unknownObjectValue,
};

export interface Outcome {
    violations: string[];
    deferred: boolean;
    honoured: string[];
}

export function rule(name: string): ResourceValidationPolicy & StackValidationPolicy {
    const p = policies.find((x) => x.name === name);
    if (!p) throw new Error(`no rule ${name} in the pack`);
    return p as ResourceValidationPolicy & StackValidationPolicy;
}

const getConfigOf = (config: object | undefined) => <T extends object>() => (config ?? {}) as T;

async function collect(run: (report: ReportViolation) => unknown): Promise<Outcome> {
    resetHonoured();
    const violations: string[] = [];
    let deferred = false;
    try {
        await run((message: string) => { violations.push(message); });
    } catch (e) {
        if (!(e instanceof UnknownValueError)) throw e;
        deferred = true;
    }
    return { violations, deferred, honoured: honouredExceptions().map((h) => h.what) };
}

export function checkResource(name: string, type: string, props: Record<string, any>, config?: object): Promise<Outcome> {
    const p = rule(name);
    if (typeof p.validateResource !== "function") throw new Error(`${name} is not a resource rule`);
    const validate = p.validateResource;
    return collect((report) => validate({
        type,
        props: unknownCheckingProxy(props),
        urn: `urn:pulumi:test::test::${type}::r`,
        name: "r",
        opts: { protect: false, ignoreChanges: [], aliases: [], customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 }, additionalSecretOutputs: [] },
        stackTags: new Map(),
        isType: () => false,
        asType: () => undefined,
        getConfig: getConfigOf(config),
        notApplicable: () => { throw new Error("not applicable"); },
    } as any, report));
}

export interface FakeResource {
    type: string;
    name: string;
    props: Record<string, any>;
    /** property name -> names of resources in the same list it depends on */
    deps?: Record<string, string[]>;
}

export function checkStack(name: string, resources: FakeResource[], config?: object): Promise<Outcome> {
    const p = rule(name);
    if (typeof p.validateStack !== "function") throw new Error(`${name} is not a stack rule`);
    const byName = new Map<string, PolicyResource>();
    const list: PolicyResource[] = resources.map((r) => {
        const pr = { type: r.type, name: r.name, urn: `urn:pulumi:test::test::${r.type}::${r.name}`, props: unknownCheckingProxy(r.props),
            opts: {} as any, dependencies: [], propertyDependencies: {}, isType: () => false, asType: () => undefined } as PolicyResource;
        byName.set(r.name, pr);
        return pr;
    });
    resources.forEach((r, i) => {
        for (const [k, names] of Object.entries(r.deps ?? {})) list[i].propertyDependencies[k] = names.map((n) => byName.get(n)!);
    });
    const validate = p.validateStack;
    return collect((report) => validate({ resources: list, getConfig: getConfigOf(config), stackTags: new Map(), notApplicable: () => { throw new Error("n/a"); } } as any, report));
}
