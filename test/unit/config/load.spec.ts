// loadBlueprintConfig: what Pulumi hands the program -> a typed config, or a ConfigError naming the full key.
import { strict as assert } from "node:assert";
import { planStack } from "../../../platforms";
import { ConfigError, ConfigErrors } from "../../../components/common";
import { parseValue } from "../../../config";

const NS = "hardened-cluster";
const json = (v: unknown) => JSON.stringify(v);
const LOCAL = { [`${NS}:platform`]: "local" };
const AWS_OPTIONS = { clusterName: "hc-test", region: "eu-west-1" };
const AWS = { [`${NS}:platform`]: "aws", [`${NS}:aws`]: json(AWS_OPTIONS) };
const load = (all: Record<string, string>) => planStack(all, "test", { isRoot: false }).config;

function throwsAt(fn: () => unknown, key: string, message?: RegExp): void {
    assert.throws(fn, (e: unknown) => {
        assert.ok(e instanceof ConfigError, `expected a ConfigError, got ${e}`);
        assert.equal(e.key, key);
        if (message) assert.match(e.message, message);
        return true;
    });
}

const tenants = (second: Record<string, unknown>) => json({ tenants: [{ name: "team-a" }, { name: "team-b", ...second }] });

describe("config: loadBlueprintConfig", function () {
    it("reports every wrong key of a stack at once, each with its path", function () {
        const all = { ...LOCAL, [`${NS}:pkii`]: json({}), [`${NS}:baseline`]: tenants({ allowSameNamspace: true }), [`${NS}:audit`]: json({ preset: "loud" }) };
        assert.throws(() => load(all), (e: unknown) => {
            assert.ok(e instanceof ConfigErrors, `expected ConfigErrors, got ${e}`);
            assert.deepEqual(e.errors.map((x) => x.key).sort(), [`${NS}:audit.preset`, `${NS}:baseline.tenants[1].allowSameNamspace`, `${NS}:pkii`]);
            for (const x of e.errors) assert.ok(e.message.includes(x.message), x.message);
            return true;
        });
    });

    it("gives a kms key without an endpoint the platform's own plugin socket, on either platform", function () {
        const kms = { [`${NS}:encryption`]: json({ keys: [{ name: "kek", provider: "kms" }] }) };
        const local = planStack({ ...LOCAL, ...kms, [`${NS}:local`]: json({ layout: "user", stateDir: "/nonexistent/hc-load" }) }, "test", { isRoot: false });
        assert.equal(local.cluster.resolved.encryptionResolved.keys[0].endpoint, "unix:///nonexistent/hc-load/run/kms/kms.sock");
        // On AWS the key keeps the name every stored value carries (platforms/aws/README.md, Backups).
        const aws = planStack({ ...AWS, [`${NS}:encryption`]: json({ keys: [{ name: "aws-kms", provider: "kms" }] }) }, "test", { isRoot: false });
        assert.equal(aws.cluster.resolved.encryptionResolved.keys[0].endpoint, "unix:///var/run/kmsplugin/socket.sock");
    });

    it("defaults to the local platform and the pinned Kubernetes version when nothing is set", function () {
        assert.deepEqual(load({}), { platform: "local", kubernetesVersion: "v1.34.12" });
    });

    it("reads `{}` (the default Pulumi.yaml declares for object keys) as not set, even for the other platform's key", function () {
        const c = load({ ...LOCAL, [`${NS}:aws`]: "{}", [`${NS}:local`]: "{}", [`${NS}:baseline`]: "{}" });
        assert.deepEqual(c, { platform: "local", kubernetesVersion: "v1.34.12" });
    });

    it("returns the parsed objects and leaves other namespaces alone", function () {
        const c = load({ ...LOCAL, [`${NS}:baseline`]: json({ tenants: [{ name: "team-a" }] }), "kubernetes:context": "x", "aws:region": "us-east-1" });
        assert.equal(c.baseline?.tenants?.[0].name, "team-a");
        assert.equal(c.aws, undefined);
    });

    it("loads an AWS configuration whose provider region matches", function () {
        const c = load({ ...AWS, "aws:region": "eu-west-1" });
        assert.equal(c.platform, "aws");
        assert.deepEqual(c.aws, AWS_OPTIONS);
    });

    describe("refuses bad input, naming the full key", function () {
        const cases: { name: string; all: Record<string, string>; key: string; message?: RegExp }[] = [
            { name: "an unknown key that is a field of baseline", all: { ...LOCAL, [`${NS}:tenant`]: "[]" }, key: `${NS}:tenant`, message: /did you mean hardened-cluster:baseline\.tenants/ },
            { name: "a misspelt key", all: { [`${NS}:platfrom`]: "aws" }, key: `${NS}:platfrom`, message: /did you mean hardened-cluster:platform\?/ },
            { name: "a key in the wrong case", all: { [`${NS}:controlplane`]: "{}" }, key: `${NS}:controlplane`, message: /hardened-cluster:controlPlane/ },
            { name: "an unknown key with nothing close, listing the known keys", all: { [`${NS}:zzz`]: "x" }, key: `${NS}:zzz`, message: /Known keys: platform, kubernetesVersion, local, aws/ },
            { name: "an unknown platform", all: { [`${NS}:platform`]: "gcp" }, key: `${NS}:platform`, message: /local, aws/ },
            { name: "a Kubernetes version other than the pinned one", all: { [`${NS}:kubernetesVersion`]: "v1.35.0" }, key: `${NS}:kubernetesVersion`, message: /v1\.34\.12/ },
            { name: "an object key given a plain string", all: { [`${NS}:audit`]: "strict" }, key: `${NS}:audit`, message: /YAML mapping/ },
            { name: "an object key given a JSON list", all: { [`${NS}:baseline`]: "[1,2]" }, key: `${NS}:baseline`, message: /use an object/ },
            { name: "a weaker PSA level without a named exception, deep in tenants[1]", all: { ...LOCAL, [`${NS}:baseline`]: tenants({ podSecurity: { enforce: "baseline" } }) }, key: `${NS}:baseline.tenants[1].podSecurity.exception` },
            { name: "a reserved namespace name in tenants[1]", all: { ...LOCAL, [`${NS}:baseline`]: tenants({ name: "kube-tools" }) }, key: `${NS}:baseline.tenants[1].name`, message: /reserved/ },
            { name: "an unknown field in tenants[1]", all: { ...LOCAL, [`${NS}:baseline`]: tenants({ allowDNS: true }) }, key: `${NS}:baseline.tenants[1].allowDNS`, message: /known keys/ },
            { name: "aws options on the local platform", all: { ...LOCAL, [`${NS}:aws`]: json(AWS_OPTIONS) }, key: `${NS}:aws`, message: /only the aws platform reads this/ },
            { name: "local options on the aws platform", all: { ...AWS, [`${NS}:local`]: json({ layout: "user" }) }, key: `${NS}:local`, message: /only the local platform reads this/ },
            { name: "the aws platform without aws options", all: { [`${NS}:platform`]: "aws" }, key: `${NS}:aws`, message: /clusterName and region/ },
            { name: "an aws region other than the provider's", all: { ...AWS, "aws:region": "us-east-1" }, key: `${NS}:aws.region`, message: /aws:region "us-east-1"/ },
            { name: "a single etcd member in prod", all: { [`${NS}:platform`]: "aws", [`${NS}:aws`]: json({ ...AWS_OPTIONS, controlPlane: { etcdMembers: 1 } }) }, key: `${NS}:aws.controlPlane.etcdMembers` },
            { name: "a PKI field the platform owns", all: { ...LOCAL, [`${NS}:pki`]: json({ serviceCidr: "10.0.0.0/16" }) }, key: `${NS}:pki.serviceCidr`, message: /controlPlane\.network\.serviceCidr/ },
            { name: "an unknown PKI field, listing only settable ones", all: { ...LOCAL, [`${NS}:pki`]: json({ algo: "RSA-2048" }) }, key: `${NS}:pki.algo`, message: /known keys: algorithm,(?!.*serviceCidr)/ },
            { name: "a PKI cluster domain the control plane does not serve", all: { ...LOCAL, [`${NS}:pki`]: json({ clusterDomain: "corp.local" }) }, key: `${NS}:pki.clusterDomain`, message: /serves "cluster\.local"/ },
            { name: "audit settings under controlPlane", all: { ...LOCAL, [`${NS}:controlPlane`]: json({ audit: { preset: "strict" } }) }, key: `${NS}:controlPlane.audit`, message: /hardened-cluster:audit/ },
            { name: "a port under controlPlane.network", all: { ...LOCAL, [`${NS}:controlPlane`]: json({ network: { apiServerPort: 7443 } }) }, key: `${NS}:controlPlane.network.apiServerPort`, message: /local\.ports/ },
            { name: "a non-boolean weakening switch", all: { ...LOCAL, [`${NS}:controlPlane`]: json({ weakenings: { anonymousAuth: "yes" } }) }, key: `${NS}:controlPlane.weakenings.anonymousAuth` },
            { name: "audit retention below the CIS minimum", all: { ...LOCAL, [`${NS}:audit`]: json({ maxAge: 7 }) }, key: `${NS}:audit.maxAge`, message: /CIS minimum/ },
            { name: "the identity encryption provider", all: { ...LOCAL, [`${NS}:encryption`]: json({ provider: "identity" }) }, key: `${NS}:encryption.provider` },
            { name: "two local ports on the same number", all: { ...LOCAL, [`${NS}:local`]: json({ ports: { apiServer: 2379 } }) }, key: `${NS}:local.ports.etcdClient`, message: /must differ/ },
            { name: "the system layout without root", all: { ...LOCAL, [`${NS}:local`]: json({ layout: "system" }) }, key: `${NS}:local.layout`, message: /needs root/ },
        ];
        for (const c of cases) it(c.name, () => throwsAt(() => load(c.all), c.key, c.message));
    });

    it("never echoes the value of an unknown key (it may be a decrypted secret)", function () {
        assert.throws(() => load({ [`${NS}:dbPassword`]: "hunter2-secret" }), (e: unknown) => {
            assert.ok(e instanceof ConfigError);
            assert.doesNotMatch(e.message, /hunter2/);
            return true;
        });
    });

    it("runs the local platform's plan over all keys together, catching what no single key shows", function () {
        // resolveLocal accepts any absolute stateDir; the control-plane flags built from it cannot hold whitespace.
        assert.throws(() => load({ ...LOCAL, [`${NS}:local`]: json({ layout: "user", stateDir: "/tmp/my state" }) }), (e: unknown) => {
            assert.ok(e instanceof ConfigError);
            assert.match(e.key, /^hardened-cluster:/);
            assert.match(e.message, /\/tmp\/my state/);
            return true;
        });
    });
});

describe("config: parseValue", function () {
    it("parses integers and booleans from Pulumi's string form and refuses anything else", function () {
        assert.equal(parseValue("ns:n", "42", { type: "integer" }), 42);
        assert.equal(parseValue("ns:b", "false", { type: "boolean" }), false);
        throwsAt(() => parseValue("ns:n", "4.5", { type: "integer" }), "ns:n", /whole number/);
        throwsAt(() => parseValue("ns:b", "yes", { type: "boolean" }), "ns:b", /true or false/);
        throwsAt(() => parseValue("ns:l", "{}", { type: "array" }), "ns:l", /use a list/);
    });
});
