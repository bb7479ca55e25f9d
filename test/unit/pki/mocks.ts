// Pulumi mocks for the PKI specs: every tls resource gets recognisable fake outputs derived from its name,
// and every registration is recorded so a spec can assert exactly which resources were created.
import * as pulumi from "@pulumi/pulumi";

export interface Registered {
    type: string;
    name: string;
    inputs: any;
}

export const registered: Registered[] = [];

export function setPkiMocks(): Promise<void> {
    return pulumi.runtime.setMocks(
        {
            newResource(args: pulumi.runtime.MockResourceArgs) {
                registered.push({ type: args.type, name: args.name, inputs: args.inputs });
                const state: Record<string, unknown> = { ...args.inputs };
                if (args.type === "tls:index/privateKey:PrivateKey") {
                    state.privateKeyPem = `KEY(${args.name})`;
                    state.publicKeyPem = `PUB(${args.name})`;
                }
                if (args.type === "tls:index/selfSignedCert:SelfSignedCert") state.certPem = `CA(${args.name})`;
                if (args.type === "tls:index/certRequest:CertRequest") state.certRequestPem = `CSR(${args.name})`;
                if (args.type === "tls:index/locallySignedCert:LocallySignedCert") state.certPem = `CERT(${args.name})`;
                return { id: `${args.name}-id`, state };
            },
            call: (args: pulumi.runtime.MockCallArgs) => args.inputs,
        },
        "hardened-cluster",
        "unit",
        false,
    );
}

/** The value of an Output once it settles (mocks resolve everything, so this never waits forever). */
export function valueOf<T>(o: pulumi.Output<T>): Promise<T> {
    return new Promise((resolve) => o.apply((v) => resolve(v)));
}
