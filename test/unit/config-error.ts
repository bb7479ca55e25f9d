// The one assertion every bad-input table uses: the error is a ConfigError naming exactly this key.
import { strict as assert } from "node:assert";
import { ConfigError } from "../../components/common";

export function rejects(run: () => unknown, path: string, mentions?: RegExp): void {
    assert.throws(run, (e: unknown) => {
        assert.ok(e instanceof ConfigError, `expected a ConfigError, got ${String(e)}`);
        assert.equal(e.key, path);
        assert.ok(e.message.includes(path), e.message);
        if (mentions) assert.match(e.message, mentions);
        return true;
    });
}

/** The ConfigError `run` throws (any other error propagates), for tests that look at more than its key. */
export function refusal(run: () => unknown): ConfigError {
    try {
        run();
    } catch (e) {
        if (e instanceof ConfigError) return e;
        throw e;
    }
    assert.fail("expected a ConfigError");
}
