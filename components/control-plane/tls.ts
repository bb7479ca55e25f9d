// One TLS policy for every listener. The cipher list is the intersection of what CIS accepts for the
// kubelet (4.2.12, the narrowest list) and for the API server (1.2.29), spelled the way the Kubernetes
// binaries and etcd both parse: the ChaCha20 suites use the legacy names without "_SHA256", which are the
// only spelling kube-bench's kubelet list knows.
import { fail, isPlainObject, key, knownKeys, oneOf } from "../common";
import { TLS_VERSIONS, TlsOptions, TlsVersion } from "./options";

/** Suites every component accepts and CIS 1.2.29 and 4.2.12 both allow. All are ECDHE + AEAD. */
export const STRONG_CIPHER_SUITES = [
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305",
    "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305",
] as const;

/**
 * What CIS 1.2.29 accepts on the control-plane binaries: the strong suites plus the TLS 1.3 names and the
 * "_SHA256" ChaCha20 spellings. Used only to judge extraArgs, never rendered by default.
 */
export const CONTROL_PLANE_ACCEPTED_SUITES: readonly string[] = [
    ...STRONG_CIPHER_SUITES,
    "TLS_AES_128_GCM_SHA256",
    "TLS_AES_256_GCM_SHA384",
    "TLS_CHACHA20_POLY1305_SHA256",
    "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
    "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
];

export interface ResolvedTls {
    minVersion: TlsVersion;
    cipherSuites: string[];
}

export function resolveTls(options: TlsOptions | undefined, k: string): ResolvedTls {
    if (options !== undefined && !isPlainObject(options)) fail(k, options, "use an object with minVersion and/or cipherSuites");
    knownKeys(k, options, ["minVersion", "cipherSuites"]);
    const minVersion = options?.minVersion === undefined ? "VersionTLS12" : oneOf(key(k, "minVersion"), options.minVersion, TLS_VERSIONS);
    let cipherSuites: string[] = [...STRONG_CIPHER_SUITES];
    if (options?.cipherSuites !== undefined) {
        const ck = key(k, "cipherSuites");
        if (!Array.isArray(options.cipherSuites) || options.cipherSuites.length === 0) {
            fail(ck, options.cipherSuites, `use a non-empty list drawn from: ${STRONG_CIPHER_SUITES.join(", ")}`);
        }
        const seen = new Set<string>();
        options.cipherSuites.forEach((s, i) => {
            oneOf(key(ck, i), s, STRONG_CIPHER_SUITES);
            if (seen.has(s)) fail(key(ck, i), s, "list each suite once");
            seen.add(s);
        });
        cipherSuites = [...options.cipherSuites];
    }
    return { minVersion, cipherSuites };
}

/** etcd spells versions its own way. */
export function etcdTlsVersion(v: TlsVersion): string {
    return v === "VersionTLS13" ? "TLS1.3" : "TLS1.2";
}

/** The flags every Kubernetes binary shares for its serving endpoint. */
export function kubeTlsFlags(tls: ResolvedTls): Record<string, string> {
    return { "tls-min-version": tls.minVersion, "tls-cipher-suites": tls.cipherSuites.join(",") };
}

/** etcd refuses cipher suites when only TLS 1.3 is allowed (Go cannot restrict 1.3 suites). */
export function etcdTlsFlags(tls: ResolvedTls): Record<string, string> {
    const flags: Record<string, string> = { "tls-min-version": etcdTlsVersion(tls.minVersion) };
    if (tls.minVersion !== "VersionTLS13") flags["cipher-suites"] = tls.cipherSuites.join(",");
    return flags;
}
