// Serving certificates for kube-controller-manager and kube-scheduler, issued from the cluster CA. Left to
// themselves (as kubeadm leaves them) they self-sign in memory, and a health check could only skip
// verification, accepting any process that holds the port. With these, the check verifies who answers.
import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";
import { CaPair, keyArgs, PkiOptions, resolvePkiOptions, SERVER_USAGES } from "../../components/pki";

export interface ServingPair {
    certPem: pulumi.Output<string>;
    /** Secret. */
    keyPem: pulumi.Output<string>;
}

/** A loopback-only serving pair for `component` (its name is the certificate's CN). */
export function servingPair(name: string, component: string, ca: CaPair, pki: PkiOptions, opts: pulumi.CustomResourceOptions): ServingPair {
    const o = resolvePkiOptions(pki);
    const key = new tls.PrivateKey(`${name}-serving-${component}`, keyArgs(o.algorithm), opts);
    const csr = new tls.CertRequest(`${name}-serving-${component}`, {
        privateKeyPem: key.privateKeyPem,
        subject: { commonName: component },
        dnsNames: ["localhost"],
        ipAddresses: ["127.0.0.1"],
    }, opts);
    const cert = new tls.LocallySignedCert(`${name}-serving-${component}`, {
        certRequestPem: csr.certRequestPem,
        caCertPem: ca.certPem,
        caPrivateKeyPem: ca.keyPem,
        allowedUses: SERVER_USAGES,
        setSubjectKeyId: true,
        validityPeriodHours: o.leafValidityHours,
        earlyRenewalHours: o.earlyRenewalHours,
    }, opts);
    return { certPem: cert.certPem, keyPem: pulumi.secret(key.privateKeyPem) };
}
