// The one shape every block's posture reports a departure from its hardened defaults in, so a report (or a
// policy check on the stack outputs) can list, filter and compare them across blocks without knowing each one.

export interface Weakening {
    /** Full key path of the setting that causes it, rooted at the block's config key, e.g.
     * "hardened-cluster:pki.breakGlass". A departure the block always makes, whatever is configured (kube-system
     * enforcing privileged), names the block's own key. */
    option: string;
    /** What it allows that the defaults would not, in one sentence; it names the namespace, persona, flag or
     * user concerned when the key path alone does not. */
    effect: string;
}

/** One line per weakening, for outputs that carry plain strings. */
export function describeWeakening(w: Weakening): string {
    return `${w.option}: ${w.effect}`;
}
