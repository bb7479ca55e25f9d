// Every YAML file the blueprint writes goes through here: plain objects in, YAML out, never concatenation.
import { stringify } from "yaml";

export function toYaml(doc: unknown): string {
    return stringify(doc, { lineWidth: 0, aliasDuplicateObjects: false });
}
