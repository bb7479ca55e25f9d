// Hostile inputs for the rbac key family; run by hostile-input.spec.ts.
import type { HostileRow } from "./row";

export const rows: HostileRow[] = [];
