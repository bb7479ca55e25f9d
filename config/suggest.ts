// What an unknown key was probably meant to be. Two kinds of mistake are common: a misspelt key
// ("platfrom", "control-plane") and a field set at the top level instead of inside its key ("tenants" belongs
// in baseline, "ports" in local), so both the keys and their fields are searched.
import type { ConfigEntry } from "./types";

/** Lower case without separators, so "control-plane", "control_plane" and "controlplane" compare equal. */
function normal(s: string): string {
    return s.toLowerCase().replace(/[-_.\s]/g, "");
}

/** Edit distance counting an adjacent swap as one edit ("platfrom" is one away from "platform"). */
export function editDistance(a: string, b: string): number {
    const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
    for (let i = 1; i <= a.length; i++) {
        for (let j = 1; j <= b.length; j++) {
            const cost = a[i - 1] === b[j - 1] ? 0 : 1;
            d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
            if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
        }
    }
    return d[a.length][b.length];
}

/** Close enough to be a typo: one edit for short names, more for longer ones; singular/plural counts as equal. */
function near(typed: string, candidate: string): boolean {
    const [a, b] = [normal(typed), normal(candidate)];
    if (a === b || a + "s" === b || a === b + "s") return true;
    return editDistance(a, b) <= Math.max(1, Math.floor(b.length / 4));
}

/** The best guess for `name` as a sentence, or undefined when nothing is close. */
export function suggestKey(name: string, schema: Readonly<Record<string, ConfigEntry>>, namespace: string): string | undefined {
    const keys = Object.keys(schema);
    const key = keys.find((k) => near(name, k));
    if (key) return `did you mean ${namespace}:${key}?`;
    // A field name can live in more than one key (admission is in controlPlane and in baseline): name them all.
    const fields = keys.flatMap((k) => Object.keys(schema[k].fields ?? {}).filter((f) => near(name, f)).map((f) => `${namespace}:${k}.${f}`));
    if (fields.length > 0) return `did you mean ${fields.join(" or ")}? Set it inside that key's object.`;
    return undefined;
}
