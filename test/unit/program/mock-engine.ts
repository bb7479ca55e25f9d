// What the mock-monitor runners (run-stack.ts, urns-run.ts) share: the outputs a provider would compute that
// the programs read, how an export is awaited, and how to tell that registrations have stopped arriving.
import * as pulumi from "@pulumi/pulumi";

const OUTPUT_TIMEOUT_MS = 30_000;
const SETTLE_QUIET_TICKS = 10;

/** How the runtime marks a secret value inside the inputs a mock receives. */
const SECRET_SIG = "4dabf18193072939515e22adb298388d";

/** A mock input's plain value: secrets arrive wrapped as { [SECRET_SIG]: ..., value }. */
export function unwrapSecret<T = any>(v: unknown): T {
    return (v && typeof v === "object" && SECRET_SIG in v ? (v as unknown as { value: T }).value : v) as T;
}

/** A deterministic lower-case alphanumeric string (bootstrap tokens must match [a-z0-9]). */
export function fakeString(seed: string, length: number): string {
    let s = "";
    for (let i = 0; s.length < length; i++) s += ((seed.charCodeAt(i % seed.length) * (i + 7)) % 36).toString(36);
    return s.slice(0, length);
}

export function fakePem(label: string, seed: string): string {
    return `-----BEGIN ${label}-----\n${Buffer.from(seed).toString("base64")}\n-----END ${label}-----\n`;
}

/** The TLS, random and generated-name outputs a program reads; everything else a mock echoes from the inputs. */
export function computedTlsAndRandom(type: string, name: string, inputs: Record<string, any>): Record<string, unknown> {
    switch (type) {
        case "random:index/randomString:RandomString": return { result: fakeString(name, inputs.length) };
        case "random:index/randomBytes:RandomBytes": {
            const bytes = Buffer.from(fakeString(name, inputs.length));
            return { base64: bytes.toString("base64"), hex: bytes.toString("hex") };
        }
        case "tls:index/privateKey:PrivateKey": return { privateKeyPem: fakePem("PRIVATE KEY", name), publicKeyPem: fakePem("PUBLIC KEY", name) };
        case "tls:index/selfSignedCert:SelfSignedCert":
        case "tls:index/locallySignedCert:LocallySignedCert": return { certPem: fakePem("CERTIFICATE", name) };
        case "tls:index/certRequest:CertRequest": return { certRequestPem: fakePem("CERTIFICATE REQUEST", name) };
        // AWS names a bucket from its bucketPrefix and a generated suffix.
        case "aws:s3/bucket:Bucket": return inputs.bucketPrefix ? { bucket: `${inputs.bucketPrefix}20261203abcdef` } : {};
        default: return {};
    }
}

/** Resolves an export (possibly secret, possibly nested Outputs) to a plain value, or fails after a while. */
export function resolveExport(value: unknown): Promise<unknown> {
    return new Promise((ok, fail) => {
        const timer = setTimeout(() => fail(new Error(`not resolved after ${OUTPUT_TIMEOUT_MS} ms`)), OUTPUT_TIMEOUT_MS);
        (pulumi.output(value as pulumi.Input<unknown>) as pulumi.Output<unknown>).apply((v) => {
            clearTimeout(timer);
            ok(v);
            return v;
        });
    });
}

/** Waits until no registration has arrived for a while: resources made inside applies register late. */
export async function settle(registered: () => number): Promise<void> {
    let quiet = 0;
    let last = -1;
    while (quiet < SETTLE_QUIET_TICKS) {
        await new Promise((r) => setTimeout(r, 20));
        quiet = registered() === last ? quiet + 1 : 0;
        last = registered();
    }
}
