// Checks that need more than one key: keys of the other platform, settings that only fail once the platform
// has filled in its own values (ports, nodes, etcd members), and values two keys must agree on.
import { fail, key } from "../components/common";
import { NETWORK_DEFAULTS } from "../components/control-plane";
import { resolvePkiOptions } from "../components/pki/options";
import { resolveAwsOptions } from "../platforms/aws/options";
import { planLocal } from "../platforms/local/plan";
import { BLUEPRINT_SCHEMA, SCHEMA_KEYS } from "./schema";
import { BlueprintConfig, NAMESPACE } from "./types";

const full = (name: string) => `${NAMESPACE}:${name}`;

/** A key read by one platform only must not be set for the other: it would be ignored without a word. */
export function checkPlatformKeys(c: Partial<BlueprintConfig> & Pick<BlueprintConfig, "platform">): void {
    for (const name of SCHEMA_KEYS) {
        const platforms = BLUEPRINT_SCHEMA[name].platforms;
        if (c[name] === undefined || platforms === undefined || platforms.includes(c.platform)) continue;
        fail(full(name), c[name], `only the ${platforms.join("/")} platform reads this and ${full("platform")} is "${c.platform}"; remove it or change the platform`);
    }
}

/**
 * Runs the selected platform's own planning over the validated keys. `others` holds the keys of other
 * namespaces (e.g. "aws:region"), which this blueprint only reads to compare.
 */
export function checkPlatform(c: BlueprintConfig, stack: string, isRoot: boolean, others: Readonly<Record<string, string>>): void {
    checkClusterDomain(c);
    if (c.platform === "local") {
        if (c.pki?.endpoint !== undefined) {
            fail(key(full("pki"), "endpoint"), c.pki.endpoint, "the local platform serves the API on 127.0.0.1 only and names it itself; remove it (it is for the AWS platform)");
        }
        const plan = planLocal({
            stack, local: c.local, pki: c.pki, audit: c.audit, controlPlane: c.controlPlane,
            configKeys: { local: full("local"), controlPlane: full("controlPlane") },
        }, isRoot);
        resolvePkiOptions(plan.pki, full("pki"));
        return;
    }
    const aws = resolveAwsOptions(c.aws, full("aws"));
    const providerRegion = others["aws:region"];
    if (providerRegion !== undefined && providerRegion !== aws.region) {
        fail(key(full("aws"), "region"), aws.region, `the AWS provider is configured for aws:region "${providerRegion}"; the cluster must be built in the provider's region, so use the same region in both`);
    }
    // The AWS program's own pure plan: every rule it applies (endpoint names, KMS-only encryption, refused
    // settings) fails here, before any resource. Loaded only for AWS stacks: it pulls in the AWS SDK typings.
    const { planAwsProgram } = require("../platforms/aws/program-plan") as typeof import("../platforms/aws/program-plan");
    planAwsProgram({
        stack, aws: c.aws!, pki: c.pki, encryption: c.encryption, audit: c.audit, controlPlane: c.controlPlane,
        configKeys: { aws: full("aws"), pki: full("pki"), encryption: full("encryption"), audit: full("audit"), controlPlane: full("controlPlane") },
    });
}

/**
 * The control plane serves `network.clusterDomain` (default cluster.local) while the API server certificate
 * names `pki.clusterDomain` when only that is set: different values would give a certificate for a domain the
 * cluster does not use. Either set it once, in controlPlane.network, or set both alike.
 */
function checkClusterDomain(c: BlueprintConfig): void {
    const pkiDomain = c.pki?.clusterDomain;
    if (pkiDomain === undefined) return;
    const served = c.controlPlane?.network?.clusterDomain ?? NETWORK_DEFAULTS.clusterDomain;
    if (pkiDomain !== served) {
        fail(key(full("pki"), "clusterDomain"), pkiDomain,
            `the control plane serves "${served}" (${full("controlPlane")}.network.clusterDomain); set the domain there and remove it here, or make both equal`);
    }
}
