// etcd flags for one member. Client and peer traffic both use mutual TLS from the etcd CA, which is not
// the cluster CA (CIS 2.7): a certificate for the API can then never open the datastore.
import { pkiFiles, pkiPair } from "../common";
import { FlagMap } from "./flags";
import { hostPort, ResolvedEtcdMember } from "./network";
import { ResolvedControlPlane } from "./resolve";
import { etcdTlsFlags } from "./tls";

export function etcdMemberFlags(r: ResolvedControlPlane, member: ResolvedEtcdMember): FlagMap {
    const { layout, network: n } = r;
    const ca = pkiPair(layout, pkiFiles.etcdCa, true);
    const server = pkiPair(layout, pkiFiles.etcdServer, true);
    const peer = pkiPair(layout, pkiFiles.etcdPeer, true);
    const client = `https://${hostPort(member.ip, n.etcdClientPort)}`;
    const peerUrl = `https://${hostPort(member.ip, n.etcdPeerPort)}`;
    // Local clients (the API server on the same host, etcdctl) reach it on loopback as well, unless the member
    // already lives on a loopback address: several test members on 127.0.0.x would then fight over 127.0.0.1.
    const onLoopback = member.ip.startsWith("127.") || member.ip === "::1";
    const listenClient = onLoopback ? [client] : [`https://${hostPort("127.0.0.1", n.etcdClientPort)}`, client];
    return {
        name: member.name,
        "data-dir": member.dataDir ?? layout.etcdDataDir,
        "listen-client-urls": listenClient.join(","),
        "advertise-client-urls": client,
        "listen-peer-urls": peerUrl,
        "initial-advertise-peer-urls": peerUrl,
        "initial-cluster": n.etcdMembers.map((m) => `${m.name}=https://${hostPort(m.ip, n.etcdPeerPort)}`).join(","),
        "initial-cluster-state": r.etcd.initialClusterState,
        "initial-cluster-token": r.etcd.initialClusterToken,

        "cert-file": server.cert,
        "key-file": server.key,
        "client-cert-auth": "true",
        "trusted-ca-file": ca.cert,
        "auto-tls": "false",
        "peer-cert-file": peer.cert,
        "peer-key-file": peer.key,
        "peer-client-cert-auth": "true",
        "peer-trusted-ca-file": ca.cert,
        "peer-auto-tls": "false",
        ...etcdTlsFlags(r.tls),
        "enable-pprof": String(r.weakenings.profiling),
        ...r.extraArgs.etcd,
    };
}
