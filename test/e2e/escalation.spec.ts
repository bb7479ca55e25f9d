// Every escalation route of the security review, tried for real against a running control plane: the
// blueprint's own program brings up the local stack with a tenant, then each persona (a client certificate
// minted for the persona's group, exactly what an identity provider would hand out) tries each route. Every
// refusal is paired with a legitimate request of the same persona that succeeds, so no refusal is an
// accident of a missing binding. No kubelet runs here, so created Pods stay Pending: creation is the test.
import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as https from "node:https";
import * as os from "node:os";
import * as path from "node:path";
import { mintClientCert } from "../../components/pki";
import { pkiPair } from "../../components/common";
import { ResolvedLocal, resolveLocal } from "../../platforms/local/options";
import { Credential, fromKubeconfig, request, Response, restrictedPod } from "./kube";
import { listening } from "./processes";
import { e2eLocal, ProgramStack, programStack, toolchain } from "./harness";
import { E2E_PORTS } from "./ports";

const ports = E2E_PORTS.escalation;
const system = process.getuid?.() === 0;
const BINARIES = ["pulumi-resource-pulumi-nodejs", "pulumi-resource-tls", "pulumi-resource-random", "pulumi-resource-kubernetes",
    "etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler"];
const IMAGE = "registry.k8s.io/pause:3.10";
const TENANT = "team-a";

/** The personas under test and the group each is bound through. */
const GROUPS = {
    "platform-admin": "e2e:platform",
    "namespace-admin": "e2e:ns-admins",
    developer: "e2e:devs",
    "ci-deployer": "e2e:ci",
} as const;
type PersonaName = keyof typeof GROUPS;
const PERSONAS = Object.keys(GROUPS) as PersonaName[];

const BASELINE = {
    tenants: [{
        name: TENANT,
        roleBindings: {
            "namespace-admin": [{ kind: "Group", name: GROUPS["namespace-admin"] }],
            developer: [{ kind: "Group", name: GROUPS.developer }],
            "ci-deployer": [{ kind: "Group", name: GROUPS["ci-deployer"] }],
        },
    }],
    rbac: { clusterBindings: { "platform-admin": [{ kind: "Group", name: GROUPS["platform-admin"] }] } },
    admission: { workloadSecrets: { [TENANT]: ["app-config"] } },
};

/** Refused by RBAC (403) or by admission (403 from a ValidatingAdmissionPolicy, 422 from validation). */
function refused(res: Response, what: string): void {
    assert.ok(res.status === 403 || res.status === 422, `${what}: expected a refusal, got ${res.status} ${res.body}`);
}

function ok(res: Response, what: string, status = [200, 201]): void {
    assert.ok(status.includes(res.status), `${what}: expected ${status.join("/")}, got ${res.status} ${res.body}`);
}

function csrPem(cn: string, org: string): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hc-e2e-csr-"));
    try {
        execFileSync("openssl", ["req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", path.join(dir, "k.pem"), "-out", path.join(dir, "r.pem"), "-subj", `/CN=${cn}/O=${org}`], { stdio: "ignore" });
        return fs.readFileSync(path.join(dir, "r.pem"), "utf8");
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

describe("escalation routes (real control plane, every persona)", function () {
    this.timeout(20 * 60_000);
    let ps: ProgramStack;
    let plan: { local: ResolvedLocal };
    let admin: Credential;
    let stateDir: string | undefined;
    const as: Partial<Record<PersonaName, Credential>> = {};
    const who = (p: PersonaName): Credential => as[p]!;

    before(async function () {
        toolchain(...BINARIES);
        const e2e = e2eLocal("escalation", ports, system);
        stateDir = e2e.stateDir;
        const local = e2e.local;
        ps = await programStack({
            name: "escalation",
            blueprint: true,
            binaries: BINARIES,
            config: {
                "hardened-cluster:local": { value: JSON.stringify(local) },
                "hardened-cluster:baseline": { value: JSON.stringify(BASELINE) },
            },
        });
        plan = { local: resolveLocal(local as never, ps.stackName, "local", system) };
        const res = await ps.stack.up({ onOutput: (o) => process.env.HC_E2E_VERBOSE && process.stdout.write(o) });
        assert.equal(res.summary.result, "succeeded");
        admin = fromKubeconfig(res.outputs.kubeconfig.value);
        const ca = pkiPair(plan.local.layout, "ca");
        const [caCert, caKey] = [fs.readFileSync(ca.cert, "utf8"), fs.readFileSync(ca.key, "utf8")];
        for (const p of PERSONAS) {
            const minted = mintClientCert(caCert, caKey, `e2e-${p}`, [GROUPS[p]], 60);
            as[p] = { ...admin, certPem: minted.certPem, keyPem: minted.keyPem };
        }
        // What the attacks aim at: a Secret outside the allow-list, one inside it, a CSR to approve.
        for (const name of ["db-root", "app-config"]) {
            ok(await request(admin, "POST", `/api/v1/namespaces/${TENANT}/secrets`, {
                apiVersion: "v1", kind: "Secret", metadata: { name }, stringData: { v: name },
            }), `admin creates ${name}`, [201]);
        }
    });
    after(async function () {
        await ps?.cleanup();
        if (stateDir) fs.rmSync(stateDir, { recursive: true, force: true });
    });

    it("every persona can do its own job (the control for every refusal below)", async function () {
        ok(await request(who("platform-admin"), "GET", "/api/v1/namespaces"), "platform-admin lists namespaces");
        ok(await request(who("platform-admin"), "POST", `/api/v1/namespaces/${TENANT}/pods`, restrictedPod("by-platform", IMAGE)), "platform-admin runs a pod in a tenant");
        ok(await request(who("namespace-admin"), "GET", `/api/v1/namespaces/${TENANT}/secrets/db-root`), "namespace-admin reads its Secrets");
        ok(await request(who("developer"), "POST", `/api/v1/namespaces/${TENANT}/pods`, restrictedPod("by-dev", IMAGE, {}, {
            volumes: [{ name: "cfg", secret: { secretName: "app-config" } }],
        })), "developer runs a pod mounting the allow-listed Secret");
        ok(await request(who("ci-deployer"), "POST", `/apis/apps/v1/namespaces/${TENANT}/deployments`, {
            apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "by-ci" },
            spec: { selector: { matchLabels: { app: "ci" } }, template: { metadata: { labels: { app: "ci" } }, spec: restrictedPod("x", IMAGE).spec } },
        }), "ci-deployer creates a Deployment");
    });

    it("no persona can create a token Secret for clusterrole-aggregation-controller in kube-system", async function () {
        const body = {
            apiVersion: "v1", kind: "Secret", type: "kubernetes.io/service-account-token",
            metadata: { name: "steal", annotations: { "kubernetes.io/service-account.name": "clusterrole-aggregation-controller" } },
        };
        let n = 0;
        for (const p of PERSONAS) {
            refused(await request(who(p), "POST", "/api/v1/namespaces/kube-system/secrets", body), `${p} token Secret in kube-system`);
            refused(await request(who(p), "POST", `/api/v1/namespaces/${TENANT}/secrets`, {
                ...body, metadata: { name: "steal", annotations: { "kubernetes.io/service-account.name": "default" } },
            }), `${p} token Secret in ${TENANT}`);
            n++;
        }
        assert.equal(n, PERSONAS.length);
        // And the one identity that may create one gets no token in it: the legacy token controller is off.
        ok(await request(admin, "POST", `/api/v1/namespaces/${TENANT}/secrets`, {
            ...body, metadata: { name: "legacy", annotations: { "kubernetes.io/service-account.name": "default" } },
        }), "break-glass creates a token Secret", [201]);
        await new Promise((r) => setTimeout(r, 5000));
        const legacy = (await request(admin, "GET", `/api/v1/namespaces/${TENANT}/secrets/legacy`)).json();
        assert.equal(legacy.data?.token, undefined, "the legacy token controller filled the Secret");
    });

    it("no persona can create a pod in kube-system", async function () {
        for (const p of PERSONAS) refused(await request(who(p), "POST", "/api/v1/namespaces/kube-system/pods", restrictedPod(`in-kube-system-${p}`, IMAGE)), p);
    });

    it("no persona can relabel the tenant's Pod Security level", async function () {
        for (const p of PERSONAS) {
            const res = await fetchPatch(who(p), `/api/v1/namespaces/${TENANT}`, { metadata: { labels: { "pod-security.kubernetes.io/enforce": "privileged" } } });
            refused(res, p);
        }
        const ns = (await request(admin, "GET", `/api/v1/namespaces/${TENANT}`)).json();
        assert.equal(ns.metadata.labels["pod-security.kubernetes.io/enforce"], "restricted");
    });

    it("no persona can create a hostPath PersistentVolume", async function () {
        for (const p of PERSONAS) {
            refused(await request(who(p), "POST", "/api/v1/persistentvolumes", {
                apiVersion: "v1", kind: "PersistentVolume", metadata: { name: `root-${p}` },
                spec: { capacity: { storage: "1Gi" }, accessModes: ["ReadWriteOnce"], hostPath: { path: "/" } },
            }), p);
        }
    });

    it("no persona can request, or approve, a certificate for O=kubeadm:cluster-admins", async function () {
        const csr = (name: string) => ({
            apiVersion: "certificates.k8s.io/v1", kind: "CertificateSigningRequest", metadata: { name },
            spec: { request: Buffer.from(csrPem(name, "kubeadm:cluster-admins")).toString("base64"), signerName: "kubernetes.io/kube-apiserver-client", usages: ["client auth"] },
        });
        for (const p of PERSONAS) refused(await request(who(p), "POST", "/apis/certificates.k8s.io/v1/certificatesigningrequests", csr(`mine-${p}`)), `${p} creates`);
        // The approval step on its own: the CSR exists (created by the admin), the persona approves it.
        ok(await request(admin, "POST", "/apis/certificates.k8s.io/v1/certificatesigningrequests", csr("pending-admin")), "admin creates a CSR", [201]);
        const pending = (await request(admin, "GET", "/apis/certificates.k8s.io/v1/certificatesigningrequests/pending-admin")).json();
        for (const p of PERSONAS) {
            const approved = { ...pending, status: { conditions: [{ type: "Approved", status: "True", reason: "e2e", message: p }] } };
            refused(await request(who(p), "PUT", "/apis/certificates.k8s.io/v1/certificatesigningrequests/pending-admin/approval", approved), `${p} approves`);
        }
        const after = (await request(admin, "GET", "/apis/certificates.k8s.io/v1/certificatesigningrequests/pending-admin")).json();
        assert.equal(after.status?.certificate, undefined, "a certificate was issued");
    });

    it("no persona can read a non-allow-listed Secret through a pod, or run as another ServiceAccount", async function () {
        const ways: Record<string, Record<string, unknown>> = {
            volume: { volumes: [{ name: "s", secret: { secretName: "db-root" } }] },
            projected: { volumes: [{ name: "s", projected: { sources: [{ secret: { name: "db-root" } }] } }] },
        };
        for (const p of PERSONAS) {
            for (const [way, spec] of Object.entries(ways)) {
                refused(await request(who(p), "POST", `/api/v1/namespaces/${TENANT}/pods`, restrictedPod(`read-${p}-${way}`, IMAGE, {}, spec)), `${p} ${way}`);
            }
            refused(await request(who(p), "POST", `/api/v1/namespaces/${TENANT}/pods`, restrictedPod(`env-${p}`, IMAGE, {
                env: [{ name: "P", valueFrom: { secretKeyRef: { name: "db-root", key: "v" } } }],
            })), `${p} env`);
            refused(await request(who(p), "POST", `/api/v1/namespaces/${TENANT}/pods`, restrictedPod(`sa-${p}`, IMAGE, {}, { serviceAccountName: "builder" })), `${p} serviceAccountName`);
        }
        for (const p of ["developer", "ci-deployer"] as const) refused(await request(who(p), "GET", `/api/v1/namespaces/${TENANT}/secrets/db-root`), `${p} reads directly`);
    });

    it("the tenant's namespace-admin cannot delete or change its default-deny policy, but manages its own", async function () {
        const deny = `/apis/networking.k8s.io/v1/namespaces/${TENANT}/networkpolicies/hardened-deny-all`;
        refused(await request(who("namespace-admin"), "DELETE", deny), "delete");
        refused(await fetchPatch(who("namespace-admin"), deny, { spec: { policyTypes: ["Ingress"] } }), "patch");
        ok(await request(admin, "GET", deny), "still there");
        const own = `/apis/networking.k8s.io/v1/namespaces/${TENANT}/networkpolicies`;
        ok(await request(who("namespace-admin"), "POST", own, {
            apiVersion: "networking.k8s.io/v1", kind: "NetworkPolicy", metadata: { name: "allow-web" },
            spec: { podSelector: { matchLabels: { app: "web" } }, policyTypes: ["Ingress"], ingress: [{ ports: [{ port: 8080 }] }] },
        }), "creates its own", [201]);
        ok(await request(who("namespace-admin"), "DELETE", `${own}/allow-web`), "deletes its own");
    });

    it("the built-in default namespace has the default deny too", async function () {
        ok(await request(admin, "GET", "/apis/networking.k8s.io/v1/namespaces/default/networkpolicies/hardened-deny-all"), "default deny in default");
    });

    it("destroy frees every port", async function () {
        await ps.stack.destroy();
        for (const p of Object.values(ports)) assert.equal(await listening(p), false, `port ${p} still listening`);
    });
});

/** A merge patch (request() sends application/json, which PATCH does not accept). */
function fetchPatch(cred: Credential, p: string, body: unknown): Promise<Response> {
    return new Promise((resolve, reject) => {
        const req = https.request(new URL(p, cred.server), {
            method: "PATCH", ca: cred.caPem, cert: cred.certPem, key: cred.keyPem, timeout: 20_000,
            headers: { "Content-Type": "application/merge-patch+json", Accept: "application/json" },
        }, (res) => {
            let text = "";
            res.on("data", (d) => (text += d));
            res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text, json: () => JSON.parse(text) }));
        });
        req.on("error", reject);
        req.write(JSON.stringify(body));
        req.end();
    });
}
