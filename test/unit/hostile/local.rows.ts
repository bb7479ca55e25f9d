// Hostile inputs for the local key family; run by hostile-input.spec.ts.
import type { HostileRow } from "./row";

export const rows: HostileRow[] = [];
