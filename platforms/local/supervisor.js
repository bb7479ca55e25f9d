// Keeps one local control-plane process running, as systemd's Restart=always does on a machine: it starts the
// component, restarts it whenever it exits (waiting 1 s, doubling up to 30 s; back to 1 s once a run lasted
// 60 s), and gives up after a bounded number of consecutive quick exits, saying so in the log, so the
// resource reads as gone and `pulumi up --refresh` starts it again. SIGTERM stops the component (SIGTERM,
// SIGKILL after the stop timeout) and then the supervisor, which never leaves its component behind.
//
// Plain JavaScript run by the node that runs the provider (no ts-node). The spec arrives as JSON on stdin,
// so nothing but this file's path is on the supervisor's command line. With `argsFile`, the component's
// command line is read from that file at every start, one argument per line: the file an auditor inspects
// is the one the process runs with.
"use strict";
const fs = require("node:fs");
const cp = require("node:child_process");

// Where util-linux keeps setpriv: it makes the component die with the supervisor even when the supervisor
// itself is SIGKILLed (the parent-death signal), which no handler here could catch.
const SETPRIV = ["/usr/bin/setpriv", "/bin/setpriv"].find((p) => {
    try { fs.accessSync(p, fs.constants.X_OK); return true; } catch { return false; }
});

function log(name, message) {
    try { fs.writeSync(2, `${new Date().toISOString()} supervisor: ${name}: ${message}\n`); } catch { /* no log left */ }
}

/** The argv in a file written one argument per line (the last line ends with a newline). */
function readArgsFile(file) {
    const fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
    try {
        const st = fs.fstatSync(fd);
        const me = process.geteuid();
        // Whoever can write this file chooses what runs, as whoever runs it.
        if (!st.isFile()) throw new Error("not a regular file");
        if (st.uid !== me && st.uid !== 0) throw new Error(`owned by uid ${st.uid}, not by uid ${me} or root`);
        if ((st.mode & 0o022) !== 0) throw new Error(`writable by group or others (mode ${(st.mode & 0o7777).toString(8)})`);
        const text = fs.readFileSync(fd, "utf8");
        if (text === "") return [];
        return (text.endsWith("\n") ? text.slice(0, -1) : text).split("\n");
    } finally {
        fs.closeSync(fd);
    }
}

function supervise(spec) {
    const name = spec.name;
    const policy = {
        initialDelaySeconds: 1, maxDelaySeconds: 30, resetAfterSeconds: 60, maxQuickFailures: 6, ...(spec.restart || {}),
    };
    const stopTimeout = (spec.stopTimeoutSeconds ?? 30) * 1000;
    let child = null;
    let timer = null;
    let stopping = false;
    let restartRequested = false;
    let quickFailures = 0;
    let delay = policy.initialDelaySeconds;

    const start = () => {
        timer = null;
        let args;
        try {
            args = spec.argsFile ? readArgsFile(spec.argsFile) : spec.args;
        } catch (e) {
            log(name, `giving up: cannot use ${spec.argsFile} as its command line: ${e.message}`);
            process.exit(1);
        }
        const [file, argv] = SETPRIV ? [SETPRIV, ["--pdeathsig", "KILL", "--", spec.command, ...args]] : [spec.command, args];
        const started = Date.now();
        // Same process group as the supervisor (not detached): stopping the group stops both.
        const c = cp.spawn(file, argv, {
            stdio: ["ignore", 1, 2],
            env: spec.env,
            ...(spec.uid !== undefined ? { uid: spec.uid, gid: spec.gid } : {}),
        });
        child = c;
        let ended = false;
        const end = (how) => {
            if (ended) return;
            ended = true;
            if (child === c) child = null;
            exited(how, (Date.now() - started) / 1000);
        };
        c.on("error", (e) => end(`could not be started: ${e.message}`));
        c.on("exit", (code, signal) => end(signal ? `signal ${signal}` : `exit code ${code}`));
        if (c.pid) log(name, `started ${spec.command} (pid ${c.pid})`);
    };

    const exited = (how, upSeconds) => {
        if (stopping) {
            log(name, `stopped (${how})`);
            process.exit(0);
        }
        if (restartRequested) {
            restartRequested = false;
            log(name, `restarting on request (${how})`);
            start();
            return;
        }
        if (upSeconds >= policy.resetAfterSeconds) {
            quickFailures = 0;
            delay = policy.initialDelaySeconds;
        } else {
            quickFailures++;
        }
        if (quickFailures >= policy.maxQuickFailures) {
            log(name, `giving up: ${name} exited ${quickFailures} times in a row within ${policy.resetAfterSeconds}s of starting; last ${how}`);
            process.exit(1);
        }
        log(name, `exited (${how}) after ${upSeconds.toFixed(1)}s; restarting in ${delay}s`);
        timer = setTimeout(start, delay * 1000);
        delay = Math.min(delay * 2, policy.maxDelaySeconds);
    };

    const stop = (signal) => {
        if (stopping) return;
        stopping = true;
        log(name, `${signal} received: stopping`);
        if (timer) clearTimeout(timer);
        if (!child) process.exit(0);
        child.kill("SIGTERM");
        setTimeout(() => {
            if (!child) return;
            log(name, `still running ${stopTimeout / 1000}s after SIGTERM: SIGKILL`);
            child.kill("SIGKILL");
        }, stopTimeout).unref();
    };
    for (const s of ["SIGTERM", "SIGINT", "SIGHUP"]) process.on(s, () => stop(s));
    // A restart in place (etcd members one at a time): the component stops as on SIGTERM and starts again at
    // once; the supervisor, its process group and its restart budget stay.
    process.on("SIGUSR1", () => {
        if (!child || stopping || restartRequested) return;
        restartRequested = true;
        const c = child;
        c.kill("SIGTERM");
        setTimeout(() => {
            if (child !== c) return;
            log(name, `still running ${stopTimeout / 1000}s after SIGTERM: SIGKILL`);
            c.kill("SIGKILL");
        }, stopTimeout).unref();
    });
    // A reload request for the component (haproxy's master re-reads its files and forks a new worker).
    process.on("SIGUSR2", () => {
        if (child && !stopping) child.kill("SIGUSR2");
    });
    process.on("uncaughtException", (e) => {
        log(name, `supervisor failed: ${e.stack || e}`);
        if (child) child.kill("SIGKILL");
        process.exit(1);
    });
    start();
}

let input = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (d) => (input += d));
process.stdin.on("end", () => {
    let spec;
    try {
        spec = JSON.parse(input);
    } catch (e) {
        log("?", `giving up: no spec on stdin (${e.message})`);
        process.exit(1);
    }
    supervise(spec);
});
