// Shared inputs: a three-member control plane on a private network, files under a per-stack state directory.
import { strict as assert } from "node:assert";
import { ConfigError, FileLayout, stateDirLayout } from "../../../components/common";
import { ControlPlaneOptions, renderControlPlane, RenderedControlPlane } from "../../../components/control-plane";

export const LAYOUT: FileLayout = stateDirLayout("/var/lib/hardened-cluster/test");

export function baseOptions(): ControlPlaneOptions {
    return {
        network: {
            advertiseAddress: "10.0.0.10",
            etcdMembers: [
                { name: "etcd-a", ip: "10.0.0.10" },
                { name: "etcd-b", ip: "10.0.0.11" },
                { name: "etcd-c", ip: "10.0.0.12" },
            ],
        },
    };
}

/** Base options with `patch` merged one level deep (patch sections replace base sections). */
export function withOptions(patch: Partial<ControlPlaneOptions>): ControlPlaneOptions {
    return { ...baseOptions(), ...patch };
}

export function render(patch: Partial<ControlPlaneOptions> = {}, configKey?: string): RenderedControlPlane {
    return renderControlPlane(withOptions(patch), LAYOUT, configKey);
}

/** Asserts fn throws a ConfigError for exactly `key`, whose message names the key and each fragment. */
export function assertConfigError(fn: () => unknown, key: string, ...fragments: string[]): void {
    assert.throws(fn, (err: unknown) => {
        assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
        assert.equal(err.key, key);
        assert.ok(err.message.includes(key), `message does not name ${key}: ${err.message}`);
        for (const f of fragments) assert.ok(err.message.includes(f), `message lacks ${JSON.stringify(f)}: ${err.message}`);
        return true;
    });
}
