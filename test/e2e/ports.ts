// Every e2e spec and benchmark that starts a control plane takes its ports from this one table, so two of them
// never share a port and none sits in Linux's ephemeral range (net.ipv4.ip_local_port_range, 32768-60999 by
// default). There, a client socket's source port or a plugin's gRPC listener (Pulumi binds port 0) can take a
// control-plane port first: kube-controller-manager then fails to bind, or a health check meets plain gRPC.

export type ControlPlanePorts = {
    apiServer: number;
    etcdClient: number;
    etcdPeer: number;
    controllerManager: number;
    scheduler: number;
};

/** A block of ports that share their leading digits `nn`: nn443, nn379, nn380, nn257, nn259. */
export function portBlock(nn: number): ControlPlanePorts {
    const base = nn * 1000;
    return { apiServer: base + 443, etcdClient: base + 379, etcdPeer: base + 380, controllerManager: base + 257, scheduler: base + 259 };
}

/**
 * The second node of a two-control-plane topology takes the next port up for its controller-manager and
 * scheduler (they share 127.0.0.1), so a block reserves nn258 and nn260 too.
 */
export const E2E_PORTS = {
    localPlatform: portBlock(20),
    composition: portBlock(21),
    package: portBlock(22),
    yamlPackage: portBlock(23),
    escalation: portBlock(24),
    supervision: portBlock(25),
    ha: portBlock(26),
    auditWebhook: portBlock(27),
    backupSingle: portBlock(28),
    backup: portBlock(29),
    bench: portBlock(30),
    encryptionRotation: portBlock(31),
    encryptionKms: portBlock(19),
    serviceAccountRotation: portBlock(18),
    caRotation: portBlock(17),
    /** Three bare etcd members (client nn379 + 10 i, peer nn380 + 10 i), a restored one on nn257, moto on nn443 and nn259. */
    awsBackup: portBlock(16),
    /** A control plane with one local worker node. */
    localWorker: portBlock(14),
    /** moto on nn443; cp-0's API server, relayed out of its node's network namespace, on nn379. */
    awsBoot: portBlock(15),
} as const;
