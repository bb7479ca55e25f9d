// The pure renderers and planners: no Pulumi engine, no mocks.
import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import { parse } from "yaml";
import { ConfigError } from "../../../components/common";
import { resolveEncryption, renderEncryptionConfig } from "../../../components/encryption";
import {
    awsEncryptionOptions, awsPosture, bootstrapTokenSecret, controlPlaneNodes, internalNlbAddresses, joinTokenWindow, KMS_PLUGIN_ENDPOINT,
    renderSshdConfig, resolveAwsOptions, secretParameters, securityEvents, securityGroupRules,
} from "../../../platforms/aws";
import { controlPlaneNodePolicy, PolicyDocument, workerNodePolicy } from "../../../platforms/aws/iam";
import { clusterKeyPolicy, secretsKeyPolicy } from "../../../platforms/aws/kms";
import { deriveSubnets, hostAddress } from "../../../platforms/aws/network-plan";
import { renderFetchScript } from "../../../platforms/aws/secrets";
import { syncMinute, syncTimer } from "../../../platforms/aws/sync";
import { checkUnitSpec, execLine, quoteArg, renderUnit, serviceUnit } from "../../../platforms/aws/systemd";
import { findSecretMaterial, renderCloudConfig } from "../../../platforms/aws/userdata";
import { baseOptions, CLUSTER, FAKE_KEY } from "./fixtures";
import { ed25519Line } from "./ssh-keys";

const ctx = { partition: "aws", region: "eu-west-1", accountId: "123456789012", dnsSuffix: "amazonaws.com" };
const actions = (doc: PolicyDocument) => doc.Statement.flatMap((s) => ([] as string[]).concat(s.Action));

function throwsAt(fn: () => unknown, key: string): void {
    assert.throws(fn, (e: unknown) => e instanceof ConfigError && e.key === key);
}

describe("aws: security-group rules", () => {
    const sensitive = [22, 2379, 2380, 10250, 6443];
    const covers = (r: { fromPort: number; toPort: number; protocol: string }, p: number) => r.protocol === "-1" || (r.fromPort <= p && p <= r.toPort);

    it("opens nothing sensitive to 0.0.0.0/0 and no SSH at all by default", () => {
        const rules = securityGroupRules(resolveAwsOptions(baseOptions()));
        const world = rules.filter((r) => r.direction === "ingress" && r.cidr === "0.0.0.0/0");
        assert.deepEqual(world, []);
        // Only the workers' pod-network rule spans 22, between workers, where sshd is masked.
        assert.deepEqual(rules.filter((r) => r.direction === "ingress" && covers(r, 22)).map((r) => [r.group, r.protocol, r.peer]), [["workers", "-1", "workers"]]);
        for (const p of sensitive) assert.ok(!rules.some((r) => r.cidr === "0.0.0.0/0" && r.direction === "ingress" && covers(r, p)), String(p));
    });

    it("admits etcd only between control-plane nodes, the kubelet only from the control plane, 6443 on control-plane nodes only from the NLB and the workers", () => {
        const rules = securityGroupRules(resolveAwsOptions(baseOptions())).filter((r) => r.direction === "ingress");
        const to = (group: string, p: number) => rules.filter((r) => r.group === group && covers(r, p)).map((r) => r.peer ?? r.cidr);
        assert.deepEqual(to("controlPlane", 2379), ["controlPlane"]);
        assert.deepEqual(to("controlPlane", 2380), ["controlPlane"]);
        assert.deepEqual(to("workers", 2379), ["workers"], "only the worker-to-worker pod network rule");
        assert.deepEqual(rules.filter((r) => r.group === "workers" && r.protocol === "tcp" && covers(r, 10250)).map((r) => r.peer), ["controlPlane"]);
        // Pods reach the API at the kubernetes Service, whose endpoints are the apiservers' own addresses
        // (the drill sees kube-proxy lead it there), so the workers need 6443 on the nodes, not only the NLB.
        assert.deepEqual(to("controlPlane", 6443), ["nlb", "workers"]);
        assert.deepEqual(to("nlb", 6443), ["198.51.100.0/24", "workers"]);
        const egress = securityGroupRules(resolveAwsOptions(baseOptions())).filter((r) => r.direction === "egress" && r.group === "workers" && r.protocol === "tcp" && covers(r, 6443));
        assert.deepEqual(egress.map((r) => r.peer), ["nlb", "controlPlane"]);
    });

    it("opens 22 only from the listed CIDRs when SSH is enabled", () => {
        const r = resolveAwsOptions(baseOptions({ ssh: { enabled: true, allowedCidrs: ["203.0.113.0/24"], authorizedKeys: [ed25519Line()] } }));
        const ssh = securityGroupRules(r).filter((x) => x.direction === "ingress" && x.protocol === "tcp" && covers(x, 22));
        assert.deepEqual(ssh.map((x) => [x.group, x.cidr]), [["controlPlane", "203.0.113.0/24"], ["workers", "203.0.113.0/24"]]);
    });
});

const KEY_PRINCIPALS = { deployerArns: ["arn:aws:iam::123456789012:user/deployer"], readers: [{ roleArn: "arn:aws:iam::123456789012:role/cp-0", prefixes: ["/prod1/cp-0", "/prod1/control-plane"] }] };

const input = { clusterName: CLUSTER, node: "cp-1", clusterKeyArn: "arn:aws:kms:eu-west-1:123456789012:key/c", secretsKeyArn: "arn:aws:kms:eu-west-1:123456789012:key/s", auditLogGroupArn: "arn:aws:logs:eu-west-1:123456789012:log-group:/prod1/kube-apiserver-audit", backup: { bucket: "prod1-etcd-backups-1", prefix: "prod1/etcd" } };

describe("aws: IAM and key policies", () => {

    it("lets a control-plane node read only its own and the shared control-plane parameters", () => {
        const doc = controlPlaneNodePolicy(ctx, input);
        const read = doc.Statement.find((s) => s.Sid === "ReadOwnParameters")!;
        assert.deepEqual(read.Resource, [
            "arn:aws:ssm:eu-west-1:123456789012:parameter/prod1/cp-1/*",
            "arn:aws:ssm:eu-west-1:123456789012:parameter/prod1/control-plane/*",
        ]);
        const decrypt = doc.Statement.find((s) => s.Sid === "DecryptOwnParameters")!;
        assert.deepEqual(decrypt.Condition!.StringLike["kms:EncryptionContext:PARAMETER_ARN"], read.Resource);
        // The sync lists versions with GetParameters, on the same parameters only; nothing lists a path.
        assert.ok(!actions(doc).includes("ssm:GetParametersByPath") && !actions(doc).includes("ssm:DescribeParameters"));
        for (const s of doc.Statement.filter((x) => ([] as string[]).concat(x.Action).some((a) => a.startsWith("ssm:Get")))) assert.deepEqual(s.Resource, read.Resource, s.Sid);
        // It writes one parameter: its own report for the CA rotation's gates, not another node's, not a secret's.
        const writes = doc.Statement.filter((x) => ([] as string[]).concat(x.Action).some((a) => /^ssm:(Put|Delete|Label|AddTags)/.test(a)));
        assert.deepEqual(writes.map((x) => [x.Action, x.Resource]), [[["ssm:PutParameter"], "arn:aws:ssm:eu-west-1:123456789012:parameter/prod1/reports/cp-1"]]);
    });

    it("lets a worker put one parameter, its own report, named by the address EC2 issued its credentials to", () => {
        const doc = workerNodePolicy(ctx, CLUSTER, input.clusterKeyArn);
        const writes = doc.Statement.filter((x) => ([] as string[]).concat(x.Action).some((a) => /^ssm:(Put|Delete|Label|AddTags)/.test(a)));
        // aws:EC2InstanceSourcePrivateIPv4 is a global condition key, which IAM resolves as a policy variable
        // (IAM User Guide, "IAM policy elements: Variables and tags"; variables need policy version 2012-10-17).
        assert.deepEqual(writes.map((x) => [x.Action, x.Resource, x.Condition]),
            [[["ssm:PutParameter"], "arn:aws:ssm:eu-west-1:123456789012:parameter/prod1/reports/workers/${aws:EC2InstanceSourcePrivateIPv4}", undefined]]);
        assert.equal(doc.Version, "2012-10-17");
    });

    it("lets workers read only the workers path, and gives them no KMS plugin or log access", () => {
        const doc = workerNodePolicy(ctx, CLUSTER, input.clusterKeyArn);
        assert.deepEqual(doc.Statement.find((s) => s.Sid === "ReadOwnParameters")!.Resource, ["arn:aws:ssm:eu-west-1:123456789012:parameter/prod1/workers/*"]);
        assert.ok(!actions(doc).some((a) => a === "kms:Encrypt" || a.startsWith("logs:")));
    });

    it("uses no wildcard actions anywhere, and no * resource except for named actions without resource-level support", () => {
        const docs = [controlPlaneNodePolicy(ctx, input), workerNodePolicy(ctx, CLUSTER, input.clusterKeyArn), clusterKeyPolicy(ctx, CLUSTER, KEY_PRINCIPALS), secretsKeyPolicy(ctx, CLUSTER, ["arn:aws:iam::123456789012:role/cp-0"])];
        for (const doc of docs) {
            for (const a of actions(doc)) assert.ok(!a.includes("*"), a);
        }
        const starResources = docs.slice(0, 2).flatMap((d) => d.Statement).filter((s) => ([] as string[]).concat(s.Resource ?? []).includes("*"));
        assert.deepEqual(starResources.flatMap((s) => ([] as string[]).concat(s.Action)), [
            "cloudwatch:PutMetricData",
            "ssmmessages:CreateControlChannel", "ssmmessages:CreateDataChannel", "ssmmessages:OpenControlChannel", "ssmmessages:OpenDataChannel",
            "ssmmessages:CreateControlChannel", "ssmmessages:CreateDataChannel", "ssmmessages:OpenControlChannel", "ssmmessages:OpenDataChannel",
        ]);
        // The one without resource-level permissions is held to the cluster's own metric namespace.
        assert.deepEqual(starResources.find((s) => s.Sid === "PublishCertificateExpiry")!.Condition, { StringEquals: { "cloudwatch:namespace": "HardenedCluster/prod1" } });
    });

    it("gives the account's administrators no decrypt on either key, and the secrets key to the control-plane roles only", () => {
        const cluster = clusterKeyPolicy(ctx, CLUSTER, KEY_PRINCIPALS);
        const admin = cluster.Statement.find((s) => s.Sid === "KeyAdministration")!;
        assert.ok(!([] as string[]).concat(admin.Action).some((a) => /Decrypt|Encrypt|GenerateDataKey/.test(a)));
        const viaIam = cluster.Statement.find((s) => s.Sid === "UseThroughClusterServices")!;
        // SSM is not among them: its use is fenced per role and path by the key itself (key-policy.spec.ts).
        assert.deepEqual(viaIam.Condition!.StringEquals["kms:ViaService"], ["ec2.eu-west-1.amazonaws.com", "autoscaling.eu-west-1.amazonaws.com"]);

        const roles = ["arn:aws:iam::123456789012:role/cp-0", "arn:aws:iam::123456789012:role/cp-1"];
        const secrets = secretsKeyPolicy(ctx, CLUSTER, roles);
        const users = secrets.Statement.filter((s) => ([] as string[]).concat(s.Action).includes("kms:Decrypt"));
        assert.deepEqual(users.map((s) => s.Principal), [{ AWS: roles }]);
        assert.deepEqual(users[0].Condition, { StringEquals: { "kms:EncryptionContext:hardened-cluster": CLUSTER } });
    });
});

describe("aws: secret parameters", () => {
    it("plans /<cluster>/<scope>/<file-id> and who may read each", () => {
        const plan = secretParameters(CLUSTER, ["cp-0", "cp-1"], [
            { fileId: "etcd-peer.key", scope: { node: "cp-1" } },
            { fileId: "sa.key", scope: "control-plane" },
            { fileId: "bootstrap-kubelet.conf", scope: "workers" },
        ]);
        assert.deepEqual(plan.map((p) => [p.name, p.readers]), [
            ["/prod1/cp-1/etcd-peer.key", ["cp-1"]],
            ["/prod1/control-plane/sa.key", ["cp-0", "cp-1"]],
            ["/prod1/workers/bootstrap-kubelet.conf", ["workers"]],
        ]);
    });

    it("refuses unknown nodes, bad file ids and duplicates", () => {
        throwsAt(() => secretParameters(CLUSTER, ["cp-0"], [{ fileId: "a", scope: { node: "cp-9" } }]), "aws.secrets[0].scope");
        throwsAt(() => secretParameters(CLUSTER, ["cp-0"], [{ fileId: "../x", scope: "workers" }]), "aws.secrets[0].fileId");
        throwsAt(() => secretParameters(CLUSTER, ["cp-0"], [{ fileId: "a", scope: "workers" }, { fileId: "a", scope: "workers" }]), "aws.secrets[1].fileId");
    });

    const KEY = "arn:aws:kms:eu-west-1:123456789012:key/c";

    it("renders a boot script with names and paths only", () => {
        const script = renderFetchScript("eu-west-1", KEY, [{ path: "/etc/kubernetes/pki/sa.key", parameter: "/prod1/control-plane/sa.key", mode: 0o600, owner: "kcm:kcm" }]);
        assert.match(script, /^#!\/bin\/bash\n/);
        assert.match(script, /^stage \/prod1\/control-plane\/sa\.key \/etc\/kubernetes\/pki\/sa\.key 0600 kcm:kcm secret -$/m);
        assert.match(script, new RegExp(`^key_arn=${KEY}$`, "m"));
        assert.match(script, /--with-decryption/);
        assert.throws(() => renderFetchScript("eu-west-1", KEY, [{ path: "/x; rm -rf /", parameter: "/p", mode: 0o600 }]), /refusing/);
        assert.throws(() => renderFetchScript("eu-west-1", "arn:aws:kms:eu-west-1:1:key/$(id)", []), /refusing/);
    });

    it("refuses to render a secret file anyone but its owner may write or others may read", () => {
        for (const mode of [0o644, 0o660, 0o604, 0o700, 0o1600]) {
            assert.throws(() => renderFetchScript("eu-west-1", KEY, [{ path: "/etc/kubernetes/pki/sa.key", parameter: "/prod1/control-plane/sa.key", mode }]), new RegExp(`mode 0${mode.toString(8)}`));
        }
        for (const mode of [0o600, 0o640, 0o400, 0o440]) renderFetchScript("eu-west-1", KEY, [{ path: "/etc/kubernetes/pki/sa.key", parameter: "/prod1/control-plane/sa.key", mode }]);
    });

    it("lets a certificate be fetched world-readable, never writable, and names the units a sync restarts for it", () => {
        const crt = { path: "/etc/kubernetes/pki/apiserver.crt", parameter: "/prod1/cp-0/kubernetes-pki-apiserver.crt", public: true, restarts: ["etcd", "kube-apiserver"] };
        const script = renderFetchScript("eu-west-1", KEY, [{ ...crt, mode: 0o644 }], undefined, ["etcd", "kube-apiserver"]);
        assert.match(script, /^stage \/prod1\/cp-0\/kubernetes-pki-apiserver\.crt \/etc\/kubernetes\/pki\/apiserver\.crt 0644 root public etcd,kube-apiserver$/m);
        // The restart order is the node's unit order, whatever order a file lists its readers in.
        assert.match(script, /^  for u in etcd kube-apiserver; do$/m);
        for (const mode of [0o664, 0o646, 0o755, 0o4644]) assert.throws(() => renderFetchScript("eu-west-1", KEY, [{ ...crt, mode }], undefined, ["etcd", "kube-apiserver"]), /a public file may be 0644 at most/);
        assert.throws(() => renderFetchScript("eu-west-1", KEY, [{ ...crt, mode: 0o644 }], undefined, ["etcd"]), /names units the node does not run: kube-apiserver/);
        assert.throws(() => renderFetchScript("eu-west-1", KEY, [], undefined, ["kube-apiserver; reboot"]), /refusing unit name/);
        const syntax = spawnSync("bash", ["-n"], { input: script, encoding: "utf8" });
        assert.equal(syntax.status, 0, syntax.stderr);
    });

    it("runs the sync timer of each control-plane node at a minute of its own, every 15 minutes", () => {
        // etcd restarts after a change to every member's files: one member at a time keeps quorum.
        assert.deepEqual([0, 1, 2].map((i) => syncMinute(i, 3)), [0, 5, 10]);
        assert.deepEqual([0, 1, 2, 3, 4].map((i) => syncMinute(i, 5)), [0, 3, 6, 9, 12]);
        assert.equal(syncTimer({ index: 1, count: 3 }).Timer!.OnCalendar, "*-*-* *:05/15:00");
        assert.throws(() => syncMinute(3, 3), /node 3 of 3/);
        const r = spawnSync("systemd-analyze", ["calendar", "--iterations=3", "--base-time=2026-01-01 00:00:00 UTC", "*-*-* *:05/15:00"], { encoding: "utf8", env: { ...process.env, TZ: "UTC" } });
        assert.equal(r.status, 0, r.stderr);
        assert.deepEqual([...r.stdout.matchAll(/(\d\d:\d\d:\d\d) UTC/g)].map((m) => m[1]).slice(-3), ["00:05:00", "00:20:00", "00:35:00"]);
    });

    it("gives both node roles every SSM action the boot script calls, and no other SSM read", () => {
        const script = renderFetchScript("eu-west-1", KEY, []);
        const pascal = (op: string) => op.split("-").map((w) => w[0].toUpperCase() + w.slice(1)).join("");
        const called = [...script.matchAll(/\baws ssm ([a-z-]+)/g)].map((m) => `ssm:${pascal(m[1])}`);
        assert.deepEqual([...new Set(called)].sort(), ["ssm:GetParameter", "ssm:GetParameterHistory", "ssm:GetParameters"]);
        const docs = [controlPlaneNodePolicy(ctx, input), workerNodePolicy(ctx, CLUSTER, input.clusterKeyArn)];
        for (const doc of docs) {
            const read = doc.Statement.find((s) => s.Sid === "ReadOwnParameters")!;
            assert.deepEqual([...read.Action as string[]].sort(), [...new Set(called)].sort());
        }
    });
});

describe("aws: systemd units", () => {
    it("quotes argv so systemd reads every element back unchanged", () => {
        assert.equal(quoteArg("--name=cp-0"), "--name=cp-0");
        assert.equal(quoteArg("--a=b c"), '"--a=b c"');
        assert.equal(quoteArg("100%"), "100%%");
        assert.equal(quoteArg("$HOME"), "$$HOME");
        assert.equal(quoteArg('say "hi"'), '"say \\"hi\\""');
        assert.equal(quoteArg(""), '""');
        assert.equal(execLine(["/bin/x", "a b", "c"]), '/bin/x "a b" c');
        assert.throws(() => quoteArg("a\nb"));
    });

    it("renders sections from an object and sandboxes services that have their own user", () => {
        const text = renderUnit(serviceUnit({ name: "etcd", description: "etcd", user: "etcd", execStart: ["/usr/local/bin/etcd"], after: ["x.service"] }, ["secrets.service"]));
        assert.match(text, /^\[Unit\]\nDescription=etcd\nWants=network-online.target\nRequires=secrets.service\nAfter=network-online.target secrets.service x.service\n\n\[Service\]\n/);
        assert.match(text, /^User=etcd$/m);
        assert.match(text, /^NoNewPrivileges=yes$/m);
        const root = renderUnit(serviceUnit({ name: "kubelet", description: "kubelet", execStart: ["/usr/bin/kubelet"] }));
        assert.ok(!/NoNewPrivileges|ProtectControlGroups|User=/.test(root), "the kubelet manages cgroups and mounts as root");
    });

    it("checks unit specs", () => {
        const ok = { name: "etcd", description: "etcd", execStart: ["/usr/local/bin/etcd"] };
        throwsAt(() => checkUnitSpec("u", { ...ok, name: "etcd.service" }), "u.name");
        throwsAt(() => checkUnitSpec("u", { ...ok, execStart: ["etcd"] }), "u.execStart[0]");
        throwsAt(() => checkUnitSpec("u", { ...ok, user: "root" }), "u.user");
        throwsAt(() => checkUnitSpec("u", { ...ok, after: ["etcd"] }), "u.after[0]");
        throwsAt(() => checkUnitSpec("u", { ...ok, environment: { "node-name": "x" } }), "u.environment");
        throwsAt(() => checkUnitSpec("u", { ...ok, environment: { NODE_NAME: "a b" } }), "u.environment.NODE_NAME");
        throwsAt(() => checkUnitSpec("u", { ...ok, execStartPre: [{ argv: ["modprobe", "x"] }] }), "u.execStartPre[0].argv[0]");
        throwsAt(() => checkUnitSpec("u", { ...ok, execStartPre: [{ argv: [] }] }), "u.execStartPre[0].argv");
        checkUnitSpec("u", { ...ok, environment: { NODE_NAME: "%H" }, execStartPre: [{ argv: ["/usr/sbin/modprobe", "x"], mayFail: true }] });
    });

    it("renders each variable and each command before the start on a line of its own, a '-' before one that may fail (systemd.service(5))", () => {
        const text = renderUnit(serviceUnit({
            name: "f", description: "f", execStart: ["/usr/local/bin/f"], environment: { NODE_NAME: "%H", MODE: "x" },
            execStartPre: [{ argv: ["/usr/sbin/modprobe", "br_netfilter"], mayFail: true }, { argv: ["/usr/sbin/sysctl", "-p", "/etc/a b.conf"] }],
        }));
        const service = text.slice(text.indexOf("[Service]"));
        assert.deepEqual(service.split("\n").filter((l) => /^(Environment|ExecStartPre|ExecStart)=/.test(l)), [
            "Environment=NODE_NAME=%H", "Environment=MODE=x", "ExecStartPre=-/usr/sbin/modprobe br_netfilter", 'ExecStartPre=/usr/sbin/sysctl -p "/etc/a b.conf"', "ExecStart=/usr/local/bin/f",
        ]);
    });
});

describe("aws: sshd", () => {
    it("allows keys only, no root, only the default user from the listed CIDRs", () => {
        const text = renderSshdConfig({ enabled: true, allowedCidrs: ["203.0.113.0/24", "10.9.0.0/16"] });
        for (const line of ["PermitRootLogin no", "PasswordAuthentication no", "KbdInteractiveAuthentication no", "AuthenticationMethods publickey", "PermitEmptyPasswords no"]) {
            assert.match(text, new RegExp(`^${line}$`, "m"));
        }
        assert.match(text, /^AllowUsers ec2-user@203\.0\.113\.0\/24 ec2-user@10\.9\.0\.0\/16$/m);
    });
});

describe("aws: monitoring", () => {
    it("has JSON filter patterns for the four security events, within CloudWatch's length limit", () => {
        const events = securityEvents();
        assert.deepEqual(events.map((e) => e.id), ["unauthenticated-or-forbidden", "unexpected-secret-reads", "clusterrolebinding-changes", "pod-exec"]);
        for (const e of events) {
            assert.match(e.pattern, /^\{ .* \}$/);
            assert.ok(e.pattern.length <= 1024);
        }
        assert.match(events[0].pattern, /\$\.user\.username = "system:anonymous"/);
        assert.match(events[0].pattern, /\$\.responseStatus\.code = 403/);
        assert.match(events[1].pattern, /\$\.objectRef\.resource = "secrets"/);
        assert.match(events[1].pattern, /\$\.user\.username != "system:node:\*"/);
        assert.match(events[2].pattern, /"clusterrolebindings"/);
        assert.match(events[3].pattern, /\$\.objectRef\.subresource = "exec"/);
    });

    it("refuses a reader list that would push a pattern past the limit", () => {
        throwsAt(() => securityEvents(Array.from({ length: 40 }, (_, i) => `user-number-${i}`)), "aws.monitoring.secretReaders");
    });
});

describe("aws: user data", () => {
    const spec = { region: "eu-west-1", parameterKeyArn: "arn:aws:kms:eu-west-1:123456789012:key/c", systemUsers: [], units: [], files: [], fetched: [], disks: [], packages: [], ssh: { enabled: false, allowedCidrs: [], authorizedKeys: [] }, commands: [] };

    it("starts with the #cloud-config header and masks sshd by default", () => {
        const text = renderCloudConfig(spec);
        assert.ok(text.startsWith("#cloud-config\n"));
        const doc = parse(text);
        assert.equal(doc.ssh_pwauth, false);
        assert.deepEqual(doc.runcmd.slice(-1), [["systemctl", "mask", "sshd.service"]]);
    });

    it("refuses to render anything that looks like secret material", () => {
        const withKey = { ...spec, files: [{ path: "/etc/x", content: FAKE_KEY, permissions: "0600" }] };
        assert.throws(() => renderCloudConfig(withKey), /PEM private key/);
        assert.deepEqual(findSecretMaterial("token: abcdef.0123456789abcdef"), ["a bootstrap token", "a kubeconfig token"]);
        assert.deepEqual(findSecretMaterial("- secretbox:\n    keys: []"), ["local EncryptionConfiguration keys"]);
        assert.deepEqual(findSecretMaterial("-----BEGIN CERTIFICATE-----"), []);
    });
});

describe("aws: network plan, nodes and endpoint", () => {
    it("derives subnets inside the VPC and keeps node addresses out of AWS's reserved ones", () => {
        assert.deepEqual(deriveSubnets("10.8.0.0/16", 6).private.slice(-1), ["10.8.160.0/19"]);
        assert.equal(hostAddress("10.0.0.0/19", 10), "10.0.0.10");
        assert.throws(() => hostAddress("10.0.0.0/28", 3));
        assert.throws(() => hostAddress("10.0.0.0/28", 15));
    });

    it("spreads control-plane nodes over the zones with fixed addresses", () => {
        const nodes = controlPlaneNodes(resolveAwsOptions(baseOptions({ controlPlane: { etcdMembers: 5 } })));
        assert.deepEqual(nodes.map((n) => [n.name, n.azIndex, n.privateIp]), [
            ["cp-0", 0, "10.0.0.10"], ["cp-1", 1, "10.0.32.10"], ["cp-2", 2, "10.0.64.10"], ["cp-3", 0, "10.0.0.11"], ["cp-4", 1, "10.0.32.11"],
        ]);
        assert.deepEqual(internalNlbAddresses(["10.0.0.0/19", "10.0.32.0/19"]), ["10.0.0.5", "10.0.32.5"]);
    });
});

describe("aws: encryption at rest, join tokens and posture", () => {
    it("defaults to a KMS v2 EncryptionConfiguration on the plugin's socket, with no key material", () => {
        const config = renderEncryptionConfig(awsEncryptionOptions(), []);
        assert.deepEqual(config.resources[0].providers, [{ kms: { apiVersion: "v2", name: "aws-kms", endpoint: KMS_PLUGIN_ENDPOINT } }]);
        assert.equal(resolveEncryption(awsEncryptionOptions()).keys[0].provider, "kms");
    });

    it("mints join tokens per window, valid at least one TTL and at most two after an up", () => {
        const ttl = 24;
        const t = Date.UTC(2030, 0, 1, 12);
        const a = joinTokenWindow(t, ttl);
        assert.equal(joinTokenWindow(t + 3600_000, ttl).window, a.window);
        assert.equal(a.expiration, "2030-01-03T00:00:00Z");
        const left = Date.parse(a.expiration) - t;
        assert.ok(left >= ttl * 3600_000 && left <= 2 * ttl * 3600_000);
        const secret = bootstrapTokenSecret("abcdef", "0123456789abcdef", a.expiration, CLUSTER) as any;
        assert.equal(secret.type, "bootstrap.kubernetes.io/token");
        assert.equal(secret.metadata.name, "bootstrap-token-abcdef");
        assert.equal(secret.stringData["usage-bootstrap-signing"], undefined);
        assert.match(secret.stringData["auth-extra-groups"], /^system:bootstrappers:/);
    });

    it("lists every weakening by its option", () => {
        assert.deepEqual(awsPosture(baseOptions()).weakenings, []);
        const weak = awsPosture(baseOptions({
            environment: "dev",
            endpoint: "public",
            apiAllowedCidrs: ["0.0.0.0/0"],
            allowWorldApiAccess: true,
            allowSingleEtcdMember: true,
            controlPlane: { etcdMembers: 1 },
            ssh: { enabled: true, allowedCidrs: ["203.0.113.0/24"], authorizedKeys: [ed25519Line()] },
        }));
        assert.deepEqual(weak.weakenings.map((w) => w.option), ["aws.endpoint", "aws.allowWorldApiAccess", "aws.allowSingleEtcdMember", "aws.ssh.enabled"]);
    });
});
