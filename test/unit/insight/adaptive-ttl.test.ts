import { describe, expect, it } from "vitest";
import { AdaptiveTtl } from "../../../src/insight/adaptive-ttl.ts";

describe("AdaptiveTtl", () => {
  it("lengthens the ttl while expired refreshes find the same data, up to max", () => {
    const ttl = new AdaptiveTtl({ minMs: 1_000, maxMs: 10_000, grow: 2 });
    expect(ttl.fill("k", "v1", "first")).toBe(1_000);
    expect(ttl.fill("k", "v1", "expired")).toBe(2_000);
    expect(ttl.fill("k", "v1", "expired")).toBe(4_000);
    expect(ttl.fill("k", "v1", "expired")).toBe(8_000);
    expect(ttl.fill("k", "v1", "expired")).toBe(10_000);
  });

  it("shortens it when a refresh finds a change, down to min", () => {
    const ttl = new AdaptiveTtl({ minMs: 1_000, maxMs: 64_000, initialMs: 64_000, shrink: 0.25 });
    ttl.fill("k", "v1", "first");
    expect(ttl.fill("k", "v2", "expired")).toBe(16_000);
    expect(ttl.fill("k", "v3", "expired")).toBe(4_000);
    expect(ttl.fill("k", "v4", "expired")).toBe(1_000);
    expect(ttl.fill("k", "v5", "expired")).toBe(1_000);
    expect(ttl.stats()).toEqual({ keys: 1, lengthened: 0, shortened: 4 });
  });

  it("learns nothing from refills after an invalidation: the plugin saw that change", () => {
    const ttl = new AdaptiveTtl({ minMs: 1_000, maxMs: 64_000, grow: 2 });
    ttl.fill("k", "v1", "first");
    ttl.fill("k", "v1", "expired");
    expect(ttl.fill("k", "v2", "invalidated")).toBe(2_000);
    // The digest moved on with the invalidated refill, so the next expiry compares with v2.
    expect(ttl.fill("k", "v2", "expired")).toBe(4_000);
  });

  it("infers the cause from the clock with fillNow: early refills teach nothing", () => {
    const ttl = new AdaptiveTtl({ minMs: 1_000, maxMs: 64_000, grow: 2, shrink: 0.5 });
    expect(ttl.fillNow("k", "v1", 0)).toBe(1_000);
    // Refilled before its TTL ran out: a write through the plugin dropped it.
    expect(ttl.fillNow("k", "v2", 500)).toBe(1_000);
    // Refilled once it expired, unchanged: longer.
    expect(ttl.fillNow("k", "v2", 1_500)).toBe(2_000);
    // Expired again (at 3,500), changed: shorter.
    expect(ttl.fillNow("k", "v3", 3_600)).toBe(1_000);
  });

  it("a refused fill leaves the stored entry's expiry: the reload after it still teaches (systems.test.ts flake)", () => {
    const ttl = new AdaptiveTtl({ minMs: 1_000, maxMs: 64_000, grow: 2, shrink: 0.5 });
    expect(ttl.fillNow("k", "v1", 0)).toBe(1_000); // stored, expires at 1,000
    expect(ttl.fillNow("k", "v1", 1_000)).toBe(2_000); // a reload the store refused (a write raced it)
    ttl.refused("k");
    // The entry stored at 0 expired at 1,000: a reload at 1,100 follows an expiry, and sees a change.
    expect(ttl.fillNow("k", "v2", 1_100)).toBe(1_000);
    expect(ttl.stats()).toEqual({ keys: 1, lengthened: 1, shortened: 1 });
  });

  it("keeps state for at most maxKeys keys", () => {
    const ttl = new AdaptiveTtl({ minMs: 1_000, maxMs: 8_000, maxKeys: 100 });
    for (let i = 0; i < 1_000; i++) ttl.fill(`k${i}`, "v", "first");
    expect(ttl.stats().keys).toBe(100);
    expect(ttl.peek("k0")).toBe(1_000);
  });

  it("uses ×1.5 on an unchanged refresh and ×0.1 on a change by default", () => {
    const ttl = new AdaptiveTtl({ minMs: 100, maxMs: 100_000, initialMs: 10_000 });
    ttl.fill("k", "v1", "first");
    expect(ttl.fill("k", "v1", "expired")).toBe(15_000);
    expect(ttl.fill("k", "v2", "expired")).toBe(1_500);
  });

  it("rejects bounds that make no sense, naming them", () => {
    expect(() => new AdaptiveTtl({ minMs: 0, maxMs: 1 })).toThrow(/adaptiveTtl.min/);
    expect(() => new AdaptiveTtl({ minMs: 10, maxMs: 5 })).toThrow(/adaptiveTtl.max/);
  });
});
