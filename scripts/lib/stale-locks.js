// Removes a stack's locks from a file backend when the pulumi process that took them is gone:
//   node scripts/lib/stale-locks.js <file:// backend URL> <stack>
// A `pulumi up` killed with SIGKILL (or a lost machine session) leaves its lock behind, and every later command
// on the stack stops on it until someone runs `pulumi cancel`. A lock is removed only when this machine's user
// took it (hostname and username match) and its pid no longer runs a pulumi process; any other lock stays for
// Pulumi to report. Without /proc nothing can be proven gone, so nothing is removed.
"use strict";
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");

function holderRunning(pid) {
    try {
        return fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").some((a) => path.basename(a).startsWith("pulumi"));
    } catch {
        return false;
    }
}

/** The lock directories of `stack` (plain, or organization/project/stack) in both layouts of a file backend. */
function lockDirs(root, stack) {
    const locks = path.join(root, ".pulumi", "locks");
    const parts = stack.split("/");
    if (parts.length === 3) return [path.join(locks, ...parts)];
    const dirs = [path.join(locks, stack)];
    try {
        for (const project of fs.readdirSync(path.join(locks, "organization"))) dirs.push(path.join(locks, "organization", project, stack));
    } catch { /* no project-scoped locks */ }
    return dirs;
}

/** Removes the stale locks; returns a line per removed lock. */
function removeStaleLocks(backendUrl, stack) {
    if (!fs.existsSync("/proc/self/cmdline")) return [];
    const root = decodeURIComponent(new URL(backendUrl).pathname);
    const me = { hostname: os.hostname(), username: os.userInfo().username };
    const removed = [];
    for (const dir of lockDirs(root, stack)) {
        let entries;
        try { entries = fs.readdirSync(dir); } catch { continue; }
        for (const entry of entries.filter((e) => e.endsWith(".json"))) {
            const file = path.join(dir, entry);
            let lock;
            try {
                if (!fs.lstatSync(file).isFile()) continue;
                lock = JSON.parse(fs.readFileSync(file, "utf8"));
            } catch { continue; }
            if (lock.hostname !== me.hostname || lock.username !== me.username || !Number.isInteger(lock.pid)) continue;
            if (holderRunning(lock.pid)) continue;
            fs.unlinkSync(file);
            removed.push(`removed the lock on stack ${stack} that pulumi (pid ${lock.pid}, ${lock.timestamp}) left when it was killed: that process is gone`);
        }
    }
    return removed;
}

module.exports = { removeStaleLocks };

if (require.main === module) {
    const [url, stack] = process.argv.slice(2);
    if (!url || !stack) {
        console.error("usage: stale-locks.js <file:// backend URL> <stack>");
        process.exit(2);
    }
    for (const line of removeStaleLocks(url, stack)) console.error(`scripts/pulumi: ${line}`);
}
