// Pulumi mocks shared by the in-cluster component specs: records every registration, and waits until the
// runtime has stopped registering before a test looks.
import * as pulumi from "@pulumi/pulumi";

export interface Registration {
    type: string;
    name: string;
    inputs: Record<string, any>;
    provider?: string;
    custom: boolean;
}

export const registrations: Registration[] = [];

export async function installMocks(): Promise<void> {
    registrations.length = 0;
    await pulumi.runtime.setMocks(
        {
            newResource(args) {
                registrations.push({ type: args.type, name: args.name, inputs: args.inputs, provider: args.provider, custom: args.custom ?? true });
                return { id: `${args.name}-id`, state: args.inputs };
            },
            call(args) {
                return args.inputs;
            },
        },
        "project",
        "stack",
        false,
    );
}

/** Resolves once no registration has arrived for a few consecutive polls. */
export async function settle(): Promise<Registration[]> {
    let last = -1;
    let quiet = 0;
    for (let i = 0; i < 400 && quiet < 5; i++) {
        await new Promise((r) => setTimeout(r, 5));
        if (registrations.length === last) quiet++;
        else [last, quiet] = [registrations.length, 0];
    }
    return registrations;
}

/** URNs of everything registered, which encode each resource's parent chain. */
export function registeredUrns(): string[] {
    // Under setMocks the monitor is the SDK's MockMonitor, which the runtime index does not re-export.
    const monitor = pulumi.runtime.getMonitor() as unknown as { getRegisteredResources(): Map<string, unknown> };
    return [...monitor.getRegisteredResources().keys()];
}

export function outputValue<T>(o: pulumi.Output<T>): Promise<T> {
    return new Promise((resolve) => o.apply((v) => resolve(v)));
}

export function ofType(type: string): Registration[] {
    return registrations.filter((r) => r.type === type);
}
