// Service-account signing key rotation on the local ha topology, as an operator runs it: publish a second key,
// make it the signer, drop the old one. A token minted before the rotation is used through the balancer five
// times a second across every step and must never fail until its key is dropped; then it gets 401 from every
// apiserver. The two orders that would break tokens are refused by the preview: a signer no apiserver verifies
// yet, and dropping a key before its tokens can have expired (the error names when it becomes allowed).
import { strict as assert } from "node:assert";
import { HaStack, haStack } from "./ha-stack";
import type { ProgramStack } from "./harness";
import { ProbeLoop } from "./ha-probe";
import { Credential, fromKubeconfig, request } from "./kube";
import { E2E_PORTS } from "./ports";
import { allProcesses, timingLog } from "./processes";
import { editState } from "./renewal";

const ports = E2E_PORTS.serviceAccountRotation;
const BINARIES = ["pulumi-resource-pulumi-nodejs", "pulumi-resource-tls", "pulumi-resource-random", "pulumi-resource-kubernetes",
    "etcd", "etcdctl", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kube-bench", "haproxy"];
const GATE_TYPE = "pulumi-nodejs:dynamic/hardened-cluster:ServiceAccountKeyGate";
// The documented defaults: controlPlane.apiServer.serviceAccountMaxTokenHours 24, plus one hour for the rollout.
const REMOVAL_WAIT_MS = (24 + 1) * 3600_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const kidOf = (jwt: string) => JSON.parse(Buffer.from(jwt.split(".")[0], "base64url").toString()).kid as string;

describe("service-account key rotation on the local ha topology (real processes)", function () {
    this.timeout(30 * 60_000);
    let ps: ProgramStack;
    let admin: Credential;
    let ha: HaStack | undefined;
    let apiservers: string[] = [];
    const { timings, timed } = timingLog();

    const setKeys = (keys: string[]) => ps.stack.setConfig("hardened-cluster:pki", { value: JSON.stringify({ serviceAccountKeys: keys }) });
    const mint = async () => {
        const res = await request(admin, "POST", "/api/v1/namespaces/default/serviceaccounts/probe/token", { apiVersion: "authentication.k8s.io/v1", kind: "TokenRequest", spec: { expirationSeconds: 3600 } });
        assert.equal(res.status, 201, res.body);
        return res.json().status.token as string;
    };
    const jwks = async () => {
        const res = await request(admin, "GET", "/openid/v1/jwks", undefined, "application/jwk-set+json");
        assert.equal(res.status, 200, res.body);
        return (res.json().keys as { kid: string }[]).map((k) => k.kid).sort();
    };
    /** Who each apiserver, asked directly, says the token is (or the status it answered). */
    const whoAmI = (token: string) => Promise.all(apiservers.map(async (server) => {
        const res = await request({ server, caPem: admin.caPem, token }, "POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews", { apiVersion: "authentication.k8s.io/v1", kind: "SelfSubjectReview" });
        return res.status === 201 ? res.json().status.userInfo.username as string : res.status;
    }));
    /** A plain `pulumi up` under a 5 Hz loop that uses `token` through the balancer. */
    const upUnderProbe = async (what: string, token: string) => {
        const loop = new ProbeLoop({ server: admin.server, caPem: admin.caPem, token }, "/version");
        let res;
        try {
            await sleep(1000);
            res = await timed(what, () => ps.stack.up());
            await sleep(2000);
        } finally {
            await loop.stop();
        }
        assert.equal(res.summary.result, "succeeded");
        timings.push(`${what}: ${loop.results.length} probes, ${loop.failures().length} failed`);
        assert.ok(loop.results.length >= 20, `only ${loop.results.length} probes ran`);
        assert.deepEqual(loop.failures(), []);
    };
    const refusal = async (keys: string[]) => {
        await setKeys(keys);
        const err = await ps.stack.preview().then(() => undefined, (e: Error) => e);
        assert.ok(err, `${JSON.stringify(keys)} was not refused`);
        return err.message;
    };
    const apiserverPids = () => allProcesses().filter((p) => p.name === "kube-apiserver" && p.args.some((a) => a.includes(String(ports.apiServer)))).map((p) => p.pid).sort();

    before(async function () {
        ha = await haStack("sa-rotation", ports, BINARIES);
        ps = ha.ps;
        apiservers = ha.controlPlane.map((n) => `https://${n.node.ip}:${ports.apiServer}`);
        const res = await timed("cold up", () => ps.stack.up());
        assert.equal(res.summary.result, "succeeded");
        admin = fromKubeconfig(res.outputs.kubeconfig.value);
    });
    after(async function () {
        console.log(`    timings:\n      ${timings.join("\n      ")}`);
        await ha?.cleanup();
    });

    it("rotates the signing key in three ups: old tokens keep working until their key is dropped, new ones carry the new kid", async function () {
        assert.equal(apiservers.length, 2);
        const sa = await request(admin, "POST", "/api/v1/namespaces/default/serviceaccounts", { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "probe" } });
        assert.equal(sa.status, 201, sa.body);
        const oldToken = await mint();
        const oldKid = kidOf(oldToken);
        assert.deepEqual(await jwks(), [oldKid]);
        assert.deepEqual(await whoAmI(oldToken), ["system:serviceaccount:default:probe", "system:serviceaccount:default:probe"]);

        // A new signer that no apiserver verifies yet: refused before anything changes.
        const pids = apiserverPids();
        assert.equal(pids.length, 2);
        assert.match(await refusal(["sa-2", "sa"]), /pki\.serviceAccountKeys: "sa-2" would sign tokens before every apiserver verifies it; first apply \["sa", "sa-2"\]/);
        assert.deepEqual(apiserverPids(), pids, "a refused preview restarted an apiserver");

        // 1. Publish: both keys verify, the old one still signs.
        await setKeys(["sa", "sa-2"]);
        await upUnderProbe("publish up", oldToken);
        const both = await jwks();
        assert.equal(both.length, 2);
        assert.ok(both.includes(oldKid));
        assert.equal(kidOf(await mint()), oldKid);
        const newKid = both.find((k) => k !== oldKid)!;

        // 2. Switch: new tokens carry the new key's kid, as /openid/v1/jwks publishes it; the old token still works.
        await setKeys(["sa-2", "sa"]);
        const switchedFrom = Date.now();
        await upUnderProbe("switch up", oldToken);
        const switchedTo = Date.now();
        const newToken = await mint();
        assert.equal(kidOf(newToken), newKid);
        assert.deepEqual(await jwks(), both);
        for (const token of [oldToken, newToken]) assert.deepEqual(await whoAmI(token), ["system:serviceaccount:default:probe", "system:serviceaccount:default:probe"]);

        // 3. Dropping the old key now is refused, naming the time: 24 h of token lifetime and 1 h of rollout after the switch.
        const early = await refusal(["sa-2"]);
        const m = /"sa" stopped signing at (\S+) .* it may be removed from (\S+)$/m.exec(early);
        assert.ok(m, early);
        const allowed = Date.parse(m[2]);
        assert.ok(allowed >= switchedFrom + REMOVAL_WAIT_MS && allowed <= switchedTo + REMOVAL_WAIT_MS, `${m[2]} vs the switch at ${new Date(switchedFrom).toISOString()}`);
        assert.deepEqual(await whoAmI(oldToken), ["system:serviceaccount:default:probe", "system:serviceaccount:default:probe"]);

        // Once that time has passed (moved back in the state, not waited for), the up drops it: old tokens get 401.
        let aged = 0;
        editState(ps, (resources) => {
            for (const r of resources.filter((x) => x.type === GATE_TYPE)) {
                (r.outputs.retiredAt as Record<string, string>).sa = new Date(Date.now() - REMOVAL_WAIT_MS - 60_000).toISOString();
                aged++;
            }
        });
        assert.equal(aged, 1);
        const res = await timed("drop up", () => ps.stack.up());
        assert.equal(res.summary.result, "succeeded");
        assert.deepEqual(await jwks(), [newKid]);
        assert.deepEqual(await whoAmI(oldToken), [401, 401]);
        assert.deepEqual(await whoAmI(newToken), ["system:serviceaccount:default:probe", "system:serviceaccount:default:probe"]);
    });

    it("passes kube-bench on a control-plane node after the rotation", function () {
        const bench = ha!.kubeBench();
        assert.equal(bench.scored, 53);
        assert.deepEqual(bench.failing, []);
    });
});
