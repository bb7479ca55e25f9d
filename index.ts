// The hardened-cluster program: reads the stack's configuration and hands it to the selected platform.
// Platforms decide only where files go and how processes start; every setting comes from components/.
import * as pulumi from "@pulumi/pulumi";

const config = new pulumi.Config();
const platform = config.get("platform") ?? "local";
const platforms = ["local", "aws"];
if (!platforms.includes(platform)) {
    throw new Error(`hardened-cluster:platform: "${platform}" is not a platform; use one of ${platforms.join(", ")}`);
}

export const selectedPlatform = platform;
