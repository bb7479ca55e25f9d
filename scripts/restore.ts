// `npm run restore -- -s <stack> <bundle> [--key <file>]`: restores a bundle taken by `npm run backup` into
// the running local stack. The pre-flight refuses (exit 1, nothing changed) unless the manifest hashes, the
// etcd release, the CAs and every encryption key the snapshot needs all check out. Each member's previous data
// directory is kept beside it (printed); remove those once the restored cluster is confirmed.
import { restoreBackup } from "../platforms/local/backup/restore";
import { parseArgs, stackPlan } from "./backup";

async function main(): Promise<void> {
    const { stack, opts, rest } = parseArgs(process.argv.slice(2));
    if (rest.length !== 1) throw new Error("give exactly one bundle directory");
    const r = await restoreBackup(stackPlan(stack, { restoring: true }), rest[0], { keyFile: opts.key, log: (l) => process.stdout.write(`restore: ${l}\n`) });
    process.stdout.write(`restored ${stack} to revision ${r.revision} (cluster ${r.clusterId}) in ${r.seconds.toFixed(1)}s\n` +
        (r.previous.length ? `  previous data directories kept: ${r.previous.join(" ")}\n` : ""));
}

main().catch((e) => {
    process.stderr.write(`restore: ${(e as Error).message}\n`);
    process.exitCode = 1;
});
