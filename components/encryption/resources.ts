// Which resources the EncryptionConfiguration covers. The apiserver refuses a file whose resource list it
// considers ambiguous and, with automatic reload, keeps running on the previous file; so every rule it
// enforces (k8s.io/apiserver validation of EncryptionConfiguration, v1.34) is checked here first, where
// the error can name the setting.
import { fail, key } from "../common";

/** Always encrypted: this block exists for them. */
export const ALWAYS_ENCRYPTED = "secrets";

// Served from the apiserver's own storage without a REST API, so there is nothing to encrypt.
const NON_REST = ["apiserveripinfo", "serviceipallocations", "servicenodeportallocations"];
const RESOURCE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const GROUP = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

interface GroupResource {
    resource: string;
    group: string;
}

/** "deployments.apps" → deployments in apps; "*." → every core resource; "configmaps" → core. */
function parse(s: string): GroupResource {
    const dot = s.indexOf(".");
    return dot < 0 ? { resource: s, group: "" } : { resource: s.slice(0, dot), group: s.slice(dot + 1) };
}

function overlaps(a: GroupResource, b: GroupResource): boolean {
    if (a.group === "*" || b.group === "*") return true; // only "*.*" can have group "*" after checkOne
    return a.group === b.group && (a.resource === "*" || b.resource === "*");
}

function checkOne(k: string, s: unknown): GroupResource {
    if (typeof s !== "string" || s.length === 0) fail(k, s, "use a resource name such as \"configmaps\" or \"*.apps\"");
    if (s !== s.toLowerCase()) fail(k, s, "resource names are lower-case plurals, e.g. \"configmaps\"");
    if (s === "*") fail(k, s, "use \"*.\" for every core-group resource or \"*.*\" for every resource");
    const gr = parse(s);
    if (gr.resource !== "*" && !RESOURCE.test(gr.resource)) {
        fail(k, s, "use \"<resource>\" or \"<resource>.<group>\" with a lower-case plural resource name");
    }
    if (gr.group === "*" && gr.resource !== "*") {
        fail(k, s, "the apiserver cannot encrypt one resource across groups; name the group or use \"*.*\"");
    }
    if (gr.group !== "" && gr.group !== "*" && !GROUP.test(gr.group)) fail(k, s, `"${gr.group}" is not a DNS-subdomain API group`);
    if (gr.group === "" && NON_REST.includes(gr.resource)) fail(k, s, "this resource has no REST API, so it cannot be encrypted");
    if (gr.group === "events.k8s.io") fail(k, s, "events.k8s.io events are stored as core \"events\"; list \"events\" instead");
    if (gr.group === "extensions") fail(k, s, "the extensions group has been removed; use the resource's current group");
    if (gr.group === "" && gr.resource === ALWAYS_ENCRYPTED) fail(k, s, "secrets are always encrypted; remove this entry");
    return gr;
}

/** Checks the extra resources and returns the full list for the file. */
export function resolveResources(k: string, value: unknown): string[] {
    if (value === undefined) return [ALWAYS_ENCRYPTED];
    if (!Array.isArray(value)) fail(k, value, "use a list such as [\"configmaps\"]");

    const parsed = value.map((s: unknown, i) => checkOne(key(k, i), s));
    parsed.forEach((gr, i) => {
        for (let j = 0; j < i; j++) {
            if (parsed[j].group === gr.group && parsed[j].resource === gr.resource) {
                fail(key(k, i), value[i], `duplicates ${key(k, j)} (${JSON.stringify(value[j])}); list each resource once`);
            }
            if (overlaps(parsed[j], gr)) {
                fail(key(k, i), value[i], `overlaps ${key(k, j)} (${JSON.stringify(value[j])}); the apiserver refuses overlapping entries`);
            }
        }
    });

    // A core or global wildcard already covers secrets, and listing both is an overlap the apiserver refuses.
    const coversSecrets = parsed.some((gr) => gr.resource === "*" && (gr.group === "" || gr.group === "*"));
    return coversSecrets ? [...(value as string[])] : [ALWAYS_ENCRYPTED, ...(value as string[])];
}
