// How a running node takes up a new version of its bundle. User data never changes on a running instance, so
// everything a renewal or CA rotation changes (keys, certificates, trust bundles, kubeconfigs) is a parameter,
// and a timer runs the boot fetch again with --sync: it replaces only what changed and restarts only the units
// that read a replaced file (secrets.ts). The nodes of one role sync at different minutes of each interval, so
// a change to every etcd member's files never restarts two members at once.
import { FETCH_SCRIPT_PATH, FETCH_UNIT, SYNC_ARG } from "./secrets";
import { execLine, type UnitFile } from "./systemd";

export const SYNC_UNIT = "hardened-cluster-sync";
/** Every node syncs once per interval; a renewed leaf is on every node within it. */
export const SYNC_INTERVAL_MINUTES = 15;

/** The minute within each interval at which the node `index` of `count` syncs: spread evenly, one node per slot. */
export function syncMinute(index: number, count: number): number {
    if (!Number.isInteger(index) || !Number.isInteger(count) || count < 1 || index < 0 || index >= count) {
        throw new Error(`sync: node ${index} of ${count}`);
    }
    return Math.floor((index * SYNC_INTERVAL_MINUTES) / count);
}

/**
 * The oneshot the timer starts. It runs as root (it writes keys and restarts units), only after the boot fetch.
 * `report`: a script run after every sync, whether it succeeded or not (report.ts); `afterSync`: one run only
 * after a sync that succeeded (kubelet-rejoin.ts).
 */
export function syncService({ report, afterSync }: { report?: string; afterSync?: string } = {}): UnitFile {
    return {
        Unit: {
            Description: "Take up new versions of this node's parameters, restarting only the units that read a replaced file",
            Wants: ["network-online.target"], Requires: [FETCH_UNIT], After: ["network-online.target", FETCH_UNIT],
        },
        Service: {
            Type: "oneshot", ExecStart: execLine([FETCH_SCRIPT_PATH, SYNC_ARG]),
            ...(afterSync ? { ExecStartPost: execLine([afterSync]) } : {}), ...(report ? { ExecStopPost: execLine([report]) } : {}),
        },
    };
}

/**
 * At a fixed minute of each interval (AccuracySec=1s keeps systemd from moving it into another node's slot), or
 * with a random delay where the nodes have no index (an Auto Scaling group's workers).
 */
export function syncTimer(slot?: { index: number; count: number }): UnitFile {
    const timer: UnitFile["Timer"] = slot
        ? { OnCalendar: `*-*-* *:${String(syncMinute(slot.index, slot.count)).padStart(2, "0")}/${SYNC_INTERVAL_MINUTES}:00`, AccuracySec: "1s" }
        : { OnBootSec: `${SYNC_INTERVAL_MINUTES}min`, OnUnitActiveSec: `${SYNC_INTERVAL_MINUTES}min`, RandomizedDelaySec: "5min" };
    return {
        Unit: { Description: `Sync this node's parameters every ${SYNC_INTERVAL_MINUTES} minutes` },
        Timer: timer,
        Install: { WantedBy: "timers.target" },
    };
}
