// kube-bench finds a control plane's files through lists of well-known paths (static-pod manifests, snap
// args, RKE2 files). A local control plane has none of those, so the platform writes a kube-bench config
// whose lists name its real files: the per-component args files, kubeconfigs and etcd data directory.
// The CIS checks themselves (cfg/cis-1.12/*.yaml) are used unchanged.

export interface KubeBenchTargets {
    apiServerArgs: string;
    controllerManagerArgs: string;
    controllerManagerKubeconfig: string;
    schedulerArgs: string;
    schedulerKubeconfig: string;
    etcdArgs: string;
    etcdDataDir: string;
}

type Section = Record<string, unknown>;

/** The stock config.yaml (parsed) with the master and etcd component paths pointed at our files. */
export function kubeBenchConfig(stock: Record<string, unknown>, t: KubeBenchTargets): Record<string, unknown> {
    const master = { ...(stock.master as Section) };
    const point = (section: Section | undefined, conf: string, kubeconfig?: string): Section => ({
        ...(section ?? {}),
        confs: [conf],
        defaultconf: conf,
        ...(kubeconfig ? { kubeconfig: [kubeconfig], defaultkubeconfig: kubeconfig } : {}),
    });
    master.apiserver = point(master.apiserver as Section, t.apiServerArgs);
    master.controllermanager = point(master.controllermanager as Section, t.controllerManagerArgs, t.controllerManagerKubeconfig);
    master.scheduler = point(master.scheduler as Section, t.schedulerArgs, t.schedulerKubeconfig);
    const etcdPaths = (section: Section | undefined): Section => ({
        ...point(section, t.etcdArgs),
        datadirs: [t.etcdDataDir],
        defaultdatadir: t.etcdDataDir,
    });
    master.etcd = etcdPaths(master.etcd as Section);
    return { ...stock, master, etcd: { ...(stock.etcd as Section), etcd: etcdPaths((stock.etcd as Section | undefined)?.etcd as Section) } };
}

export interface KubeBenchCheck {
    id: string;
    text: string;
    status: "PASS" | "FAIL" | "WARN" | "INFO";
    scored: boolean;
    reason?: string;
    actual?: string;
}

/** The checks of a `kube-bench --json` report (its Controls[].tests[].results[]). */
export function kubeBenchChecks(report: unknown): KubeBenchCheck[] {
    const controls = (report as { Controls?: unknown[] }).Controls ?? [];
    const out: KubeBenchCheck[] = [];
    for (const control of controls as { tests?: { results?: Record<string, unknown>[] }[] }[]) {
        for (const group of control.tests ?? []) {
            for (const r of group.results ?? []) {
                out.push({
                    id: String(r.test_number),
                    text: String(r.test_desc),
                    status: r.status as KubeBenchCheck["status"],
                    scored: Boolean(r.scored),
                    reason: r.reason ? String(r.reason) : undefined,
                    actual: r.actual_value ? String(r.actual_value) : undefined,
                });
            }
        }
    }
    return out;
}
