// Flag maps and the rules for user overrides. Like kubeadm, each component has a default argument map and
// `extraArgs` replaces entries by name, but only within an allow-list (overridable.ts): managed flags are
// refused with a pointer to their typed option, free flags are accepted, and every other flag, known or
// not, needs naming in `weakenings.acceptExtraArgs.<component>` and is then reported in the posture. A
// value that fails a hardening guard tied to a typed switch (guards.ts) needs that switch as well.
import { fail, isPlainObject, key, NOT_SHOWN } from "../common";
import { cisLabel, failedGuards, Guard, GUARDS, isGuarded } from "./guards";
import { Component, WeakeningOptions } from "./options";
import { checkValue, FREE_FLAGS, isFree, managedBy } from "./overridable";

export type FlagMap = Record<string, string>;

export interface RenderedFlags {
    flags: FlagMap;
    /** Sorted `--name=value`: the only form kube-bench parses from a process command line. */
    args: string[];
}

export function toArgs(flags: Readonly<FlagMap>): string[] {
    return Object.keys(flags)
        .sort()
        .map((name) => `--${name}=${flags[name]}`);
}

export function rendered(flags: FlagMap): RenderedFlags {
    return { flags, args: toArgs(flags) };
}

/** An extraArgs flag outside the free allow-list, accepted through weakenings.acceptExtraArgs. */
export interface AcceptedOverride {
    component: Component;
    flag: string;
    value: string;
    /** The hardening checks its value fails; empty when it passes them all (or none reads it). */
    guards: Guard[];
}

export interface ResolvedExtraArgs {
    args: FlagMap;
    accepted: AcceptedOverride[];
}

const FLAG_NAME = /^[a-z0-9][a-z0-9.-]*$/;

/**
 * Validates one component's extraArgs. `k` is the extraArgs key path; `configKey` roots the pointers to the
 * options that must be used instead.
 */
export function resolveExtraArgs(component: Component, extraArgs: unknown, weakenings: WeakeningOptions, k: string, configKey: string): ResolvedExtraArgs {
    const args: FlagMap = {};
    const accepted: AcceptedOverride[] = [];
    const ackKey = key(configKey, "weakenings", "acceptExtraArgs", component);
    const acks = weakenings.acceptExtraArgs?.[component] ?? [];
    if (extraArgs === undefined) {
        if (acks.length > 0) fail(key(ackKey, 0), acks[0], `only list flags set in ${k}`);
        return { args, accepted };
    }
    if (!isPlainObject(extraArgs)) {
        fail(k, extraArgs, 'use a map of flag name (without "--") to value');
    }
    for (const [flag, raw] of Object.entries(extraArgs as Record<string, unknown>)) {
        const fk = key(k, flag);
        if (!FLAG_NAME.test(flag)) fail(fk, NOT_SHOWN, 'write the flag name in lower case without leading "--" or "=", e.g. "v" for --v');
        const owner = managedBy(component, flag);
        if (owner !== undefined) {
            const g = GUARDS[component].find((x) => x.flag === flag && x.weakening !== undefined);
            fail(fk, NOT_SHOWN, `this flag is set from ${owner.startsWith("the ") ? owner : key(configKey, owner)}${g ? ` (${cisLabel(g)})` : ""}; change that instead`);
        }
        // Only values of flags this block knows are repeated in errors; anything else may be a credential.
        const shown = isFree(component, flag) || isGuarded(component, flag) ? raw : NOT_SHOWN;
        if (typeof raw !== "string" && typeof raw !== "number" && typeof raw !== "boolean") fail(fk, shown, "use a string, number or boolean");
        const value = String(raw);
        // kube-bench reads a value up to the first whitespace, and ps shows argv joined by spaces.
        if (/\s/.test(value) || value === "") fail(fk, shown, "use a non-empty value without whitespace");
        checkValue(component, flag, value, shown, fk, configKey, weakenings);

        const failing = failedGuards(component, flag, value);
        for (const g of failing) {
            if (g.weakening !== undefined && weakenings[g.weakening] !== true) {
                fail(fk, raw, `${flag} must ${g.requirement} (${cisLabel(g)}); to accept the weakening set ${key(configKey, "weakenings", g.weakening)}: true`);
            }
        }
        const needAck = failing.filter((g) => g.weakening === undefined);
        if (!isFree(component, flag) || needAck.length > 0) {
            if (!acks.includes(flag)) {
                const g = needAck[0];
                fail(fk, g ? raw : NOT_SHOWN, g
                    ? `${flag} must ${g.requirement} (${cisLabel(g)}); to accept the weakening list "${flag}" in ${ackKey}`
                    : `--${flag} is not on the allow-list of flags that change no security property (${FREE_FLAGS[component].join(", ")}); ` +
                      `to accept it as a named weakening list "${flag}" in ${ackKey}`);
            }
            accepted.push({ component, flag, value, guards: needAck });
        }
        args[flag] = value;
    }
    acks.forEach((flag, i) => {
        if (!accepted.some((a) => a.flag === flag)) {
            fail(key(ackKey, i), flag, `only list flags set in ${k} that are not on the free allow-list`);
        }
    });
    return { args, accepted };
}
