// `npm run certs -- -s <stack> [--json]`: the running local stack's certificate inventory. Every certificate
// its nodes hold (path, subject and SANs, issuer, serial, expiry, renewal window, readers and how they take a
// new one) and the certificate each TLS endpoint serves right now. Exit 1 when a certificate is inside its
// renewal window, an endpoint cannot be read, or one serves another certificate than its file holds.
import { certificateInventory } from "../platforms/local/certs";
import { renderInventory } from "../components/pki/inventory";
import { parseArgs, stackPlan } from "./backup";

async function main(): Promise<void> {
    const { stack, opts, rest } = parseArgs(process.argv.slice(2), ["json"]);
    if (rest.length > 0) throw new Error(`unexpected arguments: ${rest.join(" ")}`);
    const inv = await certificateInventory(stackPlan(stack));
    process.stdout.write(opts.json ? JSON.stringify(inv, null, 2) + "\n" : renderInventory(inv));
    if (inv.problems.length > 0) process.exitCode = 1;
}

main().catch((e: Error) => {
    process.stderr.write(`certs: ${e.message}\n`);
    process.exitCode = 2;
});
