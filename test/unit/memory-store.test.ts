import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { CacheConfigError } from "../../src/errors.ts";
import { memoryStore, MemoryStore } from "../../src/stores/memory-store.ts";
import { tokenSource, type FillRequest, type LookupRequest } from "../../src/stores/store.ts";

const STAMPS = ["{pc}:s:*", "{pc}:s:m:User"];

const lookupOf = (key: string, stamps: readonly string[] = STAMPS, stampLifeMs = 60_000): LookupRequest => ({ key, stamps, stampLifeMs });

function fillOf(key: string, fence: string, value: string, extra: Partial<FillRequest> = {}): FillRequest {
  return { key, stamps: STAMPS, fence, value, ttlMs: 60_000, swrMs: 0, loadMs: 3, ...extra };
}

/** Looks `key` up and fills it under the fence the lookup returned. */
async function put(store: MemoryStore, key: string, value: string, extra: Partial<FillRequest> = {}): Promise<boolean> {
  const stamps = extra.stamps ?? STAMPS;
  const [{ fence }] = (await store.lookup([lookupOf(key, stamps)])) as [{ fence: string }];
  return store.fill(fillOf(key, fence, value, { ...extra, stamps }));
}

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(new Date("2025-01-01T00:00:00Z"));
});
afterEach(() => {
  vi.useRealTimers();
});

describe("MemoryStore: the store rules", () => {
  it("serves an entry filled under the fence its lookup returned", async () => {
    const store = memoryStore();
    const [miss] = await store.lookup([lookupOf("a")]);
    expect(miss!.value).toBeUndefined();
    expect(await store.fill(fillOf("a", miss!.fence, "A"))).toBe(true);
    const [hit] = await store.lookup([lookupOf("a")]);
    expect(hit).toEqual({ fence: miss!.fence, value: "A", freshForMs: 60_000, loadMs: 3 });
  });

  it("returns the same fence to lookups while no stamp moves", async () => {
    const store = memoryStore();
    const [first, second] = await store.lookup([lookupOf("a"), lookupOf("b")]);
    expect(first!.fence).toBe(second!.fence);
    expect(first!.fence.split(",")).toHaveLength(2);
  });

  it("refuses a fill when a stamp was bumped between the lookup and the fill", async () => {
    const store = memoryStore();
    const [{ fence }] = (await store.lookup([lookupOf("a")])) as [{ fence: string }];
    await store.bump(["{pc}:s:m:User"]);
    expect(await store.fill(fillOf("a", fence, "old"))).toBe(false);
    expect((await store.lookup([lookupOf("a")]))[0]!.value).toBeUndefined();
  });

  it("refuses a fill under an old fence even after another lookup recreated the bumped stamp", async () => {
    const store = memoryStore();
    const [before] = await store.lookup([lookupOf("a")]);
    await store.bump(["{pc}:s:m:User"]);
    const [after] = await store.lookup([lookupOf("a")]);
    expect(after!.fence).not.toBe(before!.fence);
    expect(await store.fill(fillOf("a", before!.fence, "old"))).toBe(false);
    expect(await store.fill(fillOf("a", after!.fence, "new"))).toBe(true);
    expect((await store.lookup([lookupOf("a")]))[0]!.value).toBe("new");
  });

  it("misses after a bump of any stamp the entry depends on", async () => {
    for (const stamp of STAMPS) {
      const store = memoryStore();
      await put(store, "a", "A");
      await store.bump([stamp]);
      expect((await store.lookup([lookupOf("a")]))[0]!.value).toBeUndefined();
    }
  });

  it("keeps serving entries that do not depend on the bumped stamp", async () => {
    const store = memoryStore();
    await put(store, "user", "U", { stamps: ["{pc}:s:*", "{pc}:s:m:User"] });
    await put(store, "post", "P", { stamps: ["{pc}:s:*", "{pc}:s:m:Post"] });
    await store.bump(["{pc}:s:m:User"]);
    expect((await store.lookup([lookupOf("user", ["{pc}:s:*", "{pc}:s:m:User"])]))[0]!.value).toBeUndefined();
    expect((await store.lookup([lookupOf("post", ["{pc}:s:*", "{pc}:s:m:Post"])]))[0]!.value).toBe("P");
  });

  it("gives a recreated stamp a new token, so entries filled before it was lost stay invalid", async () => {
    const store = memoryStore();
    await put(store, "a", "A");
    const [before] = await store.lookup([lookupOf("a")]);
    store.clear();
    await put(store, "other", "O");
    const [after] = await store.lookup([lookupOf("a")]);
    expect(after!.value).toBeUndefined();
    expect(after!.fence.split(",")).not.toContain(before!.fence.split(",")[0]);
    expect(after!.fence.split(",")).not.toContain(before!.fence.split(",")[1]);
  });

  it("invalidates, never validates, entries whose stamps the stamp cap dropped", async () => {
    const store = memoryStore({ maxEntries: 1 });
    await put(store, "a", "A", { stamps: ["{pc}:s:r:User:id=#1"] });
    // maxEntries 1 allows at least 1024 stamps: create more, so the least recently filled ones go.
    await store.lookup(Array.from({ length: 1100 }, (_, i) => lookupOf(`k${i}`, [`{pc}:s:r:Post:id=#${i}`])));
    expect((await store.lookup([lookupOf("a", ["{pc}:s:r:User:id=#1"])]))[0]!.value).toBeUndefined();
  });

  it("never hands out a token another store (or process) could hand out", async () => {
    const [a] = await memoryStore().lookup([lookupOf("a", ["{pc}:s:*"])]);
    const [b] = await memoryStore().lookup([lookupOf("a", ["{pc}:s:*"])]);
    expect(a!.fence).not.toBe(b!.fence);
    expect(tokenSource()()).not.toBe(tokenSource()());
  });

  it("refuses a fill whose stamps no lookup created", async () => {
    const store = memoryStore();
    expect(await store.fill(fillOf("a", "made-up", "A"))).toBe(false);
    expect(store.size).toBe(0);
  });

  it("replaces an entry on a second fill", async () => {
    const store = memoryStore();
    await put(store, "a", "first");
    await put(store, "a", "second");
    expect((await store.lookup([lookupOf("a")]))[0]!.value).toBe("second");
    expect(store.size).toBe(1);
  });

  it("answers lookupNow synchronously like lookup", async () => {
    const store = memoryStore();
    await put(store, "a", "A");
    expect(store.lookupNow(lookupOf("a")).value).toBe("A");
  });

  it("drops everything on clear and close", async () => {
    const store = memoryStore();
    await put(store, "a", "A");
    await store.close();
    expect(store.size).toBe(0);
    expect((await store.lookup([lookupOf("a")]))[0]!.value).toBeUndefined();
  });
});

describe("MemoryStore: time", () => {
  it("serves an entry until its ttl ends, then misses", async () => {
    const store = memoryStore();
    await put(store, "a", "A", { ttlMs: 1000 });
    vi.advanceTimersByTime(999);
    expect((await store.lookup([lookupOf("a")]))[0]).toMatchObject({ value: "A", freshForMs: 1 });
    vi.advanceTimersByTime(1);
    expect((await store.lookup([lookupOf("a")]))[0]!.value).toBeUndefined();
    expect(store.size).toBe(0);
  });

  it("serves an entry as stale (negative freshForMs) within swr, then misses", async () => {
    const store = memoryStore();
    await put(store, "a", "A", { ttlMs: 1000, swrMs: 5000 });
    vi.setSystemTime(Date.now() + 3000);
    const [stale] = await store.lookup([lookupOf("a")]);
    expect(stale!.value).toBe("A");
    expect(stale!.freshForMs).toBe(-2000);
    vi.setSystemTime(Date.now() + 3000);
    expect((await store.lookup([lookupOf("a")]))[0]!.value).toBeUndefined();
  });

  it("keeps the stamps of an entry alive for its ttl + swr, even when the lookup asked for less", async () => {
    const store = memoryStore();
    const [{ fence }] = (await store.lookup([lookupOf("a", STAMPS, 100)])) as [{ fence: string }];
    await store.fill(fillOf("a", fence, "A", { ttlMs: 10_000, swrMs: 0 }));
    vi.advanceTimersByTime(5000);
    expect((await store.lookup([lookupOf("a", STAMPS, 100)]))[0]!.value).toBe("A");
  });

  it("recreates a stamp that outlived its life with a new token", async () => {
    const store = memoryStore();
    const [first] = await store.lookup([lookupOf("a", STAMPS, 1000)]);
    vi.advanceTimersByTime(1000);
    const [second] = await store.lookup([lookupOf("a", STAMPS, 1000)]);
    expect(second!.fence).not.toBe(first!.fence);
    expect(await store.fill(fillOf("a", first!.fence, "A"))).toBe(false);
  });
});

describe("MemoryStore: bounds", () => {
  it("evicts the least recently used entry beyond maxEntries", async () => {
    const store = memoryStore({ maxEntries: 2 });
    await put(store, "a", "A");
    await put(store, "b", "B");
    await store.lookup([lookupOf("a")]); // a is now the most recently used
    await put(store, "c", "C");
    expect(store.size).toBe(2);
    const [a, b, c] = await store.lookup([lookupOf("a"), lookupOf("b"), lookupOf("c")]);
    expect(a!.value).toBe("A");
    expect(b!.value).toBeUndefined();
    expect(c!.value).toBe("C");
  });

  it("evicts the least recently used entries beyond maxBytes", async () => {
    const { fence } = (await memoryStore().lookup([lookupOf("x")]))[0]!;
    // An entry weighs its key, value and fence lengths.
    const entryBytes = 1 + 100 + fence.length;
    const store = memoryStore({ maxBytes: entryBytes * 2 });
    await put(store, "a", "A".repeat(100));
    await put(store, "b", "B".repeat(100));
    expect(store.size).toBe(2);
    await put(store, "c", "C".repeat(100));
    expect(store.size).toBe(2);
    const [a, b, c] = await store.lookup([lookupOf("a"), lookupOf("b"), lookupOf("c")]);
    expect(a!.value).toBeUndefined();
    expect(b!.value).toBe("B".repeat(100));
    expect(c!.value).toBe("C".repeat(100));
  });

  it("does not keep a single entry larger than maxBytes", async () => {
    const store = memoryStore({ maxBytes: 50 });
    await put(store, "a", "A".repeat(100));
    expect(store.size).toBe(0);
  });

  it("frees the bytes of replaced and expired entries", async () => {
    const { fence } = (await memoryStore().lookup([lookupOf("x")]))[0]!;
    const store = memoryStore({ maxBytes: (1 + 10 + fence.length) * 2 });
    for (let i = 0; i < 5; i++) await put(store, "a", String(i).repeat(10));
    await put(store, "b", "B".repeat(10), { ttlMs: 10 });
    vi.advanceTimersByTime(10);
    await store.lookup([lookupOf("b")]);
    await put(store, "c", "C".repeat(10));
    const [a, c] = await store.lookup([lookupOf("a"), lookupOf("c")]);
    expect(a!.value).toBe("4".repeat(10));
    expect(c!.value).toBe("C".repeat(10));
  });

  it("has documented defaults", () => {
    const store = new MemoryStore();
    expect(store.maxEntries).toBe(10_000);
    expect(store.maxBytes).toBe(64 * 1024 * 1024);
    expect(store.name).toBe("memory");
  });

  it.each([
    ["maxEntries", 0],
    ["maxEntries", -1],
    ["maxEntries", 1.5],
    ["maxEntries", NaN],
    ["maxEntries", Infinity],
    ["maxBytes", 0],
    ["maxBytes", "1mb"],
  ])("rejects %s = %s", (field, value) => {
    let error: unknown;
    try {
      memoryStore({ [field]: value } as never);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(CacheConfigError);
    expect((error as CacheConfigError).code).toBe("CONFIG_INVALID");
    expect((error as CacheConfigError).field).toBe(`memoryStore.${field}`);
    expect((error as CacheConfigError).message).toContain(
      `memoryStore.${field} must be a positive integer, received: ${typeof value === "string" ? JSON.stringify(value) : String(value)}`,
    );
  });
});
