// Checks that need more than one key: keys of the other platform, settings that only fail once the platform
// has filled in its own values (ports, nodes, etcd members), and values two keys must agree on.
import { fail, key, kubeadmLayout } from "../components/common";
import { NETWORK_DEFAULTS, renderControlPlane } from "../components/control-plane";
import { resolvePkiOptions } from "../components/pki/options";
import { resolveAwsOptions } from "../platforms/aws/options";
import { planLocal } from "../platforms/local/plan";
import { standInHosts } from "./keys/shared";
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
    // The AWS platform places its nodes itself; what changes validity is how many etcd members it runs.
    const hosts = standInHosts(aws.controlPlane.etcdMembers);
    const network = { ...c.controlPlane?.network, advertiseAddress: hosts[0].ip, etcdMembers: hosts };
    renderControlPlane({ ...c.controlPlane, audit: c.audit, network }, kubeadmLayout(), full("controlPlane"));
    const pkiHosts = hosts.map((h) => ({ name: h.name, ipAddresses: [h.ip] }));
    resolvePkiOptions({
        ...c.pki,
        serviceCidr: network.serviceCidr ?? NETWORK_DEFAULTS.serviceCidr,
        controlPlaneNodes: pkiHosts,
        etcdMembers: pkiHosts,
    }, full("pki"));
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
