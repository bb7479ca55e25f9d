// Control-plane flags: the CIS Kubernetes 1.12 automated (scored) checks of sections 1.2-1.4 and 2 that look
// only at a process's command line, judged on the argv a program gives the process. The pack sees argv where
// it is a resource input: the local platform's LocalProcess (`name`, `args`). File checks (1.1.x: modes,
// owners) and manual checks need the machine and are left to kube-bench.
import { cis, arr, goBool, isObj, resourceRule } from "./common";

type Flags = Map<string, string>;
type Test = (f: Flags) => string | undefined;

/** --flag=value and --flag value; a bare --flag is "true", as the binaries' flag library reads it. */
export function parseFlags(argv: unknown[]): Flags {
    const flags: Flags = new Map();
    const a = argv.filter((x): x is string => typeof x === "string");
    for (let i = 0; i < a.length; i++) {
        const m = /^--?([^=]+)(?:=(.*))?$/s.exec(a[i]);
        if (!m) continue;
        if (m[2] !== undefined) flags.set(m[1], m[2]);
        else if (i + 1 < a.length && !a[i + 1].startsWith("-")) flags.set(m[1], a[++i]);
        else flags.set(m[1], "true");
    }
    return flags;
}

const list = (f: Flags, k: string) => (f.get(k) ?? "").split(",").map((s) => s.trim()).filter(Boolean);
const set = (...ks: string[]): Test => (f) => { const miss = ks.filter((k) => !f.get(k)); return miss.length ? `${miss.map((k) => `--${k}`).join(", ")} not set` : undefined; };
const unset = (k: string): Test => (f) => (f.has(k) ? `--${k} is set` : undefined);
const isBool = (k: string, want: boolean, absentOk: boolean): Test => (f) => {
    if (!f.has(k)) return absentOk ? undefined : `--${k} not set (want ${want})`;
    return goBool(f.get(k)) === want ? undefined : `--${k}=${f.get(k)} (want ${want})`;
};
const atLeast = (k: string, n: number): Test => (f) => (Number(f.get(k)) >= n ? undefined : `--${k}=${f.get(k) ?? "(not set)"} (want >= ${n})`);
const includes = (k: string, v: string): Test => (f) => (list(f, k).includes(v) ? undefined : `--${k} does not include ${v}`);
const excludes = (k: string, v: string): Test => (f) => (list(f, k).includes(v) ? `--${k} includes ${v}` : undefined);
const loopbackBind: Test = (f) => (!f.has("bind-address") || f.get("bind-address") === "127.0.0.1" ? undefined : `--bind-address=${f.get("bind-address")} (want 127.0.0.1)`);
const rotateServerCerts: Test = (f) => {
    const gate = list(f, "feature-gates").map((g) => g.split("=")).find(([k]) => k === "RotateKubeletServerCertificate");
    return gate && goBool(gate[1]) === false ? "feature gate RotateKubeletServerCertificate is off" : undefined;
};

export interface CisCheck { id: string; component: string; flags: string[]; text: string; test: Test }

const api = "kube-apiserver", cm = "kube-controller-manager", sched = "kube-scheduler", etcd = "etcd";
export const CIS_FLAG_CHECKS: CisCheck[] = [
    { id: "1.2.2", component: api, flags: ["token-auth-file"], text: "--token-auth-file is not set", test: unset("token-auth-file") },
    { id: "1.2.4", component: api, flags: ["kubelet-client-certificate", "kubelet-client-key"], text: "kubelet client certificate and key are set", test: set("kubelet-client-certificate", "kubelet-client-key") },
    { id: "1.2.5", component: api, flags: ["kubelet-certificate-authority"], text: "--kubelet-certificate-authority is set", test: set("kubelet-certificate-authority") },
    { id: "1.2.6", component: api, flags: ["authorization-mode"], text: "--authorization-mode is not AlwaysAllow", test: (f) => (f.has("authorization-mode") ? excludes("authorization-mode", "AlwaysAllow")(f) : "--authorization-mode not set") },
    { id: "1.2.7", component: api, flags: ["authorization-mode"], text: "--authorization-mode includes Node", test: includes("authorization-mode", "Node") },
    { id: "1.2.8", component: api, flags: ["authorization-mode"], text: "--authorization-mode includes RBAC", test: includes("authorization-mode", "RBAC") },
    { id: "1.2.10", component: api, flags: ["enable-admission-plugins"], text: "admission plugin AlwaysAdmit is not set", test: excludes("enable-admission-plugins", "AlwaysAdmit") },
    { id: "1.2.12", component: api, flags: ["disable-admission-plugins"], text: "admission plugin ServiceAccount is not disabled", test: excludes("disable-admission-plugins", "ServiceAccount") },
    { id: "1.2.13", component: api, flags: ["disable-admission-plugins"], text: "admission plugin NamespaceLifecycle is not disabled", test: excludes("disable-admission-plugins", "NamespaceLifecycle") },
    { id: "1.2.14", component: api, flags: ["enable-admission-plugins"], text: "admission plugin NodeRestriction is set", test: includes("enable-admission-plugins", "NodeRestriction") },
    { id: "1.2.15", component: api, flags: ["profiling"], text: "--profiling=false", test: isBool("profiling", false, false) },
    { id: "1.2.16", component: api, flags: ["audit-log-path"], text: "--audit-log-path is set", test: set("audit-log-path") },
    { id: "1.2.17", component: api, flags: ["audit-log-maxage"], text: "--audit-log-maxage >= 30", test: atLeast("audit-log-maxage", 30) },
    { id: "1.2.18", component: api, flags: ["audit-log-maxbackup"], text: "--audit-log-maxbackup >= 10", test: atLeast("audit-log-maxbackup", 10) },
    { id: "1.2.19", component: api, flags: ["audit-log-maxsize"], text: "--audit-log-maxsize >= 100", test: atLeast("audit-log-maxsize", 100) },
    { id: "1.2.21", component: api, flags: ["service-account-lookup"], text: "--service-account-lookup is true (the default)", test: isBool("service-account-lookup", true, true) },
    { id: "1.2.22", component: api, flags: ["service-account-key-file"], text: "--service-account-key-file is set", test: set("service-account-key-file") },
    { id: "1.2.23", component: api, flags: ["etcd-certfile", "etcd-keyfile"], text: "--etcd-certfile and --etcd-keyfile are set", test: set("etcd-certfile", "etcd-keyfile") },
    { id: "1.2.24", component: api, flags: ["tls-cert-file", "tls-private-key-file"], text: "--tls-cert-file and --tls-private-key-file are set", test: set("tls-cert-file", "tls-private-key-file") },
    { id: "1.2.25", component: api, flags: ["client-ca-file"], text: "--client-ca-file is set", test: set("client-ca-file") },
    { id: "1.2.26", component: api, flags: ["etcd-cafile"], text: "--etcd-cafile is set", test: set("etcd-cafile") },
    { id: "1.2.30", component: api, flags: ["service-account-extend-token-expiration"], text: "--service-account-extend-token-expiration=false", test: isBool("service-account-extend-token-expiration", false, false) },
    { id: "1.3.2", component: cm, flags: ["profiling"], text: "--profiling=false", test: isBool("profiling", false, false) },
    { id: "1.3.3", component: cm, flags: ["use-service-account-credentials"], text: "--use-service-account-credentials=true", test: isBool("use-service-account-credentials", true, false) },
    { id: "1.3.4", component: cm, flags: ["service-account-private-key-file"], text: "--service-account-private-key-file is set", test: set("service-account-private-key-file") },
    { id: "1.3.5", component: cm, flags: ["root-ca-file"], text: "--root-ca-file is set", test: set("root-ca-file") },
    { id: "1.3.6", component: cm, flags: ["feature-gates"], text: "RotateKubeletServerCertificate is not turned off", test: rotateServerCerts },
    { id: "1.3.7", component: cm, flags: ["bind-address"], text: "--bind-address is 127.0.0.1", test: loopbackBind },
    { id: "1.4.1", component: sched, flags: ["profiling"], text: "--profiling=false", test: isBool("profiling", false, false) },
    { id: "1.4.2", component: sched, flags: ["bind-address"], text: "--bind-address is 127.0.0.1", test: loopbackBind },
    { id: "2.1", component: etcd, flags: ["cert-file", "key-file"], text: "--cert-file and --key-file are set", test: set("cert-file", "key-file") },
    { id: "2.2", component: etcd, flags: ["client-cert-auth"], text: "--client-cert-auth=true", test: isBool("client-cert-auth", true, false) },
    { id: "2.3", component: etcd, flags: ["auto-tls"], text: "--auto-tls is not true", test: (f) => (goBool(f.get("auto-tls")) === true ? "--auto-tls=true" : undefined) },
    { id: "2.4", component: etcd, flags: ["peer-cert-file", "peer-key-file"], text: "--peer-cert-file and --peer-key-file are set", test: set("peer-cert-file", "peer-key-file") },
    { id: "2.5", component: etcd, flags: ["peer-client-cert-auth"], text: "--peer-client-cert-auth=true", test: isBool("peer-client-cert-auth", true, false) },
    { id: "2.6", component: etcd, flags: ["peer-auto-tls"], text: "--peer-auto-tls is not true", test: (f) => (goBool(f.get("peer-auto-tls")) === true ? "--peer-auto-tls=true" : undefined) },
];

/** The control-plane component a resource runs, and its argv, when the pack can see them. */
export function processOf(type: string, props: Record<string, any>): { component: string; argv: unknown[] } | undefined {
    if (type !== "pulumi-nodejs:dynamic/hardened-cluster:LocalProcess" || !isObj(props)) return undefined;
    const component = typeof props.name === "string" ? props.name : undefined;
    if (!component || ![api, cm, sched, etcd].includes(component)) return undefined;
    return { component, argv: arr(props.args) };
}

export const controlPlaneRules = CIS_FLAG_CHECKS.map((c) => resourceRule({
    name: `cis-${c.id}-${c.component}`,
    description: `CIS 1.12 ${c.id} (${c.component}): ${c.text}.`,
    severity: "high",
    framework: cis(c.id, c.text),
    remediation: `Give ${c.component} ${c.text} (hardened-cluster's control-plane component renders it; a weakening under controlPlane.*.extraArgs is what breaks it).`,
}, (args, report) => {
    const p = processOf(args.type, args.props);
    if (!p || p.component !== c.component) return;
    const why = c.test(parseFlags(p.argv));
    if (why) report(`${c.component}: ${why} (CIS ${c.id})`);
}));
