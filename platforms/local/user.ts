// A system user as a Pulumi resource (the system layout runs etcd as its own user, as CIS 1.1.12 expects).
// A user account belongs to the whole machine while a stack is only one of its holders: two local stacks share
// one etcd user, and destroying the first must not delete it under the second's running etcd. Each resource
// records itself as a holder under a root-only directory, and the user is removed when the last holder leaves,
// only if one of them created it. A host's own etcd user is never touched.
import * as pulumi from "@pulumi/pulumi";

/** Where holders are recorded: outside every directory the local stack or the test sandbox bind-mounts. */
export const SYSTEM_USER_HOLDERS = "/etc/hardened-cluster/system-users";

export interface UserState {
    name: string;
    /** Whether the user was missing when this resource claimed it (shown, not decisive: see `.created`). */
    createdHere: boolean;
    /** This resource's holder record; absent in state written before holders were recorded. */
    holder?: string;
    holdersDir?: string;
}

export interface UserInputs {
    name: string;
    /** Tests only: another holders directory (it must pass the same ownership check). */
    holdersDir?: string;
}

interface UserProvider extends pulumi.dynamic.ResourceProvider<UserInputs, UserState> {
    create(inputs: UserInputs): Promise<pulumi.dynamic.CreateResult<UserState>>;
    read(id: string, state?: UserState): Promise<pulumi.dynamic.ReadResult<UserState>>;
    diff(id: string, olds: UserState, news: UserInputs): Promise<pulumi.dynamic.DiffResult>;
    delete(id: string, state: UserState): Promise<void>;
}

// Claim and release run under one exclusive lock, so two stacks doing either at once see each other's record.
// `.created` says a holder made the user, so the last one to leave removes it, whoever that is. A release with
// no holder (state from before holder records) that still finds others hands its ownership to them.
const HOLD_SCRIPT = `set -eu
step=$1 base=$2 name=$3 holder=$4 legacy=$5
d=$base/$name
case $step in
claim)
  mkdir -p -m 0700 "$d"
  created=false
  if ! id -u "$name" >/dev/null 2>&1; then
    useradd --system --user-group --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin \\
      --comment "etcd (hardened-cluster)" "$name"
    : > "$d/.created"
    created=true
  fi
  : > "$d/holder-$holder"
  echo "$created"
  ;;
release)
  if [ -n "$holder" ]; then rm -f "$d/holder-$holder"; fi
  if [ -d "$d" ] && [ -n "$(find "$d" -maxdepth 1 -name 'holder-*' -print -quit)" ]; then
    if [ "$legacy" = true ]; then : > "$d/.created"; fi
    exit 0
  fi
  if [ -e "$d/.created" ] || [ "$legacy" = true ]; then
    if id -u "$name" >/dev/null 2>&1; then userdel "$name"; fi
  fi
  rm -rf "$d"
  ;;
esac
`;

function holdersDirChecked(dir: string): string {
    const fs: typeof import("node:fs") = require("node:fs");
    const path: typeof import("node:path") = require("node:path");
    for (const d of [path.dirname(dir), dir]) {
        if (!fs.existsSync(d)) fs.mkdirSync(d, { mode: 0o700 });
        const st = fs.lstatSync(d);
        if (st.isSymbolicLink() || !st.isDirectory() || st.uid !== 0 || (st.mode & 0o022) !== 0) {
            throw new Error(`${d} must be a directory owned by root that nobody else can write (it records which stacks hold a system user); remove it and run again`);
        }
    }
    return dir;
}

function hold(step: "claim" | "release", dir: string, name: string, holder: string, legacy: boolean): string {
    const cp: typeof import("node:child_process") = require("node:child_process");
    const path: typeof import("node:path") = require("node:path");
    const base = holdersDirChecked(dir);
    return cp.execFileSync("flock", ["-x", path.join(base, ".lock"), "sh", "-c", HOLD_SCRIPT, "sh", step, base, name, holder, String(legacy)],
        { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();
}

export const userProvider: UserProvider = {
    async create(inputs: UserInputs) {
        const crypto: typeof import("node:crypto") = require("node:crypto");
        const holder = crypto.randomUUID();
        const holdersDir = inputs.holdersDir ?? SYSTEM_USER_HOLDERS;
        const createdHere = hold("claim", holdersDir, inputs.name, holder, false) === "true";
        const state: UserState = { name: inputs.name, createdHere, holder, holdersDir };
        return { id: inputs.name, outs: state };
    },

    async read(id: string, state?: UserState) {
        const cp: typeof import("node:child_process") = require("node:child_process");
        try {
            cp.execFileSync("id", ["-u", id], { stdio: "ignore" });
            // Without a state (an import), the user was there before: never ours to remove.
            return { id, props: state ?? { name: id, createdHere: false } };
        } catch {
            return { id: "" };
        }
    },

    async diff(_id: string, olds: UserState, news: UserInputs) {
        const changes = olds.name !== news.name;
        return { changes, replaces: changes ? ["name"] : [], deleteBeforeReplace: true };
    },

    async delete(id: string, state: UserState) {
        hold("release", state.holdersDir ?? SYSTEM_USER_HOLDERS, id, state.holder ?? "", !state.holder && state.createdHere);
    },
};

export class SystemUser extends pulumi.dynamic.Resource {
    declare readonly name: pulumi.Output<string>;

    constructor(name: string, args: { name: pulumi.Input<string> }, opts?: pulumi.CustomResourceOptions) {
        super(userProvider, name, { name: args.name, createdHere: undefined, holder: undefined, holdersDir: undefined }, opts,
            "hardened-cluster", "SystemUser");
    }
}
