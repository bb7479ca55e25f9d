// OIDC through the structured AuthenticationConfiguration (apiserver.config.k8s.io/v1, GA in v1.34), never
// the legacy --oidc-* flags: it takes several issuers and is reloaded without a restart. The checks below are
// the ones kube-apiserver applies at start, moved earlier so a typo fails the preview, not the boot.
// Anonymous access stays on the --anonymous-auth flag (CIS 1.2.1 reads it); the API server refuses the
// flag and the file's `anonymous` field together, so the file never carries one.
import { fail, isPlainObject, key, knownKeys } from "../common";
import { httpsUrl } from "./network";
import { AuthenticationOptions, ClaimMapping, JwtIssuerOptions } from "./options";

export interface ResolvedJwtIssuer {
    url: string;
    discoveryURL?: string;
    audiences: string[];
    certificateAuthority?: string;
    username: ClaimMapping;
    groups: ClaimMapping;
}

export const DEFAULT_USERNAME_MAPPING: ClaimMapping = { claim: "sub", prefix: "oidc:" };
export const DEFAULT_GROUPS_MAPPING: ClaimMapping = { claim: "groups", prefix: "oidc:" };

export function resolveAuthentication(options: AuthenticationOptions | undefined, serviceAccountIssuer: string, k: string): ResolvedJwtIssuer[] {
    knownKeys(k, options, ["jwt"]);
    if (options?.jwt === undefined) return [];
    const jk = key(k, "jwt");
    if (!Array.isArray(options.jwt)) fail(jk, options.jwt, "use a list of issuers { url, audiences, claimMappings? }");
    const urls = new Set<string>();
    return options.jwt.map((j, i) => {
        const ik = key(jk, i);
        const out = issuer(j, ik);
        // Tokens minted by the cluster itself are verified by the service-account authenticator; letting an
        // external issuer claim the same iss would make the two indistinguishable.
        if (out.url === serviceAccountIssuer) fail(key(ik, "url"), out.url, `use an issuer other than the service-account issuer (network.serviceAccountIssuer)`);
        if (urls.has(out.url)) fail(key(ik, "url"), out.url, "list each issuer once");
        urls.add(out.url);
        return out;
    });
}

function issuer(j: JwtIssuerOptions, k: string): ResolvedJwtIssuer {
    if (!isPlainObject(j)) fail(k, j, "use { url, audiences, claimMappings? }");
    knownKeys(k, j, ["url", "discoveryURL", "audiences", "certificateAuthority", "claimMappings"]);
    const url = httpsUrl(key(k, "url"), j.url);
    const out: ResolvedJwtIssuer = {
        url,
        audiences: audiences(key(k, "audiences"), j.audiences),
        username: mapping(key(k, "claimMappings", "username"), j.claimMappings?.username, DEFAULT_USERNAME_MAPPING),
        groups: mapping(key(k, "claimMappings", "groups"), j.claimMappings?.groups, DEFAULT_GROUPS_MAPPING),
    };
    knownKeys(key(k, "claimMappings"), j.claimMappings, ["username", "groups"]);
    if (j.discoveryURL !== undefined) {
        out.discoveryURL = httpsUrl(key(k, "discoveryURL"), j.discoveryURL);
        if (out.discoveryURL === url) fail(key(k, "discoveryURL"), j.discoveryURL, "leave discoveryURL out when it equals url");
    }
    if (j.certificateAuthority !== undefined) {
        if (typeof j.certificateAuthority !== "string" || !j.certificateAuthority.trim().startsWith("-----BEGIN CERTIFICATE-----")) {
            fail(key(k, "certificateAuthority"), j.certificateAuthority, "use PEM certificate text (-----BEGIN CERTIFICATE-----)");
        }
        out.certificateAuthority = j.certificateAuthority;
    }
    return out;
}

function audiences(k: string, value: unknown): string[] {
    if (!Array.isArray(value) || value.length === 0) fail(k, value, "list at least one audience (the client ID tokens are issued for)");
    const seen = new Set<string>();
    value.forEach((a, i) => {
        if (typeof a !== "string" || a.trim() === "") fail(key(k, i), a, "use a non-empty audience string");
        if (seen.has(a)) fail(key(k, i), a, "list each audience once");
        seen.add(a);
    });
    return [...value];
}

function mapping(k: string, value: ClaimMapping | undefined, fallback: ClaimMapping): ClaimMapping {
    if (value === undefined) return { ...fallback };
    if (!isPlainObject(value)) fail(k, value, "use { claim, prefix }");
    knownKeys(k, value, ["claim", "prefix"]);
    if (typeof value.claim !== "string" || value.claim.trim() === "") fail(key(k, "claim"), value.claim, "name the token claim to read, e.g. sub");
    // Upstream requires an explicit prefix with a claim, so "no prefix" is always a visible decision.
    if (typeof value.prefix !== "string") fail(key(k, "prefix"), value.prefix, 'set a prefix such as "oidc:" ("" disables prefixing and is reported as a weakening)');
    return { claim: value.claim, prefix: value.prefix };
}

/** apiserver.config.k8s.io/v1 AuthenticationConfiguration. */
export function renderAuthenticationConfiguration(issuers: readonly ResolvedJwtIssuer[]) {
    return {
        apiVersion: "apiserver.config.k8s.io/v1",
        kind: "AuthenticationConfiguration",
        jwt: issuers.map((j) => {
            const iss: Record<string, unknown> = { url: j.url };
            if (j.discoveryURL !== undefined) iss.discoveryURL = j.discoveryURL;
            iss.audiences = [...j.audiences];
            // Upstream insists on MatchAny once there are several audiences; for one it is optional.
            if (j.audiences.length > 1) iss.audienceMatchPolicy = "MatchAny";
            if (j.certificateAuthority !== undefined) iss.certificateAuthority = j.certificateAuthority;
            return {
                issuer: iss,
                claimMappings: {
                    username: { claim: j.username.claim, prefix: j.username.prefix },
                    groups: { claim: j.groups.claim, prefix: j.groups.prefix },
                },
            };
        }),
    };
}
