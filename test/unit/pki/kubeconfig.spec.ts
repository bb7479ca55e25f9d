import { strict as assert } from "node:assert";
import { parse } from "yaml";
import { kubeconfigTable, kubeconfigYaml, renderKubeconfig } from "../../../components/pki";
import { baseOptions } from "./fixtures";

const input = {
    clusterName: "kubernetes",
    server: "https://127.0.0.1:6443",
    caPem: "-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n",
    userName: "system:kube-scheduler",
    clientCertPem: "-----BEGIN CERTIFICATE-----\nLEAF\n-----END CERTIFICATE-----\n",
    clientKeyPem: "-----BEGIN EC PRIVATE KEY-----\nKEY\n-----END EC PRIVATE KEY-----\n",
};
const unb64 = (s: string) => Buffer.from(s, "base64").toString("utf8");

describe("pki kubeconfig rendering", () => {
    it("round-trips through YAML with clientcmd v1 field names and base64 PEM data", () => {
        const doc = parse(kubeconfigYaml(input));
        assert.equal(doc.apiVersion, "v1");
        assert.equal(doc.kind, "Config");
        assert.deepEqual(Object.keys(doc).sort(), ["apiVersion", "clusters", "contexts", "current-context", "kind", "preferences", "users"]);
        assert.equal(doc.clusters.length, 1);
        assert.equal(doc.clusters[0].name, "kubernetes");
        assert.equal(doc.clusters[0].cluster.server, "https://127.0.0.1:6443");
        assert.equal(unb64(doc.clusters[0].cluster["certificate-authority-data"]), input.caPem);
        assert.equal(doc.users[0].name, "system:kube-scheduler");
        assert.equal(unb64(doc.users[0].user["client-certificate-data"]), input.clientCertPem);
        assert.equal(unb64(doc.users[0].user["client-key-data"]), input.clientKeyPem);
        assert.equal(doc["current-context"], "system:kube-scheduler@kubernetes");
        assert.deepEqual(doc.contexts, [{ name: "system:kube-scheduler@kubernetes", context: { cluster: "kubernetes", user: "system:kube-scheduler" } }]);
    });

    it("renders the same object the YAML carries", () => {
        assert.deepEqual(parse(kubeconfigYaml(input)), renderKubeconfig(input));
    });

    it("keeps base64 data on one line (no PEM line breaks leak into the YAML)", () => {
        const yaml = kubeconfigYaml(input);
        const line = yaml.split("\n").find((l) => l.includes("client-key-data:"));
        assert.ok(line && /client-key-data: [A-Za-z0-9+/=]+$/.test(line), line);
    });
});

describe("pki kubeconfig table", () => {
    it("gives admins and users the external URL, the control-plane components the local one and kubelets theirs", () => {
        const specs = kubeconfigTable(baseOptions());
        const summary = Object.fromEntries(specs.map((s) => [s.name, [s.cert, s.server, s.file ?? null]]));
        assert.deepEqual(summary, {
            admin: ["admin", "external", "admin"],
            "controller-manager": ["controller-manager", "local", "controllerManager"],
            scheduler: ["scheduler", "local", "scheduler"],
            "kubelet-cp-1": ["kubelet-client-cp-1", "kubelet", "kubelet"],
            "kubelet-cp-2": ["kubelet-client-cp-2", "kubelet", "kubelet"],
            "kubelet-worker-1": ["kubelet-client-worker-1", "kubelet", "kubelet"],
            "user-alice": ["user-alice", "external", null],
            "user-bob": ["user-bob", "external", null],
        });
    });

    it("adds super-admin.conf only with breakGlass", () => {
        const spec = kubeconfigTable({ ...baseOptions(), breakGlass: true }).find((s) => s.name === "super-admin");
        assert.deepEqual(spec, { name: "super-admin", cert: "super-admin", server: "external", file: "superAdmin" });
    });
});
