// EC2 reports an instance as running long before its apiserver answers: cloud-init installs packages,
// fetches the secrets, and etcd needs a quorum of members that boot in parallel. AdminBootstrap makes one
// request and gives up, so on a first `pulumi up` it would fail against a booting control plane. This gate
// polls /readyz through the endpoint until the apiserver says it is ready, then lets the bootstrap run.
//
// With anonymous auth off, /readyz needs a client certificate; each poll mints one valid for minutes, with no
// group at all (system:public-info-viewer lets any authenticated user read /readyz), so the gate holds no
// standing credential and never more rights than it needs.
import * as pulumi from "@pulumi/pulumi";
// Imported from its own module, as AdminBootstrap does: the provider is serialized with what it captures.
import { mintedRequest } from "../../components/pki/ephemeral";

const READINESS_IDENTITY = "hardened-cluster:readiness";
/** First boot: package installation, secret fetch, etcd quorum across three zones. */
const DEFAULT_READY_TIMEOUT_SECONDS = 1800;

export interface ApiServerReadyArgs {
    /** The URL clients use, e.g. https://10.0.0.5:6443 (the certificate must name its host). */
    server: pulumi.Input<string>;
    /** The cluster CA that signs now, with caKeyPem: the probe's certificate is minted from it. */
    caCertPem: pulumi.Input<string>;
    /** Secret. Signs the minutes-long probe certificate. */
    caKeyPem: pulumi.Input<string>;
    /**
     * Every cluster CA trusted now: verifies the apiserver. Nodes take a rotation's files at their next sync,
     * after the up, so an apiserver may still serve a leaf of the CA that signed before this phase.
     */
    trustPem: pulumi.Input<string>;
    timeoutSeconds?: number;
}

interface State {
    server: string;
    caCertPem: string;
    caKeyPem: string;
    trustPem: string;
    timeoutSeconds: number;
}

/** The helpers are methods, not module functions: Pulumi serialises the provider object with what it captures. */
interface ReadinessProvider extends pulumi.dynamic.ResourceProvider {
    wait(s: State): Promise<void>;
    probe(s: State): Promise<{ status: number; text: string }>;
}

const provider: ReadinessProvider = {
    async create(s: State) {
        await provider.wait(s);
        return { id: s.server, outs: s };
    },

    async diff(_id: string, olds: State, news: State) {
        // A new endpoint, signer or trust is a new control plane to wait for; a new timeout changes nothing live.
        const replaces = (["server", "caCertPem", "trustPem"] as const).filter((k) => olds[k] !== news[k]);
        return { changes: replaces.length > 0 || olds.caKeyPem !== news.caKeyPem || olds.timeoutSeconds !== news.timeoutSeconds, replaces };
    },

    async update(_id: string, _olds: State, news: State) {
        return { outs: news };
    },

    async wait(s: State): Promise<void> {
        const deadline = Date.now() + s.timeoutSeconds * 1000;
        let last = "no answer yet";
        for (;;) {
            try {
                const res = await provider.probe(s);
                if (res.status === 200) return;
                last = `HTTP ${res.status} ${res.text.slice(0, 200)}`;
            } catch (e) {
                last = (e as Error).message;
            }
            if (Date.now() > deadline) throw new Error(`${s.server}/readyz not ready after ${s.timeoutSeconds}s: ${last}`);
            await new Promise((r) => setTimeout(r, 10_000));
        }
    },

    probe(s: State): Promise<{ status: number; text: string }> {
        return mintedRequest({ server: s.server, caCertPem: s.caCertPem, caKeyPem: s.caKeyPem, trustPem: s.trustPem, commonName: READINESS_IDENTITY, groups: [], method: "GET", path: "/readyz", timeoutMs: 10_000 });
    },
};

/** Completes once the apiserver behind `server` answers /readyz with 200. */
export class ApiServerReady extends pulumi.dynamic.Resource {
    declare readonly server: pulumi.Output<string>;

    constructor(name: string, args: ApiServerReadyArgs, opts?: pulumi.CustomResourceOptions) {
        super(provider, name, {
            server: args.server,
            caCertPem: args.caCertPem,
            caKeyPem: pulumi.secret(args.caKeyPem),
            trustPem: args.trustPem,
            timeoutSeconds: args.timeoutSeconds ?? DEFAULT_READY_TIMEOUT_SECONDS,
        }, { ...opts, additionalSecretOutputs: ["caKeyPem"] }, "hardened-cluster", "ApiServerReady");
    }
}
