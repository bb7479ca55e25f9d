// `npm run kubeconfig -- -s <stack> [--ttl 8h] [--user <name>] [--out <file>]`: a short-lived admin kubeconfig
// for the caller (group kubeadm:cluster-admins, named after --user, default the login name), minted from the
// local stack's cluster CA. --out writes a new 0600 file and never replaces one; without it the kubeconfig goes
// to stdout. The stack's admin.conf is the break-glass credential; this is the everyday one.
import * as fs from "node:fs";
import * as os from "node:os";
import { mintAdminKubeconfig, parseTtl } from "../platforms/local/admin-access";
import { parseArgs, stackPlan } from "./backup";

function main(): void {
    const { stack, opts, rest } = parseArgs(process.argv.slice(2));
    if (rest.length > 0) throw new Error(`unexpected arguments: ${rest.join(" ")}`);
    const ttlMinutes = parseTtl(opts.ttl ?? "8h");
    const user = opts.user ?? os.userInfo().username;
    const k = mintAdminKubeconfig(stackPlan(stack), { ttlMinutes, user });
    if (opts.out) {
        // O_EXCL and O_NOFOLLOW: a file or symlink someone put there first is refused, not written through.
        const fd = fs.openSync(opts.out, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW, 0o600);
        try {
            fs.writeSync(fd, k.yaml);
        } finally {
            fs.closeSync(fd);
        }
        process.stderr.write(`kubeconfig for ${k.user} (kubeadm:cluster-admins) valid until ${k.notAfter.toISOString()}: ${opts.out}\n`);
    } else {
        process.stdout.write(k.yaml);
        process.stderr.write(`kubeconfig for ${k.user} (kubeadm:cluster-admins) valid until ${k.notAfter.toISOString()}\n`);
    }
}

try {
    main();
} catch (e) {
    process.stderr.write(`kubeconfig: ${(e as Error).message}\n`);
    process.exitCode = 1;
}
