// The blueprint's stack configuration: schema, loader and generated docs. The program calls
// loadBlueprintConfig(pulumi.runtime.allConfig(), pulumi.getStack()) and passes the typed result on.
export { loadBlueprintConfig, readBlueprintConfig, checkPlatformKeys, parseValue } from "./load";
export type { LoadOptions } from "./load";
export { BLUEPRINT_SCHEMA, SCHEMA_KEYS } from "./schema";
export type { BlueprintSchema } from "./schema";
export { PINNED_KUBERNETES_VERSION } from "./keys/platform";
export { NAMESPACE, PLATFORMS } from "./types";
export type { BlueprintConfig, BlueprintKey, ConfigEntry, ConfigType, EntryContext, Platform } from "./types";
export { projectConfig, renderReference, updatePulumiYaml, updateReadme, DOCS_COMMAND, README_START, README_END } from "./docs";
