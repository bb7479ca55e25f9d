// A test-only interpreter for the small CEL subset the admission policy generator emits, so the generated
// expressions themselves (not a hand-written twin) run against sample objects. It follows CEL's semantics
// where they differ from JavaScript: list `+` concatenates, `in` tests membership, has() tests a field's
// presence without reading it, a missing field is an error, and `||`/`&&` absorb an error on one side when
// the other side decides. Anything outside the subset is a parse error, so a generator change that outgrows
// this interpreter fails loudly instead of being misread.
import { isDeepStrictEqual } from "node:util";
import type { ValidatingAdmissionPolicyObject } from "../../../components/cluster-baseline";

type Node =
    | { k: "lit"; v: unknown }
    | { k: "id"; name: string }
    | { k: "list"; items: Node[] }
    | { k: "sel"; on: Node; field: string }
    | { k: "idx"; on: Node; at: Node }
    | { k: "call"; fn: string; on?: Node; args: Node[] }
    | { k: "not"; x: Node }
    | { k: "bin"; op: string; l: Node; r: Node }
    | { k: "cond"; c: Node; t: Node; f: Node };

const TOKEN = /\s*(?:('(?:[^'\\]|\\.)*')|(\d+)|([A-Za-z_]\w*)|(==|!=|\|\||&&|[()[\].,?:!+]))/y;

function tokenize(src: string): string[] {
    const out: string[] = [];
    TOKEN.lastIndex = 0;
    while (TOKEN.lastIndex < src.length) {
        if (/^\s*$/.test(src.slice(TOKEN.lastIndex))) break;
        const m = TOKEN.exec(src);
        if (!m) throw new Error(`cel-subset: cannot read ${JSON.stringify(src.slice(TOKEN.lastIndex))}`);
        out.push(m[1] ?? m[2] ?? m[3] ?? m[4]);
    }
    return out;
}

function parse(src: string): Node {
    const t = tokenize(src);
    let i = 0;
    const peek = () => t[i];
    const take = (want?: string) => {
        const tok = t[i++];
        if (want !== undefined && tok !== want) throw new Error(`cel-subset: expected ${want}, got ${tok} in ${src}`);
        return tok;
    };
    const args = (close: string): Node[] => {
        const out: Node[] = [];
        while (peek() !== close) {
            out.push(cond());
            if (peek() === ",") take(",");
        }
        take(close);
        return out;
    };
    const primary = (): Node => {
        const tok = take();
        if (tok === "(") {
            const e = cond();
            take(")");
            return e;
        }
        if (tok === "[") return { k: "list", items: args("]") };
        if (tok.startsWith("'")) return { k: "lit", v: tok.slice(1, -1).replace(/\\(.)/g, "$1") };
        if (/^\d+$/.test(tok)) return { k: "lit", v: Number(tok) };
        if (tok === "true" || tok === "false") return { k: "lit", v: tok === "true" };
        if (tok === "null") return { k: "lit", v: null };
        if (/^[A-Za-z_]/.test(tok)) {
            if (peek() === "(") return take("("), { k: "call", fn: tok, args: args(")") };
            return { k: "id", name: tok };
        }
        throw new Error(`cel-subset: unexpected ${tok} in ${src}`);
    };
    const member = (): Node => {
        let e = primary();
        for (;;) {
            if (peek() === ".") {
                take(".");
                const name = take();
                e = peek() === "(" ? (take("("), { k: "call", fn: name, on: e, args: args(")") }) : { k: "sel", on: e, field: name };
            } else if (peek() === "[") {
                take("[");
                e = { k: "idx", on: e, at: cond() };
                take("]");
            } else return e;
        }
    };
    const unary = (): Node => (peek() === "!" ? (take("!"), { k: "not", x: unary() }) : member());
    const level = (ops: string[], next: () => Node) => (): Node => {
        let e = next();
        while (ops.includes(peek())) e = { k: "bin", op: take(), l: e, r: next() };
        return e;
    };
    const add = level(["+"], unary);
    const rel = level(["==", "!=", "in"], add);
    const and = level(["&&"], rel);
    const or = level(["||"], and);
    function cond(): Node {
        const c = or();
        if (peek() !== "?") return c;
        take("?");
        const tr = cond();
        take(":");
        return { k: "cond", c, t: tr, f: cond() };
    }
    const e = cond();
    if (i !== t.length) throw new Error(`cel-subset: trailing ${t.slice(i).join(" ")} in ${src}`);
    return e;
}

type Scope = Record<string, unknown>;

function field(on: unknown, name: string): unknown {
    if (typeof on !== "object" || on === null || !(name in on)) throw new Error(`no such key: ${name}`);
    return (on as Record<string, unknown>)[name];
}

function evalNode(n: Node, s: Scope): unknown {
    switch (n.k) {
        case "lit":
            return n.v;
        case "id":
            if (!(n.name in s)) throw new Error(`undeclared reference to ${n.name}`);
            return s[n.name];
        case "list":
            return n.items.map((x) => evalNode(x, s));
        case "sel":
            return field(evalNode(n.on, s), n.field);
        case "idx": {
            const list = evalNode(n.on, s) as unknown[];
            const at = evalNode(n.at, s) as number;
            if (typeof at === "string") return field(list, at);
            if (!Array.isArray(list) || at >= list.length) throw new Error("index out of range");
            return list[at];
        }
        case "not":
            return !bool(evalNode(n.x, s));
        case "cond":
            return bool(evalNode(n.c, s)) ? evalNode(n.t, s) : evalNode(n.f, s);
        case "bin":
            return binary(n.op, n.l, n.r, s);
        case "call":
            return call(n, s);
    }
}

function bool(v: unknown): boolean {
    if (typeof v !== "boolean") throw new Error(`no such overload: ${typeof v} as bool`);
    return v;
}

function attempt(n: Node, s: Scope): { v?: boolean; err?: unknown } {
    try {
        return { v: bool(evalNode(n, s)) };
    } catch (err) {
        return { err };
    }
}

function binary(op: string, l: Node, r: Node, s: Scope): unknown {
    if (op === "||" || op === "&&") {
        const decides = op === "||";
        const a = attempt(l, s);
        if (a.v === decides) return decides;
        const b = attempt(r, s);
        if (b.v === decides) return decides;
        if (a.err !== undefined) throw a.err;
        if (b.err !== undefined) throw b.err;
        return !decides;
    }
    const [a, b] = [evalNode(l, s), evalNode(r, s)];
    switch (op) {
        // CEL compares lists and maps by value.
        case "==":
            return isDeepStrictEqual(a, b);
        case "!=":
            return !isDeepStrictEqual(a, b);
        case "in":
            if (typeof b === "object" && b !== null && !Array.isArray(b)) return a as string in b;
            if (!Array.isArray(b)) throw new Error("no such overload: in");
            return b.includes(a);
        case "+":
            if (Array.isArray(a) && Array.isArray(b)) return [...a, ...b];
            if (typeof a === "string" && typeof b === "string") return a + b;
            throw new Error("no such overload: +");
    }
    throw new Error(`cel-subset: operator ${op}`);
}

function call(n: Extract<Node, { k: "call" }>, s: Scope): unknown {
    if (n.on === undefined) {
        if (n.fn !== "has" || n.args.length !== 1 || n.args[0].k !== "sel") throw new Error(`cel-subset: function ${n.fn}`);
        const sel = n.args[0];
        const on = evalNode(sel.on, s);
        return typeof on === "object" && on !== null && sel.field in on;
    }
    const onValue = evalNode(n.on, s);
    if (["map", "all", "filter", "exists"].includes(n.fn)) {
        const [v, body] = n.args;
        // Comprehensions over a map range over its keys, as in CEL.
        const recv = typeof onValue === "object" && onValue !== null && !Array.isArray(onValue) ? Object.keys(onValue) : onValue;
        if (v.k !== "id" || !Array.isArray(recv)) throw new Error(`cel-subset: bad ${n.fn}`);
        const run = (x: unknown) => evalNode(body, { ...s, [v.name]: x });
        if (n.fn === "map") return recv.map(run);
        if (n.fn === "filter") return recv.filter((x) => bool(run(x)));
        if (n.fn === "exists") return recv.some((x) => bool(run(x)));
        return recv.every((x) => bool(run(x)));
    }
    const recv = onValue;
    const [arg] = n.args.map((a) => evalNode(a, s));
    if (n.fn === "matches" && typeof recv === "string") return new RegExp(arg as string).test(recv);
    if (n.fn === "split" && typeof recv === "string") return recv.split(arg as string);
    if (n.fn === "startsWith" && typeof recv === "string") return recv.startsWith(arg as string);
    if (n.fn === "join" && Array.isArray(recv)) return recv.join(arg as string);
    throw new Error(`cel-subset: method ${n.fn}`);
}

/** The policy's variables, evaluated lazily and once each, as the apiserver does. */
/** The rest of an admission request, for policies that look at who asks and what was there before. */
export interface RequestContext {
    operation?: "CREATE" | "UPDATE" | "DELETE";
    oldObject?: unknown;
    username?: string;
    groups?: string[];
    resource?: string;
    name?: string;
}

function scope(policy: ValidatingAdmissionPolicyObject, object: unknown, namespace: string, ctx: RequestContext = {}): Scope {
    const s: Scope = {
        object: ctx.operation === "DELETE" ? null : object,
        oldObject: ctx.oldObject ?? null,
        namespaceObject: { metadata: { name: namespace } },
        request: {
            operation: ctx.operation ?? "CREATE",
            namespace,
            name: ctx.name ?? "",
            resource: { resource: ctx.resource ?? "" },
            userInfo: { username: ctx.username ?? "someone", groups: ctx.groups ?? ["system:authenticated"] },
        },
    };
    const variables: Record<string, unknown> = {};
    const cache = new Map<string, unknown>();
    for (const v of policy.spec.variables) {
        const ast = parse(v.expression);
        Object.defineProperty(variables, v.name, {
            enumerable: true,
            get() {
                if (!cache.has(v.name)) cache.set(v.name, evalNode(ast, s));
                return cache.get(v.name);
            },
        });
    }
    s.variables = variables;
    return s;
}

/** Messages of the validations that refuse `object` in `namespace` (an evaluation error refuses too, as
 * under failurePolicy Fail). */
export function evaluate(policy: ValidatingAdmissionPolicyObject, object: unknown, namespace: string, ctx?: RequestContext): { denied: string[] } {
    const s = scope(policy, object, namespace, ctx);
    const denied = policy.spec.validations.filter((v) => attempt(parse(v.expression), s).v !== true).map((v) => v.message);
    return { denied };
}

export function evaluateMessage(policy: ValidatingAdmissionPolicyObject, index: number, object: unknown, namespace: string): string {
    const expr = policy.spec.validations[index].messageExpression;
    if (!expr) throw new Error("no messageExpression");
    return evalNode(parse(expr), scope(policy, object, namespace)) as string;
}

export { parse as parseCel };
