// The control-plane flag rules: a command line that meets every claimed CIS 1.12 check, one violation per
// check written from the benchmark's text, and a cross-check that every CIS id the pack claims is an automated
// (scored) check of the kube-bench config this project runs (`--benchmark cis-1.12 --targets master,etcd`,
// test/e2e/kube-bench-run.ts) that tests the same flags.
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { policies } from "../../../policy/policies";
import { CIS_FLAG_CHECKS } from "../../../policy/rules/control-plane";
import { toolchain } from "../../e2e/harness";
import { checkResource } from "./policy-harness";

const PROCESS = "pulumi-nodejs:dynamic/hardened-cluster:LocalProcess";

/** Command lines written from the benchmark's remediation text (not from the blueprint's renderer). */
const COMPLIANT: Record<string, string[]> = {
    "kube-apiserver": ["--authorization-mode=Node,RBAC", "--enable-admission-plugins=NodeRestriction", "--profiling=false",
        "--kubelet-client-certificate=/pki/kc.crt", "--kubelet-client-key=/pki/kc.key", "--kubelet-certificate-authority=/pki/ca.crt",
        "--audit-log-path=/var/log/audit.log", "--audit-log-maxage=30", "--audit-log-maxbackup=10", "--audit-log-maxsize=100",
        "--service-account-key-file=/pki/sa.pub", "--etcd-certfile=/pki/e.crt", "--etcd-keyfile=/pki/e.key", "--etcd-cafile=/pki/eca.crt",
        "--tls-cert-file=/pki/a.crt", "--tls-private-key-file=/pki/a.key", "--client-ca-file=/pki/ca.crt", "--service-account-extend-token-expiration=false"],
    "kube-controller-manager": ["--profiling=false", "--use-service-account-credentials=true", "--service-account-private-key-file=/pki/sa.key",
        "--root-ca-file=/pki/ca.crt", "--bind-address=127.0.0.1"],
    "kube-scheduler": ["--profiling", "false", "--bind-address=127.0.0.1"],
    etcd: ["--cert-file=/pki/s.crt", "--key-file=/pki/s.key", "--client-cert-auth=true", "--peer-cert-file=/pki/p.crt", "--peer-key-file=/pki/p.key", "--peer-client-cert-auth=true"],
};

/** One breach per claimed id: [flag to drop (prefix), arguments to add]. */
const BREACH: Record<string, [string | undefined, string[]]> = {
    "1.2.2": [undefined, ["--token-auth-file=/tokens.csv"]], "1.2.4": ["--kubelet-client-key", []], "1.2.5": ["--kubelet-certificate-authority", []],
    "1.2.6": ["--authorization-mode", ["--authorization-mode=AlwaysAllow,Node,RBAC"]], "1.2.7": ["--authorization-mode", ["--authorization-mode=RBAC"]],
    "1.2.8": ["--authorization-mode", ["--authorization-mode=Node"]], "1.2.10": ["--enable-admission-plugins", ["--enable-admission-plugins=NodeRestriction,AlwaysAdmit"]],
    "1.2.12": [undefined, ["--disable-admission-plugins=ServiceAccount"]], "1.2.13": [undefined, ["--disable-admission-plugins=NamespaceLifecycle"]],
    "1.2.14": ["--enable-admission-plugins", []], "1.2.15": ["--profiling", ["--profiling=true"]], "1.2.16": ["--audit-log-path", []],
    "1.2.17": ["--audit-log-maxage", ["--audit-log-maxage=7"]], "1.2.18": ["--audit-log-maxbackup", ["--audit-log-maxbackup=2"]],
    "1.2.19": ["--audit-log-maxsize", ["--audit-log-maxsize=10"]], "1.2.21": [undefined, ["--service-account-lookup=false"]],
    "1.2.22": ["--service-account-key-file", []], "1.2.23": ["--etcd-certfile", []], "1.2.24": ["--tls-private-key-file", []],
    "1.2.25": ["--client-ca-file", []], "1.2.26": ["--etcd-cafile", []], "1.2.30": ["--service-account-extend-token-expiration", []],
    "1.3.2": ["--profiling", []], "1.3.3": ["--use-service-account-credentials", ["--use-service-account-credentials=false"]],
    "1.3.4": ["--service-account-private-key-file", []], "1.3.5": ["--root-ca-file", []],
    "1.3.6": [undefined, ["--feature-gates=RotateKubeletServerCertificate=false"]], "1.3.7": ["--bind-address", ["--bind-address=0.0.0.0"]],
    "1.4.1": ["--profiling", ["--profiling=true"]], "1.4.2": ["--bind-address", ["--bind-address=0.0.0.0"]],
    "2.1": ["--key-file", []], "2.2": ["--client-cert-auth", ["--client-cert-auth=false"]], "2.3": [undefined, ["--auto-tls=true"]],
    "2.4": ["--peer-cert-file", []], "2.5": ["--peer-client-cert-auth", []], "2.6": [undefined, ["--peer-auto-tls=true"]],
};

const ruleName = (c: { id: string; component: string }) => `cis-${c.id}-${c.component}`;
const run = (c: { id: string; component: string }, component: string, args: string[]) =>
    checkResource(ruleName(c), PROCESS, { name: component, command: `/usr/bin/${component}`, args });

describe("policy pack: control-plane CIS flag rules", () => {
    it("has one rule per claimed check, and a breach written for each", () => {
        assert.equal(CIS_FLAG_CHECKS.length, 36);
        assert.deepEqual(Object.keys(BREACH).sort(), CIS_FLAG_CHECKS.map((c) => c.id).sort());
        for (const c of CIS_FLAG_CHECKS) assert.ok(policies.some((p) => p.name === ruleName(c)), c.id);
    });

    it("accepts a command line that meets every claimed check", async () => {
        let ran = 0;
        for (const c of CIS_FLAG_CHECKS) {
            assert.deepEqual((await run(c, c.component, COMPLIANT[c.component])).violations, [], c.id);
            ran++;
        }
        assert.equal(ran, 36);
    });

    it("refuses each breach, naming the CIS id, and only in its own component", async () => {
        let ran = 0;
        for (const c of CIS_FLAG_CHECKS) {
            const [drop, add] = BREACH[c.id];
            const argv = [...COMPLIANT[c.component].filter((a, i, all) => !(drop && (a.startsWith(drop) || (i > 0 && all[i - 1] === drop)))), ...add];
            const o = await run(c, c.component, argv);
            assert.equal(o.violations.length, 1, `${c.id}: ${argv.join(" ")}`);
            assert.match(o.violations[0], new RegExp(`CIS ${c.id.replace(/\./g, "\\.")}\\)`));
            const other = c.component === "etcd" ? "kube-scheduler" : "etcd";
            assert.deepEqual((await run(c, other, argv)).violations, [], `${c.id} judged another component`);
            ran++;
        }
        assert.equal(ran, 36);
    });

    it("reads flags as the binaries do: a bare flag is true, `--flag value` is a value, ParseBool spellings count", async () => {
        const profiling = CIS_FLAG_CHECKS.find((c) => c.id === "1.4.1")!;
        assert.equal((await run(profiling, "kube-scheduler", ["--profiling", "--bind-address=127.0.0.1"])).violations.length, 1);
        assert.deepEqual((await run(profiling, "kube-scheduler", ["--profiling=0"])).violations, []);
    });
});

describe("policy pack: every claimed CIS id is a scored check kube-bench runs here", () => {
    it("finds each id in cis-1.12 master.yaml or etcd.yaml, scored, testing the same flags", () => {
        const cfg = path.join(toolchain("kube-bench").kubeBenchCfg, "cis-1.12");
        const text = ["master.yaml", "etcd.yaml"].map((f) => fs.readFileSync(path.join(cfg, f), "utf8")).join("\n");
        // One block per check: from its `- id:` line to the next one.
        const blocks = new Map<string, string>();
        for (const m of text.matchAll(/^\s*- id: ([\d.]+)\n([\s\S]*?)(?=^\s*- id: |$(?![\s\S]))/gm)) blocks.set(m[1], m[2]);
        assert.ok(blocks.size > 50, `parsed only ${blocks.size} checks`);
        const claimed = policies.map((p) => (p as { framework?: { name: string; reference: string } }).framework)
            .filter((f) => f?.name === "CIS Kubernetes Benchmark").map((f) => f!.reference);
        assert.equal(claimed.length, 36);
        for (const id of claimed) {
            const block = blocks.get(id);
            assert.ok(block, `CIS ${id} is not a check of the kube-bench config`);
            assert.match(block, /scored: true/, `CIS ${id} is not scored`);
            assert.match(block, /\(Automated\)/, `CIS ${id} is not automated`);
            for (const flag of CIS_FLAG_CHECKS.find((c) => c.id === id)!.flags) assert.ok(block.includes(`--${flag}`), `CIS ${id} does not test --${flag}`);
        }
    });
});
