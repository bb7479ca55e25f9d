// Every key the program reads under the hardened-cluster namespace, in the order the docs list them.
// Pulumi.yaml's config block and the README's configuration reference are generated from this object.
import { aws } from "./keys/aws";
import { backup } from "./keys/backup";
import { baseline } from "./keys/baseline";
import { controlPlane } from "./keys/control-plane";
import { local, pki } from "./keys/local";
import { kubernetesVersion, platform } from "./keys/platform";
import { audit, encryption } from "./keys/settings";
import { BlueprintConfig, ConfigEntry } from "./types";

export type BlueprintSchema = { [K in keyof BlueprintConfig]-?: ConfigEntry<NonNullable<BlueprintConfig[K]>> };

export const BLUEPRINT_SCHEMA: BlueprintSchema = {
    platform,
    kubernetesVersion,
    local,
    aws,
    pki,
    encryption,
    audit,
    controlPlane,
    baseline,
    backup,
};

export const SCHEMA_KEYS = Object.keys(BLUEPRINT_SCHEMA) as (keyof BlueprintSchema)[];
