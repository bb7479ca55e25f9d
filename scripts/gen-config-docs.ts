// Regenerates Pulumi.yaml's `config:` block and the README's configuration reference from config/.
// Run: TS_NODE_TRANSPILE_ONLY=true npx ts-node scripts/gen-config-docs.ts (npm run docs).
import * as fs from "node:fs";
import * as path from "node:path";
import { updatePulumiYaml, updateReadme } from "../config/docs";

const root = path.join(__dirname, "..");
for (const [file, update] of [["Pulumi.yaml", updatePulumiYaml], ["README.md", updateReadme]] as const) {
    const at = path.join(root, file);
    const before = fs.readFileSync(at, "utf8");
    const after = update(before);
    if (after === before) {
        console.log(`${file}: up to date`);
        continue;
    }
    fs.writeFileSync(at, after);
    console.log(`${file}: regenerated`);
}
