import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { DEFAULTS } from "../../src/defaults.ts";
import type { ErrorReporter } from "../../src/errors.ts";
import { Invalidator } from "../../src/write/invalidator.ts";
import { stampKey } from "../../src/stamps/names.ts";
import { Metrics } from "../../src/metrics.ts";
import { GuardedStore } from "../../src/stores/guarded-store.ts";
import { MemoryStore } from "../../src/stores/memory-store.ts";
import type { CacheStore } from "../../src/stores/store.ts";
import { deferred, type Deferred } from "../support/deferred.ts";

/**
 * A store whose bumps the test controls: `mode` "ok" applies them to a memory store, "fail" rejects them, and
 * "manual" leaves each one pending in `pending` until the test settles it.
 */
function controlledStore() {
  const memory = new MemoryStore();
  const bumps: string[][] = [];
  const pending: Deferred<void>[] = [];
  const store: CacheStore & { mode: "ok" | "fail" | "manual"; bumps: string[][]; pending: Deferred<void>[] } = {
    name: "controlled",
    mode: "ok",
    bumps,
    pending,
    lookup: (requests) => memory.lookup(requests),
    fill: (request) => memory.fill(request),
    bump(stamps) {
      bumps.push([...stamps]);
      if (store.mode === "fail") return Promise.reject(new Error("ECONNRESET"));
      if (store.mode === "manual") {
        const next = deferred<void>();
        pending.push(next);
        return next.promise.then(() => memory.bump(stamps));
      }
      return memory.bump(stamps);
    },
    close: () => memory.close(),
  };
  return store;
}

function setup(store: CacheStore = controlledStore()) {
  const reported: unknown[] = [];
  const report: ErrorReporter = (error) => reported.push(error);
  const metrics = new Metrics();
  const invalidator = new Invalidator(new GuardedStore(store, 1000, report), "pc", metrics, report, TX_TIMEOUT_MS);
  return { invalidator, metrics, reported };
}

/** The interactive-transaction timeout the invalidator is given. */
const TX_TIMEOUT_MS = 5_000;
const K = (stamp: string) => stampKey("pc", stamp);

beforeEach(() => {
  // setImmediate stays real: the store guard's deadline fires only after the event loop read waiting I/O.
  vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "setInterval", "clearInterval", "Date"] });
});
afterEach(() => {
  vi.useRealTimers();
});

describe("Invalidator", () => {
  it("applies a write's stamps before afterWrite resolves, as prefixed stamp keys", async () => {
    const store = controlledStore();
    const { invalidator, metrics } = setup(store);
    await invalidator.afterWrite(new Set(["m:User", "r:User:id=#1"]), undefined);
    expect(store.bumps).toEqual([[K("m:User"), K("r:User:id=#1")]]);
    expect(metrics.snapshot().invalidations).toBe(1);
  });

  it("counts an invalidation when the store applied it, not when it was attempted", async () => {
    const store = controlledStore();
    const { invalidator, metrics } = setup(store);
    store.mode = "fail";
    await invalidator.afterWrite(new Set(["m:User"]), undefined);
    await invalidator.afterWrite(new Set(["m:Post"]), undefined);
    expect(metrics.snapshot().invalidations).toBe(0);
    store.mode = "ok";
    await vi.advanceTimersByTimeAsync(100);
    expect(invalidator.degraded).toBe(false);
    // Both failed invalidations reached the store in one retry: each counts once.
    expect(metrics.snapshot().invalidations).toBe(2);
  });

  it("applies immediately inside a batch transaction, whose queries resolve after commit", async () => {
    const store = controlledStore();
    const { invalidator } = setup(store);
    await invalidator.afterWrite(new Set(["m:Post"]), { kind: "batch", id: 7 });
    expect(store.bumps).toEqual([[K("m:Post")]]);
  });

  it("makes the next lookup of a dependent entry miss", async () => {
    const memory = new MemoryStore();
    const { invalidator } = setup(memory);
    const request = { key: "e", stamps: [K("m:User")], stampLifeMs: 60_000 };
    const [{ fence }] = (await memory.lookup([request])) as [{ fence: string }];
    await memory.fill({ ...request, fence, value: "v", ttlMs: 60_000, swrMs: 0, loadMs: 1 });
    await invalidator.afterWrite(new Set(["m:User"]), undefined);
    expect((await memory.lookup([request]))[0]!.value).toBeUndefined();
  });

  it("defers an interactive transaction's stamps until endTransaction, then applies them at once", async () => {
    const store = controlledStore();
    const { invalidator } = setup(store);
    invalidator.beginTransaction("tx1");
    await invalidator.afterWrite(new Set(["m:User", "r:User:id=#1"]), { kind: "itx", id: "tx1" });
    await invalidator.afterWrite(new Set(["m:User", "m:Post"]), { kind: "itx", id: "tx1" });
    expect(store.bumps).toEqual([]);
    await invalidator.endTransaction("tx1");
    expect(store.bumps).toHaveLength(1);
    expect(store.bumps[0]!.sort()).toEqual([K("m:Post"), K("m:User"), K("r:User:id=#1")].sort());
  });

  it("keeps concurrent transactions apart", async () => {
    const store = controlledStore();
    const { invalidator } = setup(store);
    invalidator.beginTransaction("a");
    invalidator.beginTransaction("b");
    await invalidator.afterWrite(new Set(["m:User"]), { kind: "itx", id: "a" });
    await invalidator.afterWrite(new Set(["m:Post"]), { kind: "itx", id: "b" });
    await invalidator.endTransaction("b");
    expect(store.bumps).toEqual([[K("m:Post")]]);
    await invalidator.endTransaction("a");
    expect(store.bumps).toEqual([[K("m:Post")], [K("m:User")]]);
  });

  it("invalidates a write of an unobserved transaction now and again once it must have ended, bypassing reads until then", async () => {
    const store = controlledStore();
    const { invalidator, reported } = setup(store);
    await invalidator.afterWrite(new Set(["m:User"]), { kind: "itx", id: "unknown" });
    await invalidator.afterWrite(new Set(["m:Post"]), { kind: "itx", id: "unknown" });
    expect(store.bumps).toEqual([[K("m:User")], [K("m:Post")]]);
    expect(invalidator.degraded).toBe(true);
    // Reported once per transaction, with its code.
    expect(reported.map((error) => (error as { code: string }).code)).toEqual(["TRANSACTION_UNOBSERVED"]);

    await vi.advanceTimersByTimeAsync(TX_TIMEOUT_MS);
    // Still within the margin: the transaction may be committing right now.
    expect(store.bumps).toHaveLength(2);
    expect(invalidator.degraded).toBe(true);
    await vi.advanceTimersByTimeAsync(DEFAULTS.limits.transactionMarginMs);
    expect(store.bumps).toEqual([[K("m:User")], [K("m:Post")], [K("m:User"), K("m:Post")]]);
    expect(invalidator.degraded).toBe(false);
  });

  it("keeps bypassing reads when the second advance of an unobserved transaction fails, until a retry applies it", async () => {
    const store = controlledStore();
    const { invalidator } = setup(store);
    await invalidator.afterWrite(new Set(["m:User"]), { kind: "itx", id: undefined });
    store.mode = "fail";
    await vi.advanceTimersByTimeAsync(TX_TIMEOUT_MS + DEFAULTS.limits.transactionMarginMs);
    expect(invalidator.degraded).toBe(true);
    store.mode = "ok";
    await vi.advanceTimersByTimeAsync(DEFAULTS.limits.retryMaxMs);
    expect(invalidator.degraded).toBe(false);
    expect(store.bumps.at(-1)).toEqual([K("m:User")]);
  });

  it("does nothing for a transaction that wrote nothing, or an unknown id", async () => {
    const store = controlledStore();
    const { invalidator, metrics } = setup(store);
    invalidator.beginTransaction("empty");
    await invalidator.endTransaction("empty");
    await invalidator.endTransaction(undefined);
    await invalidator.endTransaction("never-begun");
    await invalidator.apply([]);
    expect(store.bumps).toEqual([]);
    expect(metrics.snapshot().invalidations).toBe(0);
  });

  it("applies a transaction's stamps only once, even if it ends twice", async () => {
    const store = controlledStore();
    const { invalidator } = setup(store);
    invalidator.beginTransaction("tx");
    await invalidator.afterWrite(new Set(["m:User"]), { kind: "itx", id: "tx" });
    await invalidator.endTransaction("tx");
    await invalidator.endTransaction("tx");
    expect(store.bumps).toHaveLength(1);
  });

  it("turns degraded when a bump fails, and retries until the store recovers", async () => {
    const store = controlledStore();
    const { invalidator, reported } = setup(store);
    store.mode = "fail";
    await invalidator.afterWrite(new Set(["m:User"]), undefined);
    expect(invalidator.degraded).toBe(true);
    expect(reported).toHaveLength(1);

    await vi.advanceTimersByTimeAsync(50);
    expect(store.bumps).toHaveLength(2);
    expect(invalidator.degraded).toBe(true);

    store.mode = "ok";
    // Backoff: the second retry waits twice as long as the first.
    await vi.advanceTimersByTimeAsync(99);
    expect(store.bumps).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(store.bumps).toHaveLength(3);
    expect(store.bumps[2]).toEqual([K("m:User")]);
    expect(invalidator.degraded).toBe(false);

    await vi.advanceTimersByTimeAsync(10_000);
    expect(store.bumps).toHaveLength(3);
  });

  it("retries every stamp that failed, across writes, in one bump", async () => {
    const store = controlledStore();
    const { invalidator } = setup(store);
    store.mode = "fail";
    await invalidator.afterWrite(new Set(["m:User"]), undefined);
    await invalidator.afterWrite(new Set(["m:Post", "m:User"]), undefined);
    store.mode = "ok";
    await vi.advanceTimersByTimeAsync(50);
    expect(store.bumps.at(-1)!.sort()).toEqual([K("m:Post"), K("m:User")].sort());
    expect(invalidator.degraded).toBe(false);
  });

  it("turns degraded when the store does not answer a bump in time", async () => {
    const store = controlledStore();
    const { invalidator, reported } = setup(store);
    store.mode = "manual";
    const write = invalidator.afterWrite(new Set(["m:User"]), undefined);
    await vi.advanceTimersByTimeAsync(1000);
    await write;
    expect(invalidator.degraded).toBe(true);
    expect((reported[0] as { code: string }).code).toBe("STORE_TIMEOUT");
  });

  // A retry bump sent before a later write commits can land before that commit; if the later write's own bump then
  // fails, the retry's success still clears the stamp from the failed set, so it is never bumped after the later
  // commit. Another process sharing the store may have filled an entry between the two, which then stays valid.
  it("bumps a stamp again after a write whose bump failed while an earlier retry of it was in flight", async () => {
    const store = controlledStore();
    const { invalidator } = setup(store);
    store.mode = "fail";
    await invalidator.afterWrite(new Set(["m:User"]), undefined); // write 1: bump #0 fails
    store.mode = "manual";
    await vi.advanceTimersByTimeAsync(50); // retry: bump #1 sent, still pending
    expect(store.bumps).toHaveLength(2);
    store.mode = "fail";
    await invalidator.afterWrite(new Set(["m:User"]), undefined); // write 2 commits, its bump #2 fails
    const failedAt = store.bumps.length;
    store.pending[0]!.resolve(); // the retry sent before write 2 succeeds
    store.mode = "ok";
    await vi.advanceTimersByTimeAsync(10_000);
    const later = store.bumps.slice(failedAt);
    expect(later.some((stamps) => stamps.includes(K("m:User")))).toBe(true);
  });
});
