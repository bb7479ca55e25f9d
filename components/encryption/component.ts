// Pulumi wiring: one RandomBytes per local key, the rendered file as a secret. Everything else is in the
// pure modules next to this one.
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { toYaml } from "../common";
import { EncryptionOptions, RotationStage, resolveEncryption } from "./options";
import { KEY_BYTES, KeyMaterial, renderResolved } from "./render";

export interface EncryptionAtRestArgs {
    /** Plain values: they decide which resources exist, so they are checked before any is created. */
    options?: EncryptionOptions;
    /** Root of error key paths, e.g. the stack config key. Default "encryption". */
    configKey?: string;
    /** The socket of the KMS v2 plugin the platform runs: the endpoint of a kms key that names none. */
    platformKmsEndpoint?: string;
}

export class EncryptionAtRest extends pulumi.ComponentResource {
    /** The EncryptionConfiguration file; a secret, as it holds the keys. */
    readonly configYaml: pulumi.Output<string>;
    /** Keys in the file, writer first. Names only. */
    readonly keyNames: pulumi.Output<string[]>;
    readonly writeKey: pulumi.Output<string>;
    readonly stage: pulumi.Output<RotationStage>;

    constructor(name: string, args: EncryptionAtRestArgs = {}, opts?: pulumi.ComponentResourceOptions) {
        // Before super(): a bad option must not leave even the component registered.
        const resolved = resolveEncryption(args.options, args.configKey ?? "encryption", args.platformKmsEndpoint);
        super("hardened-cluster:encryption:EncryptionAtRest", name, {}, opts);

        // One resource per key name, so a stage change adds or drops one key and never regenerates another.
        // The old key of "retire" is kept (though no longer in the file) so rolling back to "promote" still
        // has its material; it is deleted when the next "steady" no longer lists it.
        const material: pulumi.Output<KeyMaterial>[] = resolved.keys
            .filter((k) => k.provider !== "kms")
            .map((k) => {
                const bytes = new random.RandomBytes(`${name}-${k.name}`, { length: KEY_BYTES }, { parent: this });
                return pulumi.secret(bytes.base64).apply((secret) => ({ name: k.name, secret }));
            });

        this.configYaml = pulumi.secret(pulumi.all(material).apply((keys) => toYaml(renderResolved(resolved, keys))));
        this.keyNames = pulumi.output(resolved.rendered.map((k) => k.name));
        this.writeKey = pulumi.output(resolved.rendered[0].name);
        this.stage = pulumi.output(resolved.stage);
        this.registerOutputs({
            configYaml: this.configYaml,
            keyNames: this.keyNames,
            writeKey: this.writeKey,
            stage: this.stage,
        });
    }
}
