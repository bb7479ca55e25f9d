// Hostile inputs for the control-plane key family; run by hostile-input.spec.ts.
import type { HostileRow } from "./row";

export const rows: HostileRow[] = [];
