import { strict as assert } from "node:assert";
import { ConfigError } from "../../../components/common";
import { AwsOptions, DEFAULT_AMI_PARAMETER, awsPosture, isInstanceType, resolveAwsOptions } from "../../../platforms/aws";
import { baseOptions } from "./fixtures";
import { ed25519Line, rsaLine } from "./ssh-keys";

function failsAt(options: unknown, key: string, mention?: RegExp): ConfigError {
    let caught: unknown;
    try {
        resolveAwsOptions(options as AwsOptions);
    } catch (e) {
        caught = e;
    }
    assert.ok(caught instanceof ConfigError, `expected a ConfigError at ${key}, got ${String(caught)}`);
    assert.equal(caught.key, key);
    if (mention) assert.match(caught.message, mention);
    return caught;
}

describe("aws: options", () => {
    it("defaults to prod, a private endpoint, 3 zones, 3 etcd members, SSH off and a derived subnet plan", () => {
        const r = resolveAwsOptions({ clusterName: "c1", region: "eu-west-1" });
        assert.equal(r.environment, "prod");
        assert.equal(r.endpoint, "private");
        assert.equal(r.azCount, 3);
        assert.equal(r.controlPlane.etcdMembers, 3);
        assert.equal(r.ssh.enabled, false);
        assert.deepEqual(r.privateSubnets, ["10.0.0.0/19", "10.0.32.0/19", "10.0.64.0/19"]);
        assert.deepEqual(r.publicSubnets, ["10.0.224.0/22", "10.0.228.0/22", "10.0.232.0/22"]);
        assert.deepEqual(r.ami, { ssmParameter: DEFAULT_AMI_PARAMETER });
        assert.equal(r.logRetentionDays, 365);
        assert.equal(r.kmsKeyRotationDays, 365);
        assert.deepEqual([r.workers.min, r.workers.max, r.workers.desired], [3, 6, 3]);
    });

    it("refuses 0.0.0.0/0 for the API in prod, naming the list entry", () => {
        failsAt(baseOptions({ endpoint: "public", apiAllowedCidrs: ["198.51.100.0/24", "0.0.0.0/0"] }), "aws.apiAllowedCidrs[1]", /"0\.0\.0\.0\/0".*prod/);
        failsAt(baseOptions({ allowWorldApiAccess: true }), "aws.allowWorldApiAccess", /prod/);
    });

    it("accepts 0.0.0.0/0 outside prod only with the named weakening", () => {
        failsAt(baseOptions({ environment: "dev", endpoint: "public", apiAllowedCidrs: ["0.0.0.0/0"] }), "aws.apiAllowedCidrs[0]", /allowWorldApiAccess/);
        const r = resolveAwsOptions(baseOptions({ environment: "dev", endpoint: "public", apiAllowedCidrs: ["0.0.0.0/0"], allowWorldApiAccess: true }));
        assert.deepEqual(r.apiAllowedCidrs, ["0.0.0.0/0"]);
    });

    it("treats CIDRs that add up to every IPv4 address as the world, naming the entry that completes the cover", () => {
        // Two /1 halves, four /2 quarters, and halves listed out of order: each is all of 0.0.0.0-255.255.255.255.
        failsAt(baseOptions({ endpoint: "public", apiAllowedCidrs: ["0.0.0.0/1", "128.0.0.0/1"] }), "aws.apiAllowedCidrs[1]", /every IPv4 address.*prod/);
        failsAt(baseOptions({ endpoint: "public", apiAllowedCidrs: ["198.51.100.0/24", "128.0.0.0/1", "10.0.0.0/8", "0.0.0.0/1"] }), "aws.apiAllowedCidrs[3]", /prod/);
        failsAt(baseOptions({ environment: "dev", endpoint: "public", apiAllowedCidrs: ["0.0.0.0/2", "64.0.0.0/2", "128.0.0.0/2", "192.0.0.0/2"] }), "aws.apiAllowedCidrs[3]", /allowWorldApiAccess/);
        // One address short of the world is not the world.
        assert.doesNotThrow(() => resolveAwsOptions(baseOptions({ endpoint: "public", apiAllowedCidrs: ["0.0.0.0/1", "128.0.0.0/2", "192.0.0.0/3", "224.0.0.0/4"] })));
        const ssh = { enabled: true, allowedCidrs: ["128.0.0.0/1", "0.0.0.0/1"], authorizedKeys: [ed25519Line()] };
        failsAt(baseOptions({ environment: "dev", ssh }), "aws.ssh.allowedCidrs[1]", /never open/);
    });

    it("names the world-equivalent set in the posture as a world-open API", () => {
        const p = awsPosture(baseOptions({ environment: "dev", endpoint: "public", apiAllowedCidrs: ["0.0.0.0/1", "128.0.0.0/1"], allowWorldApiAccess: true }));
        const w = p.weakenings.find((x) => x.option === "aws.allowWorldApiAccess");
        assert.ok(w, JSON.stringify(p.weakenings));
        assert.match(w.effect, /any address/);
    });

    it("refuses IPv4 CIDRs with host bits set", () => {
        failsAt(baseOptions({ endpoint: "public", apiAllowedCidrs: ["198.51.100.7/24"] }), "aws.apiAllowedCidrs[0]", /198\.51\.100\.0\/24/);
        failsAt(baseOptions({ network: { vpcCidr: "10.0.0.1/16" } }), "aws.network.vpcCidr");
    });

    it("needs allowed CIDRs for a public endpoint", () => {
        failsAt(baseOptions({ endpoint: "public", apiAllowedCidrs: [] }), "aws.apiAllowedCidrs", /public endpoint/);
        failsAt(baseOptions({ apiAllowedCidrs: ["fd00::/64"] }), "aws.apiAllowedCidrs[0]", /IPv4/);
    });

    it("needs 3 or 5 etcd members in prod and staging; 1 only in dev with allowSingleEtcdMember", () => {
        failsAt(baseOptions({ controlPlane: { etcdMembers: 1 } }), "aws.controlPlane.etcdMembers", /prod needs 3 or 5/);
        failsAt(baseOptions({ environment: "staging", controlPlane: { etcdMembers: 1 } }), "aws.controlPlane.etcdMembers", /staging/);
        failsAt(baseOptions({ controlPlane: { etcdMembers: 2 } }), "aws.controlPlane.etcdMembers", /odd/);
        failsAt(baseOptions({ controlPlane: { etcdMembers: 7 } }), "aws.controlPlane.etcdMembers");
        failsAt(baseOptions({ environment: "dev", controlPlane: { etcdMembers: 1 } }), "aws.controlPlane.etcdMembers", /allowSingleEtcdMember/);
        failsAt(baseOptions({ environment: "staging", allowSingleEtcdMember: true }), "aws.allowSingleEtcdMember", /dev/);
        const r = resolveAwsOptions(baseOptions({ environment: "dev", controlPlane: { etcdMembers: 1 }, allowSingleEtcdMember: true }));
        assert.equal(r.controlPlane.etcdMembers, 1);
        assert.equal(resolveAwsOptions(baseOptions({ controlPlane: { etcdMembers: 5 } })).controlPlane.etcdMembers, 5);
    });

    it("accepts EC2 instance type names and refuses anything else, naming the setting", () => {
        for (const ok of ["m6i.large", "c7gn.16xlarge", "t4g.nano", "u-6tb1.metal", "m7i-flex.large", "c7i.metal-24xl", "x2iedn.32xlarge", "mac2-m2pro.metal"]) {
            assert.ok(isInstanceType(ok), ok);
        }
        for (const bad of ["m6i-large", "large", "m6i.huge", "M6I.LARGE", "m6i.large.x", "m6i.", ".large", "m.large", "m6i.0xlarge", 42]) {
            assert.ok(!isInstanceType(bad), String(bad));
        }
        failsAt(baseOptions({ controlPlane: { instanceType: "m6i-large" } }), "aws.controlPlane.instanceType", /"m6i-large".*instance type/);
        failsAt(baseOptions({ workers: { instanceType: "big.box" } }), "aws.workers.instanceType");
    });

    it("refuses an overlapping subnet plan, naming the later subnet and the one it overlaps", () => {
        const e = failsAt(baseOptions({ network: { privateSubnets: ["10.0.0.0/20", "10.0.8.0/21", "10.0.32.0/20"] } }), "aws.network.privateSubnets[1]", /overlaps aws\.network\.privateSubnets\[0\]/);
        assert.match(e.message, /"10\.0\.8\.0\/21"/);
        failsAt(baseOptions({ network: { publicSubnets: ["10.0.0.0/24", "10.0.240.0/24", "10.0.241.0/24"] } }), "aws.network.publicSubnets[0]", /overlaps aws\.network\.privateSubnets\[0\]/);
    });

    it("refuses subnets outside the VPC, a wrong count, and VPC prefixes AWS or the plan cannot use", () => {
        failsAt(baseOptions({ network: { privateSubnets: ["10.1.0.0/20", "10.0.16.0/20", "10.0.32.0/20"] } }), "aws.network.privateSubnets[0]", /inside the VPC/);
        failsAt(baseOptions({ network: { privateSubnets: ["10.0.0.0/20", "10.0.16.0/20"] } }), "aws.network.privateSubnets", /one subnet per AZ/);
        failsAt(baseOptions({ network: { vpcCidr: "10.0.0.0/8" } }), "aws.network.vpcCidr");
        failsAt(baseOptions({ network: { vpcCidr: "10.0.0.0/24" } }), "aws.network.vpcCidr");
        const r = resolveAwsOptions(baseOptions({ network: { vpcCidr: "172.20.0.0/22" } }));
        assert.deepEqual(r.privateSubnets, ["172.20.0.0/25", "172.20.0.128/25", "172.20.1.0/25"]);
        assert.deepEqual(r.publicSubnets, ["172.20.3.128/28", "172.20.3.144/28", "172.20.3.160/28"]);
    });

    it("rejects unknown keys at every level", () => {
        failsAt({ ...baseOptions(), endpiont: "private" }, "aws.endpiont", /known keys/);
        failsAt(baseOptions({ controlPlane: { etcdMember: 3 } as never }), "aws.controlPlane.etcdMember");
        failsAt(baseOptions({ ssh: { enable: true } as never }), "aws.ssh.enable");
    });

    it("checks names, region, zones, retention and worker counts", () => {
        failsAt(baseOptions({ clusterName: "Prod_1" }), "aws.clusterName");
        failsAt(baseOptions({ clusterName: "a-very-long-cluster-name" }), "aws.clusterName", /20/);
        failsAt(baseOptions({ region: "europe" }), "aws.region");
        failsAt(baseOptions({ availabilityZones: ["eu-west-1a", "eu-west-1b", "us-east-1a"] }), "aws.availabilityZones[2]");
        failsAt(baseOptions({ availabilityZones: ["eu-west-1a", "eu-west-1a", "eu-west-1b"] }), "aws.availabilityZones[1]");
        failsAt(baseOptions({ azCount: 2 }), "aws.azCount");
        failsAt(baseOptions({ logRetentionDays: 14 }), "aws.logRetentionDays", /at least 30/);
        failsAt(baseOptions({ logRetentionDays: 100 }), "aws.logRetentionDays");
        // AWS KMS's RotationPeriodInDays range is 90-2560.
        failsAt(baseOptions({ kmsKeyRotationDays: 89 }), "aws.kmsKeyRotationDays", /90 to 2560/);
        failsAt(baseOptions({ kmsKeyRotationDays: 2561 }), "aws.kmsKeyRotationDays", /90 to 2560/);
        failsAt(baseOptions({ kmsKeyRotationDays: 180.5 }), "aws.kmsKeyRotationDays");
        failsAt(baseOptions({ workers: { min: 4, max: 3 } }), "aws.workers.max");
        failsAt(baseOptions({ workers: { min: 1, max: 3, desired: 5 } }), "aws.workers.desired");
        failsAt(baseOptions({ ami: { id: "ami-123", ssmParameter: "/x" } }), "aws.ami");
        failsAt(baseOptions({ ami: { id: "ami-xyz" } }), "aws.ami.id");
        failsAt(baseOptions({ tags: { "aws:owner": "me" } }), "aws.tags.aws:owner");
        // The platform's own tags: the gates find the cluster's workers by them.
        failsAt(baseOptions({ tags: { "hardened-cluster/cluster": "other" } }), "aws.tags.hardened-cluster/cluster");
        failsAt(baseOptions({ tags: { "hardened-cluster/role": "worker" } }), "aws.tags.hardened-cluster/role");
        failsAt(baseOptions({ monitoring: { secretReaders: ["a\"b"] } }), "aws.monitoring.secretReaders[0]");
        failsAt(undefined, "aws");
    });

    it("uses the caller's config key as the root of every error path", () => {
        let caught: unknown;
        try {
            resolveAwsOptions(baseOptions({ controlPlane: { etcdMembers: 1 } }), "hardened-cluster:aws");
        } catch (e) {
            caught = e;
        }
        assert.ok(caught instanceof ConfigError);
        assert.equal(caught.key, "hardened-cluster:aws.controlPlane.etcdMembers");
    });

    describe("ssh", () => {
        const key = ed25519Line();

        it("is off by default and refuses settings that would do nothing while off", () => {
            failsAt(baseOptions({ ssh: { authorizedKeys: [key] } }), "aws.ssh.authorizedKeys", /ssh\.enabled/);
            failsAt(baseOptions({ ssh: { allowedCidrs: ["203.0.113.0/24"] } }), "aws.ssh.allowedCidrs");
        });

        it("when enabled, needs keys and CIDRs, and never 0.0.0.0/0", () => {
            failsAt(baseOptions({ ssh: { enabled: true, authorizedKeys: [key] } }), "aws.ssh.allowedCidrs");
            failsAt(baseOptions({ ssh: { enabled: true, allowedCidrs: ["203.0.113.0/24"] } }), "aws.ssh.authorizedKeys", /key-only/);
            failsAt(baseOptions({ environment: "dev", ssh: { enabled: true, allowedCidrs: ["0.0.0.0/0"], authorizedKeys: [key] } }), "aws.ssh.allowedCidrs[0]", /never open/);
            const r = resolveAwsOptions(baseOptions({ ssh: { enabled: true, allowedCidrs: ["203.0.113.0/24"], authorizedKeys: [key] } }));
            assert.deepEqual(r.ssh, { enabled: true, allowedCidrs: ["203.0.113.0/24"], authorizedKeys: [key] });
        });

        it("accepts only well-formed public keys: the right blob, RSA of 3072 bits or more, never a private key", () => {
            const at = (line: string) => baseOptions({ ssh: { enabled: true, allowedCidrs: ["203.0.113.0/24"], authorizedKeys: [line] } });
            assert.doesNotThrow(() => resolveAwsOptions(at(rsaLine(3072))));
            failsAt(at(rsaLine(2048)), "aws.ssh.authorizedKeys[0]", /3072/);
            failsAt(at(key.replace("ssh-ed25519", "ecdsa-sha2-nistp256")), "aws.ssh.authorizedKeys[0]", /does not match/);
            failsAt(at("ssh-dss AAAAB3NzaC1kc3MAAACBAP"), "aws.ssh.authorizedKeys[0]");
            failsAt(at("-----BEGIN OPENSSH PRIVATE KEY-----"), "aws.ssh.authorizedKeys[0]", /private key/);
        });
    });
});
