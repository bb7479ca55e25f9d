// Service-account signing keys over time. pki.serviceAccountKeys names the keys: the first signs new tokens,
// every one verifies. A rotation is three `pulumi up`s: publish the new key after the signer (every apiserver
// learns to verify it), make it the signer, and drop the old one once no token it signed can still be valid.
// Two orders are refused because they break tokens: a key that signs before every apiserver verifies it (an
// apiserver not yet restarted rejects its tokens), and a key dropped while tokens it signed are still valid.
//
// The record of when each key stopped signing lives in the state of a small resource (ServiceAccountKeyGate)
// whose diff applies these rules, so a preview refuses a bad step before any file changes: the keys, and so
// the files and processes reading them, depend on it.
import * as pulumi from "@pulumi/pulumi";

/** Tokens minted by apiservers still on the old signer while a switch rolls out: added to the lifetime. */
export const ROLLOUT_ALLOWANCE_SECONDS = 3600;

/** What the gate keeps between runs. */
export interface ServiceAccountKeyRecord {
    /** The keys as last applied, signer first. */
    keys: string[];
    /** When each non-signing key stopped signing (ISO time); absent for keys that never signed. */
    retiredAt: Record<string, string>;
    /** The longest token lifetime in force, in seconds. */
    lifetimeSeconds: number;
}

export interface ServiceAccountKeyStep {
    record: ServiceAccountKeyRecord;
    /** Why the step is refused; empty when it may proceed. */
    problems: string[];
}

/**
 * The next record for `keys` after `previous` (undefined on a new stack), or the problems that refuse it.
 * Self-contained on purpose: the gate's provider is serialized into the state with it.
 */
export function serviceAccountKeyStep(previous: ServiceAccountKeyRecord | undefined, keys: string[], lifetimeSeconds: number, now: Date, configKey = "pki.serviceAccountKeys"): ServiceAccountKeyStep {
    if (previous === undefined) return { record: { keys: [...keys], retiredAt: {}, lifetimeSeconds }, problems: [] };
    const problems: string[] = [];
    const [signer] = keys;
    const [oldSigner] = previous.keys;
    if (signer !== oldSigner && !previous.keys.includes(signer)) {
        problems.push(`${configKey}: "${signer}" would sign tokens before every apiserver verifies it; first apply [${[oldSigner, ...previous.keys.slice(1), signer].map((k) => `"${k}"`).join(", ")}] (the new key after the signer), then make it the signer`);
    }
    const retiredAt: Record<string, string> = {};
    for (const k of keys.slice(1)) {
        const since = k === oldSigner && signer !== oldSigner ? now.toISOString() : previous.retiredAt[k];
        if (since !== undefined) retiredAt[k] = since;
    }
    // Tokens minted before the switch carry the lifetime then in force, so the longer of the two counts.
    const lifetime = Math.max(lifetimeSeconds, previous.lifetimeSeconds);
    for (const dropped of previous.keys.filter((k) => !keys.includes(k))) {
        if (dropped === oldSigner) {
            problems.push(`${configKey}: "${dropped}" signs the tokens in use; make another key the signer first, and drop "${dropped}" once its tokens have expired`);
            continue;
        }
        const stoppedSigning = previous.retiredAt[dropped];
        if (stoppedSigning === undefined) continue; // never signed a token
        const allowed = new Date(Date.parse(stoppedSigning) + (lifetime + ROLLOUT_ALLOWANCE_SECONDS) * 1000);
        if (now < allowed) {
            problems.push(`${configKey}: "${dropped}" stopped signing at ${stoppedSigning} and tokens it signed stay valid for up to ${lifetime} s (plus ${ROLLOUT_ALLOWANCE_SECONDS} s for the rollout); it may be removed from ${allowed.toISOString()}`);
        }
    }
    return { record: { keys: [...keys], retiredAt, lifetimeSeconds: lifetime }, problems };
}

interface GateInputs {
    keys: string[];
    lifetimeSeconds: number;
    configKey: string;
}

type GateState = GateInputs & ServiceAccountKeyRecord;

/** The record `news` leads to from `olds` now; a refused step throws, which fails the preview or the up. */
function allowedRecord(olds: GateState | undefined, news: GateInputs): ServiceAccountKeyRecord {
    const step = serviceAccountKeyStep(olds, news.keys, news.lifetimeSeconds, new Date(), news.configKey);
    if (step.problems.length > 0) throw new Error(step.problems.join("\n"));
    return step.record;
}

const gateProvider: pulumi.dynamic.ResourceProvider = {
    async create(i: GateInputs) {
        return { id: "service-account-keys", outs: { ...i, ...allowedRecord(undefined, i) } };
    },
    async diff(_id: string, olds: GateState, news: GateInputs) {
        const record = allowedRecord(olds, news);
        const changes = JSON.stringify(olds.keys) !== JSON.stringify(news.keys) || olds.lifetimeSeconds !== record.lifetimeSeconds;
        return { changes, replaces: [] };
    },
    async update(_id: string, olds: GateState, news: GateInputs) {
        return { outs: { ...news, ...allowedRecord(olds, news) } };
    },
};

/** Applies serviceAccountKeyStep between runs; everything built from the keys should depend on it. */
export class ServiceAccountKeyGate extends pulumi.dynamic.Resource {
    declare readonly retiredAt: pulumi.Output<Record<string, string>>;

    constructor(name: string, args: { [K in keyof GateInputs]: pulumi.Input<GateInputs[K]> }, opts?: pulumi.CustomResourceOptions) {
        super(gateProvider, name, { ...args, retiredAt: undefined }, opts, "hardened-cluster", "ServiceAccountKeyGate");
    }
}
