// The rewrite inside a rotation: every object of every covered resource read and written back unchanged, so
// the apiserver stores it again under the file's first key. An unchanged update reaches etcd only when the
// stored value was read with another key (the apiserver marks it stale), so objects already under the new
// key cost one request and no write. Paged lists, conflict retries and a checkpoint after each page make it
// resumable: a killed rewrite continues from its last page, and a list whose continue token expired starts
// that resource again (cheap, for the reason above). Platform-neutral: the caller supplies the HTTP call.

export interface ApiResponse {
    status: number;
    text: string;
}
export type ApiCall = (method: string, path: string, body?: unknown) => Promise<ApiResponse>;

/** A resource the rewrite lists and updates, as discovery describes it. */
export interface CoveredResource {
    /** "secrets", "deployments.apps": the form the EncryptionConfiguration uses. */
    id: string;
    /** "/api/v1" or "/apis/<group>/<version>". */
    base: string;
    resource: string;
    apiVersion: string;
    kind: string;
    namespaced: boolean;
}

interface DiscoveredResource {
    name: string;
    kind: string;
    namespaced: boolean;
    verbs?: string[];
}

function matches(pattern: string, resource: string, group: string): boolean {
    if (pattern === "*.*") return true;
    const dot = pattern.indexOf(".");
    const [r, g] = dot < 0 ? [pattern, ""] : [pattern.slice(0, dot), pattern.slice(dot + 1)];
    return g === group && (r === "*" || r === resource);
}

async function getJson(api: ApiCall, path: string): Promise<any> {
    const res = await api("GET", path);
    if (res.status !== 200) throw new Error(`GET ${path}: HTTP ${res.status} ${res.text.slice(0, 200)}`);
    return JSON.parse(res.text);
}

/** The served resources the patterns cover (preferred version of each group), each once, secrets first. */
export async function coveredResources(api: ApiCall, patterns: readonly string[]): Promise<CoveredResource[]> {
    const groups: { base: string; group: string; apiVersion: string }[] = [{ base: "/api/v1", group: "", apiVersion: "v1" }];
    if (patterns.some((p) => p.includes("."))) {
        const list = await getJson(api, "/apis");
        for (const g of list.groups ?? []) {
            const gv = g.preferredVersion?.groupVersion as string | undefined;
            if (gv && patterns.some((p) => p === "*.*" || p.endsWith(`.${g.name}`))) groups.push({ base: `/apis/${gv}`, group: g.name, apiVersion: gv });
        }
    }
    const out: CoveredResource[] = [];
    for (const g of groups) {
        const doc = await getJson(api, g.base);
        for (const r of (doc.resources ?? []) as DiscoveredResource[]) {
            if (r.name.includes("/") || !r.verbs?.includes("list") || !r.verbs.includes("update")) continue;
            if (!patterns.some((p) => matches(p, r.name, g.group))) continue;
            out.push({ id: g.group ? `${r.name}.${g.group}` : r.name, base: g.base, resource: r.name, apiVersion: g.apiVersion, kind: r.kind, namespaced: r.namespaced });
        }
    }
    const seen = new Set<string>();
    return out.filter((r) => !seen.has(r.id) && !!seen.add(r.id)).sort((a, b) => Number(b.id === "secrets") - Number(a.id === "secrets"));
}

/** Where a rewrite stands: written after every page, so a killed one resumes there. */
export interface RewriteCheckpoint {
    /** The key the rewrite moves objects to ("<provider>:<name>"); a checkpoint for another key is not resumed. */
    writer: string;
    done: string[];
    current?: { resource: string; continue?: string };
    /** Objects written back so far, over every resource and every attempt. */
    processed: number;
}

export interface RewriteOptions {
    writer: string;
    resources: readonly CoveredResource[];
    checkpoint?: RewriteCheckpoint;
    save(c: RewriteCheckpoint): void;
    pageSize?: number;
    /** Updates in flight at once. */
    concurrency?: number;
    /** Tries per object when it keeps changing under the rewrite (409 Conflict). */
    conflictTries?: number;
}

export interface RewriteResult {
    /** Objects written back in this run. */
    rewritten: number;
    /** Objects that disappeared between the list and their update. */
    gone: number;
    conflicts: number;
    /** Lists started again because their continue token expired. */
    restarts: number;
    /** Where this run began: the checkpoint's count, 0 when it started afresh. */
    resumedAt: number;
    checkpoint: RewriteCheckpoint;
}

function objectPath(r: CoveredResource, meta: { name: string; namespace?: string }): string {
    const ns = r.namespaced && meta.namespace ? `/namespaces/${encodeURIComponent(meta.namespace)}` : "";
    return `${r.base}${ns}/${r.resource}/${encodeURIComponent(meta.name)}`;
}

/** Writes every object of every resource back; see the file comment. */
export async function rewriteAll(api: ApiCall, o: RewriteOptions): Promise<RewriteResult> {
    const resumed = o.checkpoint && o.checkpoint.writer === o.writer ? o.checkpoint : undefined;
    const cp: RewriteCheckpoint = resumed ? { ...resumed, done: [...resumed.done] } : { writer: o.writer, done: [], processed: 0 };
    const result: RewriteResult = { rewritten: 0, gone: 0, conflicts: 0, restarts: 0, resumedAt: cp.processed, checkpoint: cp };
    const limit = o.pageSize ?? 500;
    const tries = o.conflictTries ?? 5;

    const writeBack = async (r: CoveredResource, item: any): Promise<void> => {
        const p = objectPath(r, item.metadata);
        let obj = { ...item, apiVersion: r.apiVersion, kind: r.kind };
        for (let attempt = 1; ; attempt++) {
            const res = await api("PUT", p, obj);
            if (res.status === 200 || res.status === 201) {
                result.rewritten++;
                return;
            }
            if (res.status === 404) {
                result.gone++;
                return;
            }
            if (res.status !== 409 || attempt >= tries) throw new Error(`PUT ${p}: HTTP ${res.status} ${res.text.slice(0, 300)}`);
            result.conflicts++;
            // Changed since the list: write back what is there now.
            const fresh = await api("GET", p);
            if (fresh.status === 404) {
                result.gone++;
                return;
            }
            if (fresh.status !== 200) throw new Error(`GET ${p}: HTTP ${fresh.status} ${fresh.text.slice(0, 300)}`);
            obj = { ...JSON.parse(fresh.text), apiVersion: r.apiVersion, kind: r.kind };
        }
    };

    for (const r of o.resources) {
        if (cp.done.includes(r.id)) continue;
        let token = cp.current?.resource === r.id ? cp.current.continue : undefined;
        for (;;) {
            const q = `?limit=${limit}${token ? `&continue=${encodeURIComponent(token)}` : ""}`;
            const res = await api("GET", `${r.base}/${r.resource}${q}`);
            if (res.status === 410) {
                // The token's revision was compacted away: list this resource again from its start.
                result.restarts++;
                token = undefined;
                continue;
            }
            if (res.status !== 200) throw new Error(`listing ${r.id}: HTTP ${res.status} ${res.text.slice(0, 300)}`);
            const page = JSON.parse(res.text);
            const items: any[] = page.items ?? [];
            const workers = Math.max(1, Math.min(o.concurrency ?? 16, items.length));
            let next = 0;
            await Promise.all(Array.from({ length: workers }, async () => {
                while (next < items.length) await writeBack(r, items[next++]);
            }));
            cp.processed += items.length;
            token = page.metadata?.continue || undefined;
            cp.current = token ? { resource: r.id, continue: token } : undefined;
            if (!token) cp.done.push(r.id);
            o.save(cp);
            if (!token) break;
        }
    }
    return result;
}
