// CA rotation as data. Each trust domain (cluster CA, etcd CA, front-proxy CA) rotates on its own, one phase
// per `pulumi up`: trust-both publishes the new CA next to the old one in every trust file, issue-new re-issues
// every leaf from the new CA, distrust-old drops the old CA from the trust files, and steady deletes it. CAs
// are numbered: generation 1 keeps the resource names of releases without rotation, so existing stacks are
// unchanged. Going back one phase is always allowed; skipping one never is, because each phase is safe only
// once the one before it reached every process (see ca-rotation-gate.ts for the checks of the live cluster).
import { fail, isPlainObject, key, knownKeys, oneOf, positiveInt } from "../common";
import type { CaName } from "./certlist";

export const CA_ROTATION_PHASES = ["steady", "trust-both", "issue-new", "distrust-old"] as const;
export type CaRotationPhase = (typeof CA_ROTATION_PHASES)[number];

/** Where one trust domain stands: its newest CA's generation and the phase of the rotation to it. */
export interface CaRotation {
    generation: number;
    phase: CaRotationPhase;
}

export interface CaRotationOption {
    /** The newest CA's number; 1 is the CA a stack is created with. Default 1. */
    generation?: number;
    /** Default "steady". */
    phase?: CaRotationPhase;
}

export type CaRotationOptions = Partial<Record<CaName, CaRotationOption>>;

export const CA_DOMAINS: readonly CaName[] = ["kubernetes", "etcd", "frontProxy"];

export const STEADY: CaRotation = { generation: 1, phase: "steady" };

export function resolveCaRotation(options: unknown, configKey: string): Record<CaName, CaRotation> {
    const value = options === undefined ? {} : options;
    if (!isPlainObject(value)) fail(configKey, value, "use an object keyed by trust domain (kubernetes, etcd, frontProxy)");
    knownKeys(configKey, value, CA_DOMAINS);
    const out = {} as Record<CaName, CaRotation>;
    for (const domain of CA_DOMAINS) {
        const k = key(configKey, domain);
        const o = (value as Record<string, unknown>)[domain] === undefined ? {} : (value as Record<string, unknown>)[domain];
        if (!isPlainObject(o)) fail(k, o, "use { generation, phase }");
        knownKeys(k, o, ["generation", "phase"]);
        const phase = o.phase === undefined ? "steady" : oneOf(key(k, "phase"), o.phase, CA_ROTATION_PHASES);
        const generation = o.generation === undefined ? 1 : positiveInt(key(k, "generation"), o.generation);
        // A rotation moves to a CA after the first, so every phase but steady names generation 2 or later.
        if (phase !== "steady" && generation < 2) {
            fail(key(k, "generation"), o.generation, `use the new CA's generation (2 or more) with phase ${phase}; the first CA is generation 1`);
        }
        out[domain] = { generation, phase };
    }
    return out;
}

/** Which CA generations a phase keeps as resources, which ones the trust files hold, and which one signs leaves. */
export interface CaGenerations {
    /** Oldest first. */
    kept: number[];
    /** Signer first: a single-certificate reader (kcm's signing file) and kubeadm-style tooling read the first. */
    trusted: number[];
    signer: number;
}

export function caGenerations(r: CaRotation): CaGenerations {
    const g = r.generation;
    switch (r.phase) {
        case "steady":
            return { kept: [g], trusted: [g], signer: g };
        case "trust-both":
            return { kept: [g - 1, g], trusted: [g - 1, g], signer: g - 1 };
        case "issue-new":
            return { kept: [g - 1, g], trusted: [g, g - 1], signer: g };
        case "distrust-old":
            // The old CA stays in state until steady, so going back to issue-new brings back the same old CA.
            return { kept: [g - 1, g], trusted: [g], signer: g };
    }
}

/** A position on the line every rotation walks: steady(1), trust-both(2), issue-new(2), distrust-old(2), steady(2), ... */
function ordinal(r: CaRotation): number {
    return 4 * r.generation - (r.phase === "steady" ? 0 : r.phase === "trust-both" ? 3 : r.phase === "issue-new" ? 2 : 1);
}

const describe = (r: CaRotation) => `{ generation: ${r.generation}, phase: ${r.phase} }`;

function following(r: CaRotation): CaRotation {
    switch (r.phase) {
        case "steady":
            return { generation: r.generation + 1, phase: "trust-both" };
        case "trust-both":
            return { ...r, phase: "issue-new" };
        case "issue-new":
            return { ...r, phase: "distrust-old" };
        case "distrust-old":
            return { ...r, phase: "steady" };
    }
}

/** How a step between two recorded positions moves: not at all, one phase on, one phase back. */
export type CaRotationMove = "none" | "forward" | "back";

/**
 * Whether `next` may follow `previous` (undefined: a domain with no record yet, a new stack or one from before
 * rotation existed): the move, or the refusal naming the steps allowed instead. No imports: the gate's provider
 * is serialized into the state with it.
 */
export function caRotationMove(previous: CaRotation | undefined, next: CaRotation, configKey: string): { move: CaRotationMove } | { problem: string } {
    if (previous === undefined) {
        // No record: a new stack, or one from before rotation existed, whose CA is generation 1. Anything past
        // the first step from there would drop that CA unchecked.
        if ((next.phase === "steady" && next.generation === 1) || (next.phase === "trust-both" && next.generation === 2)) return { move: "none" };
        return { problem: `${configKey}: ${describe(next)} needs a recorded rotation; the CA in use is generation 1, so start with ${describe({ generation: 2, phase: "trust-both" })}` };
    }
    const delta = ordinal(next) - ordinal(previous);
    if (delta === 0) return { move: "none" };
    if (delta === 1) return { move: "forward" };
    // steady deleted the old CA, so stepping back from it would trust a CA that no longer exists.
    if (delta === -1 && previous.phase !== "steady") return { move: "back" };
    const back = previous.phase === "steady" ? "" : ` or back to ${describe(backOf(previous))}`;
    return { problem: `${configKey}: ${describe(next)} cannot follow the applied ${describe(previous)}; one phase per pulumi up: go on to ${describe(following(previous))}${back}` };
}

function backOf(r: CaRotation): CaRotation {
    switch (r.phase) {
        case "trust-both":
            return { generation: r.generation - 1, phase: "steady" };
        case "issue-new":
            return { ...r, phase: "trust-both" };
        default:
            return { ...r, phase: "issue-new" };
    }
}

/** The Pulumi resource name of one generation of a CA; generation 1 keeps the name of releases before rotation. */
export function caResourceName(base: string, generation: number): string {
    return generation === 1 ? base : `${base}-${generation}`;
}

/** The subject CN of one generation, so an issuer names the CA that signed it; generation 1 keeps kubeadm's. */
export function caCommonName(commonName: string, generation: number): string {
    return generation === 1 ? commonName : `${commonName}-${generation}`;
}
