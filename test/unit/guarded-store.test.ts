import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { ErrorReporter } from "../../src/errors.ts";
import { CacheStoreError, type CacheErrorContext } from "../../src/errors.ts";
import { GuardedStore } from "../../src/stores/guarded-store.ts";
import { MemoryStore } from "../../src/stores/memory-store.ts";
import type { CacheStore, FillRequest, LookupRequest } from "../../src/stores/store.ts";

const LOOKUP: LookupRequest = { key: "{pc}:e:User:findUnique:=x", stamps: ["{pc}:s:*"], stampLifeMs: 1000 };
const FILL: FillRequest = { key: LOOKUP.key, stamps: LOOKUP.stamps, fence: "f", value: "v", ttlMs: 1000, swrMs: 0, loadMs: 1 };

/** A store whose every call never settles. */
const silentStore = (): CacheStore => ({
  name: "silent",
  lookup: () => new Promise(() => {}),
  fill: () => new Promise(() => {}),
  bump: () => new Promise(() => {}),
  close: async () => {},
});

/** A store whose every call fails, asynchronously or synchronously. */
const failingStore = (synchronous = false): CacheStore => {
  const fail = (operation: string) => () => {
    const error = new Error(`${operation} failed`);
    if (synchronous) throw error;
    return Promise.reject(error);
  };
  return {
    name: "failing",
    lookup: fail("lookup"),
    lookupNow: () => {
      throw new Error("lookupNow failed");
    },
    fill: fail("fill"),
    bump: fail("bump"),
    close: async () => {},
  };
};

function setup(store: CacheStore, timeoutMs = 50) {
  const reports: { error: unknown; context: CacheErrorContext }[] = [];
  const report: ErrorReporter = (error, context) => reports.push({ error, context });
  return { guard: new GuardedStore(store, timeoutMs, report), reports };
}

beforeEach(() => {
  // setImmediate stays real: a deadline fires only after the event loop has read waiting I/O (guarded-store.ts).
  vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "setInterval", "clearInterval", "Date"] });
});
afterEach(() => {
  vi.useRealTimers();
});

describe("GuardedStore timeouts", () => {
  it("answers 'no answer' to a lookup the store never answers, after timeoutMs, and reports STORE_TIMEOUT", async () => {
    const { guard, reports } = setup(silentStore());
    let settled = false;
    const lookup = guard.lookup([LOOKUP], "User").finally(() => (settled = true));
    await vi.advanceTimersByTimeAsync(49);
    expect(settled).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(await lookup).toEqual([undefined]);
    expect(reports).toHaveLength(1);
    const error = reports[0]!.error as CacheStoreError;
    expect(error).toBeInstanceOf(CacheStoreError);
    expect(error.code).toBe("STORE_TIMEOUT");
    expect(error.operation).toBe("lookup");
    expect(error.message).toContain("silent store did not answer lookup within 50 ms");
    expect(reports[0]!.context).toEqual({ operation: "lookup", model: "User", key: LOOKUP.key });
  });

  it("times out a fill as 'not stored', naming the model and key", async () => {
    const { guard, reports } = setup(silentStore(), 20);
    const fill = guard.fill(FILL, "User");
    await vi.advanceTimersByTimeAsync(20);
    expect(await fill).toBe(false);
    expect((reports[0]!.error as CacheStoreError).code).toBe("STORE_TIMEOUT");
    expect(reports[0]!.context).toEqual({ operation: "fill", model: "User", key: FILL.key });
  });

  it("times out a bump as 'not applied'", async () => {
    const { guard, reports } = setup(silentStore());
    const bump = guard.bump(["{pc}:s:m:User"]);
    await vi.advanceTimersByTimeAsync(50);
    expect(await bump).toBe(false);
    expect(reports[0]!.context).toEqual({ operation: "invalidate" });
    expect((reports[0]!.error as CacheStoreError).operation).toBe("invalidate");
  });

  it("leaves no timer behind once the store answers", async () => {
    const { guard, reports } = setup(new MemoryStore());
    expect(await guard.lookup([LOOKUP], "User")).toHaveLength(1);
    expect(await guard.bump(["{pc}:s:*"])).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(1000);
    expect(reports).toEqual([]);
  });
});

/** A store with two steps: request 0 is a hit of the first, request 1 needs a second that takes `secondMs`. */
const twoStepStore = (firstMs: number, secondMs: number): CacheStore => ({
  name: "two-step",
  lookup: async (_requests, signal) => {
    await new Promise((resolve) => setTimeout(resolve, firstMs));
    const hit = { fence: "f", value: "hit", freshForMs: 1000 };
    signal?.answered?.(0, hit);
    signal?.nextStep?.();
    await new Promise((resolve) => setTimeout(resolve, secondMs));
    if (signal?.aborted) throw new Error("abandoned");
    return [hit, { fence: "g" }];
  },
  fill: async () => true,
  bump: async () => {},
  close: async () => {},
});

describe("GuardedStore steps", () => {
  it("answers a first-step hit at once, while another request's second step still runs", async () => {
    const { guard } = setup(twoStepStore(30, 30));
    const [hit, miss] = guard.lookupEach([LOOKUP, { ...LOOKUP, key: "other" }], "User");
    let hitAt: number | undefined;
    void hit!.then(() => (hitAt = Date.now()));
    const start = Date.now();
    await vi.advanceTimersByTimeAsync(30);
    expect(hitAt! - start).toBe(30);
    expect(await hit).toMatchObject({ value: "hit" });
    await vi.advanceTimersByTimeAsync(30);
    expect(await miss).toEqual({ fence: "g" });
  });

  it("times each step out on its own: two 30 ms steps fit a 50 ms timeout; a late second step loses only its own answers", async () => {
    const { guard, reports } = setup(twoStepStore(30, 30));
    const both = guard.lookup([LOOKUP, { ...LOOKUP, key: "other" }], "User");
    await vi.advanceTimersByTimeAsync(60);
    expect(await both).toEqual([expect.objectContaining({ value: "hit" }), { fence: "g" }]);
    expect(reports).toEqual([]);

    const late = setup(twoStepStore(30, 80));
    const answers = late.guard.lookup([LOOKUP, { ...LOOKUP, key: "other" }], "User");
    await vi.advanceTimersByTimeAsync(200);
    expect(await answers).toEqual([expect.objectContaining({ value: "hit" }), undefined]);
    expect(late.reports.map(({ error }) => (error as CacheStoreError).code)).toEqual(["STORE_TIMEOUT"]);
  });
});

describe("GuardedStore errors", () => {
  it.each([false, true])("reports failures with their context and never throws (synchronous throw: %s)", async (synchronous) => {
    const { guard, reports } = setup(failingStore(synchronous));
    expect(await guard.lookup([LOOKUP, { ...LOOKUP, key: "other" }], "User,Post")).toEqual([undefined, undefined]);
    expect(await guard.fill(FILL, "Post")).toBe(false);
    expect(await guard.bump(["{pc}:s:*"])).toBe(false);
    // Wrapped where raised: a store's own failure becomes STORE_ERROR, with the store's error as cause.
    expect(reports.map((r) => (r.error as CacheStoreError).code)).toEqual(["STORE_ERROR", "STORE_ERROR", "STORE_ERROR"]);
    expect(reports.map((r) => (r.error as Error).message)).toEqual([
      "[prisma-cache-plugin] lookup failed",
      "[prisma-cache-plugin] fill failed",
      "[prisma-cache-plugin] bump failed",
    ]);
    expect(reports.map((r) => ((r.error as Error).cause as Error).message)).toEqual(["lookup failed", "fill failed", "bump failed"]);
    expect(reports.map((r) => r.context)).toEqual([{ operation: "lookup", model: "User,Post" }, { operation: "fill", model: "Post", key: FILL.key }, { operation: "invalidate" }]);
  });

  it("reports a synchronous lookupNow failure as 'no answer'", () => {
    const { guard, reports } = setup(failingStore());
    expect(guard.lookupNow(LOOKUP, "User")).toBeUndefined();
    expect(reports).toEqual([
      {
        error: expect.objectContaining({ code: "STORE_ERROR", message: "[prisma-cache-plugin] lookupNow failed" }),
        context: { operation: "lookup", model: "User", key: LOOKUP.key },
      },
    ]);
  });

  it("answers lookupNow with undefined, silently, for a store without it", () => {
    const { guard, reports } = setup(silentStore());
    expect(guard.lookupNow(LOOKUP, "User")).toBeUndefined();
    expect(reports).toEqual([]);
  });

  it("passes answers through unchanged", async () => {
    const store = new MemoryStore();
    const { guard } = setup(store);
    const [found] = (await guard.lookup([LOOKUP], "User"))!;
    expect(await guard.fill({ ...FILL, fence: found!.fence }, "User")).toBe(true);
    expect(guard.lookupNow(LOOKUP, "User")!.value).toBe("v");
    expect(guard.store).toBe(store);
  });
});

describe("GuardedStore.release", () => {
  it("passes the key and lease to the store", async () => {
    const released: [string, string][] = [];
    const store: CacheStore = { ...silentStore(), release: async (key, lease) => void released.push([key, lease]) };
    const { guard, reports } = setup(store);
    await guard.release("k", "token-1");
    expect(released).toEqual([["k", "token-1"]]);
    expect(reports).toEqual([]);
  });

  it("does nothing for a store without leases", async () => {
    const { guard, reports } = setup(silentStore());
    await expect(guard.release("k", "t")).resolves.toBeUndefined();
    expect(reports).toEqual([]);
  });

  it("reports a failed or late release and never throws", async () => {
    const failing: CacheStore = { ...silentStore(), release: () => Promise.reject(new Error("release failed")) };
    const { guard, reports } = setup(failing);
    await expect(guard.release("k", "t")).resolves.toBeUndefined();
    expect(reports[0]!.context).toEqual({ operation: "release", key: "k" });

    const late: CacheStore = { ...silentStore(), release: () => new Promise(() => {}) };
    const slow = setup(late);
    const release = slow.guard.release("k", "t");
    await vi.advanceTimersByTimeAsync(50);
    await expect(release).resolves.toBeUndefined();
    expect((slow.reports[0]!.error as CacheStoreError).code).toBe("STORE_TIMEOUT");
  });
});
