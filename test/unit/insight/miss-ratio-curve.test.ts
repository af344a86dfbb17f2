import { describe, expect, it } from "vitest";
import { MissRatioCurve } from "../../../src/insight/miss-ratio-curve.ts";

/** An exact LRU of `size` entries over `stream`: the truth SHARDS estimates. */
function lruHitRatio(stream: readonly string[], size: number): number {
  const lru = new Map<string, true>();
  let hits = 0;
  for (const key of stream) {
    if (lru.delete(key)) hits++;
    lru.set(key, true);
    if (lru.size > size) lru.delete(lru.keys().next().value as string);
  }
  return hits / stream.length;
}

function zipfStream(keys: number, length: number, seed = 1): string[] {
  const cdf = new Float64Array(keys);
  let sum = 0;
  for (let k = 1; k <= keys; k++) cdf[k - 1] = sum += 1 / k;
  let state = seed;
  const random = () => (state = (Math.imul(state, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  const out: string[] = [];
  for (let i = 0; i < length; i++) {
    const u = random() * sum;
    let lo = 0;
    let hi = keys - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cdf[mid]! < u) lo = mid + 1;
      else hi = mid;
    }
    out.push(`key:${lo}`);
  }
  return out;
}

describe("MissRatioCurve", () => {
  it("is exact for a cyclic scan while every key is sampled", () => {
    const curve = new MissRatioCurve({ maxSampledKeys: 1024 });
    const stream: string[] = [];
    for (let round = 0; round < 10; round++) for (let k = 0; k < 100; k++) stream.push(`k${k}`);
    for (const key of stream) curve.record(key);
    // LRU on a loop of 100 keys: nothing hits below 100 entries, everything after the first round at 100.
    expect(curve.hitRatioAt(99)).toBeCloseTo(0, 2);
    expect(curve.hitRatioAt(101)).toBeCloseTo(0.9, 2);
    expect(curve.maxHitRatio()).toBeCloseTo(0.9, 5);
  });

  it("predicts LRU within 3 points on Zipf(1.0) while sampling a fraction of 20,000 keys", () => {
    const stream = zipfStream(20_000, 200_000);
    const curve = new MissRatioCurve({ maxSampledKeys: 1024 });
    for (const key of stream) curve.record(key);
    expect(curve.samplingRate).toBeLessThan(0.2);
    for (const size of [500, 2_000, 8_000]) {
      expect(Math.abs(curve.hitRatioAt(size) - lruHitRatio(stream, size))).toBeLessThan(0.03);
    }
  });

  it("keeps at most maxSampledKeys keys whatever the key space", () => {
    const curve = new MissRatioCurve({ maxSampledKeys: 64 });
    for (let i = 0; i < 100_000; i++) curve.record(`unique${i}`);
    const report = curve.sizing(0.5);
    expect(report.sampledKeys).toBeLessThanOrEqual(64);
    expect(report.distinctKeys).toBeGreaterThan(50_000);
    expect(report.distinctKeys).toBeLessThan(200_000);
    // No key repeats: no size helps.
    expect(report.maxHitRatio).toBe(0);
    expect(report.recommendation?.entries).toBeUndefined();
  });

  it("recommends the smallest size reaching the target, in entries and bytes", () => {
    const curve = new MissRatioCurve({ maxSampledKeys: 2048 });
    for (let round = 0; round < 20; round++) for (let k = 0; k < 1_000; k++) curve.record(`k${k}`, 100);
    const report = curve.sizing(0.9);
    expect(report.recommendation!.entries).toBeGreaterThanOrEqual(990);
    expect(report.recommendation!.entries).toBeLessThanOrEqual(1_030);
    // 1,000 entries of 100 bytes.
    expect(report.recommendation!.bytes).toBeGreaterThanOrEqual(99_000);
    expect(report.recommendation!.bytes).toBeLessThanOrEqual(103_000);
    expect(report.meanEntryBytes).toBe(100);
    expect(report.entries[0]).toEqual({ size: 1_000, hitRatio: expect.any(Number) });
    expect(report.entries.at(-1)!.size).toBe(1_000_000);
  });

  it("never falls as the size grows", () => {
    const curve = new MissRatioCurve({ maxSampledKeys: 256 });
    for (const key of zipfStream(5_000, 50_000, 3)) curve.record(key);
    const points = curve.curve();
    for (let i = 1; i < points.length; i++) expect(points[i]!.hitRatio).toBeGreaterThanOrEqual(points[i - 1]!.hitRatio);
  });
});
