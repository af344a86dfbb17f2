import { describe, expect, it } from "vitest";
import { CacheConfigError, cacheMetrics, CHANNEL_NAMES } from "../../src/index.ts";
import { channels, type FillEvent, type ReadEvent } from "../../src/observe/channels.ts";
import { describeRead, explainMiss } from "../../src/observe/debug-log.ts";
import { invalidateEvent } from "../../src/observe/invalidate-event.ts";
import { newReadEvent, noteHit, noteMiss, REASONS } from "../../src/observe/read-record.ts";

const plan = { key: "{pc}:e:Post:findMany:={}", stamps: ["{pc}:s:*", "{pc}:s:m:Post"], policy: { ttlMs: 60_000, tags: ["feed"] } };

/** Runs one traced read on the read channel, as the read path does. */
function tracedRead(event: ReadEvent): Promise<unknown> {
  return channels.read.tracePromise(() => Promise.resolve([]), event);
}

describe("channel names", () => {
  it("are all prisma-cache:*", () => {
    expect(Object.values(CHANNEL_NAMES).every((name) => name.startsWith("prisma-cache:"))).toBe(true);
    expect(new Set(Object.values(CHANNEL_NAMES)).size).toBe(Object.keys(CHANNEL_NAMES).length);
  });

  it("have no subscribers until someone subscribes, so reads build no events", () => {
    expect(channels.read.hasSubscribers).toBe(false);
    expect(channels.fill.hasSubscribers).toBe(false);
    expect(channels.invalidate.hasSubscribers).toBe(false);
  });
});

describe("read records", () => {
  it("work out a hit's age and remaining ttl from the call's ttl, and a stale hit's negative ttl", () => {
    const hit = newReadEvent("Post", "findMany");
    noteHit(hit, plan, "a,b", 45_000, true);
    expect(hit).toMatchObject({ status: "hit", layer: "l1", key: plan.key, ageMs: 15_000, ttlMs: 45_000, tags: ["feed"] });
    const stale = newReadEvent("Post", "findMany");
    noteHit(stale, plan, "a,b", -2_000, false);
    expect(stale).toMatchObject({ status: "stale", layer: "l2", ageMs: 62_000, ttlMs: -2_000 });
    const miss = newReadEvent("Post", "findMany");
    noteMiss(miss, plan, "a,b", REASONS.noEntry);
    expect(miss).toMatchObject({ status: "miss", layer: null, ageMs: 0, ttlMs: 60_000 });
  });
});

describe("debug log explanations", () => {
  const stored = { fence: "t1,t2", stamps: plan.stamps, expiresAt: Date.now() + 60_000 };

  it("names the stamps that moved since the entry was stored", () => {
    expect(explainMiss("t1,t3", stored)).toBe("stamp m:Post moved since it was stored");
    expect(explainMiss("t9,t3", stored)).toBe("stamps *, m:Post moved since it was stored");
  });

  it("tells an expired entry from an evicted one, and one this process never stored", () => {
    expect(explainMiss("t1,t2", { ...stored, expiresAt: Date.now() - 1 })).toBe("the entry expired");
    expect(explainMiss("t1,t2", stored)).toBe("no entry: evicted from the store");
    expect(explainMiss("t1,t2", undefined)).toMatch(/^no entry: not stored by this process/);
  });

  it("prints the status, layer, times and key of a read", () => {
    const hit = newReadEvent("Post", "findMany");
    noteHit(hit, plan, "a,b", 45_000, true);
    expect(describeRead(hit, hit.reason)).toBe(`Post.findMany hit l1 age=15000ms ttl=45000ms key=${plan.key} (fresh entry (in process))`);
    expect(describeRead(newReadEvent("User", "count"), REASONS.transaction)).toBe("User.count bypass (bypassed: inside an interactive transaction)");
  });
});

describe("invalidation events", () => {
  it("name the models, tags and epoch the stamps stand for", () => {
    expect(invalidateEvent("pc", ["m:Post", "r:Post:id=1", "u:User", "t:feed", "*"])).toEqual({
      prefix: "pc",
      stamps: ["m:Post", "r:Post:id=1", "u:User", "t:feed", "*"],
      models: ["Post", "User"],
      tags: ["feed"],
      all: true,
    });
  });
});

describe("cacheMetrics()", () => {
  it("renders counters and cumulative histograms in the Prometheus text format, escaping label values", async () => {
    const metrics = cacheMetrics({ prefix: "app_cache", buckets: [0.001, 1] });
    try {
      const event = newReadEvent('Odd"Model\\', "findMany");
      noteMiss(event, plan, "a", REASONS.noEntry);
      await tracedRead(event);
      const fill: FillEvent = { model: "Post", operation: "findMany", key: plan.key, stamps: plan.stamps, fence: "a", ttlMs: 1, swrMs: 0, outcome: "stored" };
      await channels.fill.tracePromise(() => Promise.resolve(), fill);
      const text = metrics.prometheus();
      expect(text).toContain('app_cache_reads_total{model="Odd\\"Model\\\\",operation="findMany",status="miss",layer="none"} 1\n');
      expect(text).toMatch(/app_cache_read_duration_seconds_bucket\{model="Odd\\"Model\\\\",operation="findMany",status="miss",layer="none",le="0.001"\} 1\n/);
      expect(text).toContain('app_cache_read_duration_seconds_bucket{model="Odd\\"Model\\\\",operation="findMany",status="miss",layer="none",le="1"} 1\n');
      expect(text).toContain('app_cache_read_duration_seconds_bucket{model="Odd\\"Model\\\\",operation="findMany",status="miss",layer="none",le="+Inf"} 1\n');
      expect(text).toContain('app_cache_fills_total{model="Post",operation="findMany",outcome="stored"} 1\n');
      expect(text).toContain("# TYPE app_cache_errors_total counter\n");
      expect(metrics.contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    } finally {
      metrics.close();
    }
    expect(channels.read.hasSubscribers, "close() unsubscribes").toBe(false);
  });

  it("rejects a prefix that is no metric name and buckets that are not ascending seconds, naming the field", () => {
    expect(() => cacheMetrics({ prefix: "9 lives" })).toThrow(expect.objectContaining({ field: "cacheMetrics.prefix" }));
    expect(() => cacheMetrics({ buckets: [1, 0.5] })).toThrow(CacheConfigError);
    expect(() => cacheMetrics({ buckets: [] })).toThrow(expect.objectContaining({ field: "cacheMetrics.buckets" }));
  });
});
