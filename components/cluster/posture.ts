// The cluster's posture, built once from the resolved settings: the same settings give the same posture on
// every platform. What only a platform decides (its name, endpoint, members and its own options) sits apart
// under `platform`, so a reviewer comparing two stacks sees setting differences, not placement differences.
import { auditPosture, AuditPosture } from "../audit";
import { ControlPlanePosture } from "../control-plane";
import { encryptionPosture, EncryptionPosture } from "../encryption";
import { pkiPosture, PkiPosture } from "../pki";
import { ResolvedCluster } from "./resolve";

export interface ClusterPosture {
    platform: { name: string; endpoint: string; members: string[] } & Record<string, unknown>;
    controlPlane: Omit<ControlPlanePosture, "etcd"> & { etcd: Omit<ControlPlanePosture["etcd"], "members"> };
    encryption: EncryptionPosture;
    audit: AuditPosture;
    pki: PkiPosture;
}

export function clusterPosture(r: ResolvedCluster): ClusterPosture {
    const { etcd, ...controlPlane } = r.nodes[0].controlPlane.posture;
    const { members, ...etcdPosture } = etcd;
    return {
        platform: { name: r.facts.platform, endpoint: r.facts.serverUrl, members },
        controlPlane: { ...controlPlane, etcd: etcdPosture },
        encryption: encryptionPosture(r.encryption, r.keys.encryption, r.facts.encryption.kmsEndpoint),
        audit: auditPosture(r.audit, r.keys.audit),
        pki: pkiPosture(r.pki, r.keys.pki),
    };
}
