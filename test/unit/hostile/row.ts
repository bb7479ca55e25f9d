// One hostile or careless input: a stack configuration that must never be accepted silently. It either fails
// with a ConfigError naming exactly the key the user wrote, or it is accepted and a named weakening shows.
import type { BlueprintConfig } from "../../../config";

export interface HostileRow {
    /** What is tried, in a few words (the test title). */
    name: string;
    /** Blueprint keys without the namespace (`{ controlPlane: {...} }`), with values as the user writes them. */
    config: Record<string, unknown>;
    /** Stack name; default "local". */
    stack?: string;
    /** Whether the program runs as root; default true. */
    isRoot?: boolean;
    /** Refused: a ConfigError whose key is exactly this full key path, its message matching `mentions`. */
    rejects?: { key: string; mentions?: RegExp };
    /** Or accepted, with `named` appearing in what `posture` computes from the loaded configuration. */
    weakens?: { named: string; posture: (cfg: BlueprintConfig) => unknown };
}
