// What the PKI settings amount to, for the cluster's posture report. A weakening is anything that makes a
// stolen or forged credential worth more than with the defaults; x509 client certificates cannot be revoked
// in Kubernetes, so lifetime and group membership matter more than they would elsewhere.
import { CLUSTER_ADMINS_GROUP, key, type Weakening } from "../common";
import { KeyAlgorithm, PKI_DEFAULTS, PkiOptions, resolvePkiOptions } from "./options";

export interface PkiPosture {
    algorithm: KeyAlgorithm;
    caValidityHours: number;
    leafValidityHours: number;
    earlyRenewalHours: number;
    breakGlass: boolean;
    weakenings: Weakening[];
}

export function pkiPosture(options: PkiOptions, configKey = "pki"): PkiPosture {
    const o = resolvePkiOptions(options, configKey);
    const weakenings: Weakening[] = [];
    const at = (...parts: (string | number)[]) => key(configKey, ...parts);

    if (o.breakGlass) {
        weakenings.push({
            option: at("breakGlass"),
            effect: "a system:masters client certificate (super-admin.conf) exists; it bypasses RBAC and every authorization webhook and stays valid until it expires or the CA is replaced",
        });
    }
    if (o.algorithm === "RSA-2048") {
        weakenings.push({ option: at("algorithm"), effect: "RSA-2048 keys give about 112 bits of security, below the 128 of the default ECDSA P-256" });
    }
    if (o.leafValidityHours > PKI_DEFAULTS.leafValidityHours) {
        weakenings.push({
            option: at("leafValidityHours"),
            effect: `leaf certificates live ${o.leafValidityHours}h instead of ${PKI_DEFAULTS.leafValidityHours}h, so a leaked client key stays usable longer (client certificates cannot be revoked)`,
        });
    }
    if (o.caValidityHours > PKI_DEFAULTS.caValidityHours) {
        weakenings.push({
            option: at("caValidityHours"),
            effect: `CAs live ${o.caValidityHours}h instead of ${PKI_DEFAULTS.caValidityHours}h, so a leaked CA key can mint credentials for longer`,
        });
    }
    o.users.forEach((u, i) => {
        if (u.groups.includes(CLUSTER_ADMINS_GROUP)) {
            weakenings.push({
                option: at("users", i, "groups"),
                effect: `user ${u.name} holds a cluster-admin client certificate that cannot be revoked before it expires`,
            });
        }
    });

    return {
        algorithm: o.algorithm,
        caValidityHours: o.caValidityHours,
        leafValidityHours: o.leafValidityHours,
        earlyRenewalHours: o.earlyRenewalHours,
        breakGlass: o.breakGlass,
        weakenings,
    };
}
