// Certificates and keys made with @pulumi/tls: lifetimes, a renewal window, and key strength.
import { nist, k8sDocs, isObj, resourceRule } from "./common";

export const CERT_TYPES = ["tls:index/selfSignedCert:SelfSignedCert", "tls:index/locallySignedCert:LocallySignedCert"];
export const KEY_TYPE = "tls:index/privateKey:PrivateKey";
/** kubeadm's lifetimes: leaves one year, CAs ten (leap days included). */
export const LEAF_MAX_HOURS = 366 * 24;
export const CA_MAX_HOURS = 10 * 366 * 24;

export const pkiLifetime = resourceRule({
    name: "pki-certificate-lifetime",
    description: "Leaf certificates are valid at most 1 year and CAs at most 10 years; leaves carry a renewal window (earlyRenewalHours > 0) so a refresh re-issues them before they expire.",
    severity: "medium",
    framework: k8sDocs("kubeadm-certs#check-certificate-expiration", "kubeadm issues leaves for 1 year and CAs for 10 years and renews leaves before expiry"),
    remediation: "Set validityPeriodHours to at most 8760 for leaves (87600 for CAs) and earlyRenewalHours (e.g. 720) on every leaf.",
}, (args, report) => {
    if (!CERT_TYPES.includes(args.type)) return;
    const hours = args.props.validityPeriodHours;
    const isCa = args.props.isCaCertificate === true;
    const max = isCa ? CA_MAX_HOURS : LEAF_MAX_HOURS;
    if (typeof hours !== "number") report(`${args.name}: validityPeriodHours is not set`);
    else if (hours > max) report(`${args.name}: a ${isCa ? "CA" : "leaf"} certificate valid ${hours} hours (${(hours / 8760).toFixed(1)} years), more than ${max}`);
    if (!isCa) {
        const early = args.props.earlyRenewalHours;
        if (typeof early !== "number" || early <= 0) report(`${args.name}: a leaf without a renewal window (earlyRenewalHours)`);
        else if (typeof hours === "number" && early >= hours) report(`${args.name}: earlyRenewalHours ${early} is not shorter than the validity ${hours}`);
    }
});

export const pkiKeyStrength = resourceRule({
    name: "pki-key-strength",
    description: "Private keys are ECDSA P-256 or P-384, or RSA of at least 2048 bits.",
    severity: "high",
    framework: nist("Table 2 (5.6.1.1)", "At least 112 bits of security: RSA >= 2048, ECDSA P-256 or larger"),
    remediation: "Use algorithm ECDSA with ecdsaCurve P256 or P384 (the provider's default curve is P224), or RSA with rsaBits >= 2048.",
}, (args, report) => {
    if (args.type !== KEY_TYPE || !isObj(args.props)) return;
    const alg = args.props.algorithm;
    if (alg === "RSA") {
        // The provider's default is 2048.
        const bits = args.props.rsaBits ?? 2048;
        if (typeof bits !== "number" || bits < 2048) report(`${args.name}: RSA key of ${bits} bits, fewer than 2048`);
    } else if (alg === "ECDSA") {
        const curve = args.props.ecdsaCurve ?? "P224";
        if (curve !== "P256" && curve !== "P384") report(`${args.name}: ECDSA curve ${curve}, not P256 or P384`);
    } else {
        report(`${args.name}: key algorithm ${alg}, not ECDSA (P256/P384) or RSA`);
    }
});
