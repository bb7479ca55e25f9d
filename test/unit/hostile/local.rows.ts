// Hostile inputs for the local key family; run by hostile-input.spec.ts.
import type { HostileRow } from "./row";

const L = "hardened-cluster:local";
const user = (stateDir: unknown) => ({ local: { layout: "user", stateDir } });

export const rows: HostileRow[] = [
    { name: "stateDir: / (the whole machine)", config: user("/"), rejects: { key: `${L}.stateDir`, mentions: /cannot be \// } },
    { name: "stateDir: /tmp itself (world-writable)", config: user("/tmp"), rejects: { key: `${L}.stateDir`, mentions: /writable by group or others/ } },
    { name: "stateDir: /var/tmp, sticky and world-writable", config: user("/var/tmp"), rejects: { key: `${L}.stateDir`, mentions: /writable by group or others/ } },
    { name: "stateDir: a dotted path that normalises to /tmp", config: user("/var/../tmp/./"), rejects: { key: `${L}.stateDir`, mentions: /"\/var\/\.\.\/tmp\/\.\/"|\/tmp/ } },
    { name: "stateDir: a path that normalises to /", config: user("/etc/kubernetes/../.."), rejects: { key: `${L}.stateDir`, mentions: /cannot be \// } },
    { name: "stateDir: /etc, a directory that is not this stack's", config: user("/etc"), rejects: { key: `${L}.stateDir`, mentions: /not created by hardened-cluster/ } },
    { name: "stateDir: relative path", config: user("state"), rejects: { key: `${L}.stateDir`, mentions: /absolute path/ } },
    { name: "stateDir: control characters", config: user("/srv/hc\nx"), rejects: { key: `${L}.stateDir`, mentions: /absolute path/ } },
    { name: "stateDir: not a string", config: user(["/srv/hc"]), rejects: { key: `${L}.stateDir`, mentions: /absolute path/ } },
    { name: "stateDir with the system layout", config: { local: { layout: "system", stateDir: "/srv/hc" } }, rejects: { key: `${L}.stateDir`, mentions: /user layout only/ } },
    { name: "etcdUser: root", config: { local: { etcdUser: "root" } }, rejects: { key: `${L}.etcdUser`, mentions: /must not run as root/ } },
    { name: "etcdUser: not a user name", config: { local: { etcdUser: "etcd;rm -rf /" } }, rejects: { key: `${L}.etcdUser`, mentions: /system user name/ } },
    { name: "etcdUser: an option, not a name", config: { local: { etcdUser: "-o" } }, rejects: { key: `${L}.etcdUser`, mentions: /system user name/ } },
    { name: "layout: system without root", config: { local: { layout: "system" } }, isRoot: false, rejects: { key: `${L}.layout`, mentions: /needs root/ } },
    { name: "layout: unknown", config: { local: { layout: "host" } }, rejects: { key: `${L}.layout`, mentions: /auto, user, system/ } },
    { name: "ports: two processes on one port", config: { local: { ports: { apiServer: 2379 } } }, rejects: { key: `${L}.ports.etcdClient`, mentions: /differ/ } },
    { name: "ports: 0", config: { local: { ports: { scheduler: 0 } } }, rejects: { key: `${L}.ports.scheduler` } },
    { name: "ports: above 65535", config: { local: { ports: { apiServer: 70000 } } }, rejects: { key: `${L}.ports.apiServer` } },
    { name: "ports: a string", config: { local: { ports: { etcdPeer: "2380; true" } } }, rejects: { key: `${L}.ports.etcdPeer` } },
    { name: "ports: the kubelet (no kubelet runs here)", config: { local: { ports: { kubelet: 10250 } } }, rejects: { key: `${L}.ports.kubelet` } },
    { name: "purgeOnDestroy: a string", config: { local: { purgeOnDestroy: "yes" } }, rejects: { key: `${L}.purgeOnDestroy`, mentions: /true or false/ } },
    { name: "unknown key (a typo of stateDir)", config: { local: { statedir: "/srv/hc" } }, rejects: { key: `${L}.statedir` } },
];
