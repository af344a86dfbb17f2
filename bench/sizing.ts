/**
 * Validates the SHARDS sizing estimate against the real memory store.
 *
 * One Zipf(1.0) key stream over KEYS keys is fed (a) to the miss-ratio-curve estimator and (b) through the store
 * protocol (lookup, then fill on a miss) to `memoryStore({ maxEntries })` at three sizes. Every key is a findUnique
 * by id with the stamps such a read has (namespace, the model's unique lookups, its row). Both count every access,
 * first accesses included. Prints predicted vs observed hit ratio per size.
 *
 *   npx tsx bench/sizing.ts            # KEYS=20000 REQUESTS=1000000 SAMPLE=4096 by default
 */
import { MissRatioCurve } from "../src/insight/miss-ratio-curve.ts";
import { memoryStore } from "../src/stores/memory-store.ts";
import { seededRandom, zipf } from "./zipf.ts";

const KEYS = Number(process.env.KEYS ?? 20_000);
const REQUESTS = Number(process.env.REQUESTS ?? 1_000_000);
const SAMPLE = Number(process.env.SAMPLE ?? 4096);
const SIZES = (process.env.SIZES ?? "1000,4000,10000").split(",").map(Number);
const HOUR_MS = 3_600_000;

function stream(): Uint32Array {
  const next = zipf(KEYS, 1.0, seededRandom(42));
  const ranks = new Uint32Array(REQUESTS);
  for (let i = 0; i < REQUESTS; i++) ranks[i] = next();
  return ranks;
}

async function observed(ranks: Uint32Array, maxEntries: number): Promise<number> {
  const store = memoryStore({ maxEntries, maxBytes: 1 << 30 });
  let hits = 0;
  for (const rank of ranks) {
    const key = `{pc}:e:Post:findUnique:${rank}`;
    const stamps = ["{pc}:s:*", "{pc}:s:Post:unique", `{pc}:s:Post:${rank}`];
    const found = store.lookupNow({ key, stamps, stampLifeMs: HOUR_MS });
    if (found.value !== undefined) {
      hits++;
      continue;
    }
    await store.fill({ key, stamps, fence: found.fence, value: `{"id":${rank},"title":"post ${rank}","views":0}`, ttlMs: HOUR_MS, swrMs: 0, loadMs: 1 });
  }
  await store.close();
  return hits / ranks.length;
}

async function main(): Promise<void> {
  const ranks = stream();
  const curve = new MissRatioCurve({ maxSampledKeys: SAMPLE });
  const started = performance.now();
  for (const rank of ranks) curve.record(`{pc}:e:Post:findUnique:${rank}`, 48);
  const estimateMs = performance.now() - started;
  console.log(
    `Zipf(1.0) over ${KEYS} keys, ${REQUESTS} lookups; SHARDS sample ${curve.sizing().sampledKeys} keys (rate ${curve.samplingRate.toFixed(4)}), ${((estimateMs * 1e6) / REQUESTS).toFixed(0)} ns per recorded access`,
  );
  console.log("maxEntries | predicted | observed (memoryStore) | difference");
  console.log("---:|---:|---:|---:");
  let worst = 0;
  for (const size of SIZES) {
    const predicted = curve.hitRatioAt(size);
    const actual = await observed(ranks, size);
    worst = Math.max(worst, Math.abs(predicted - actual));
    console.log(`${size} | ${pct(predicted)} | ${pct(actual)} | ${((predicted - actual) * 100).toFixed(2)} points`);
  }
  const report = curve.sizing(0.9);
  console.log(`\ncurve: ${report.entries.map((p) => `${p.size}: ${pct(p.hitRatio)}`).join(", ")}`);
  console.log(`max hit ratio ${pct(report.maxHitRatio)}; for 90%: ${report.recommendation?.entries ?? "unreachable"} entries, ${report.recommendation?.bytes ?? "?"} bytes`);
  console.log(`worst difference ${(worst * 100).toFixed(2)} points (goal: within 5)`);
  if (worst > 0.05) process.exitCode = 1;
}

function pct(value: number): string {
  return `${(value * 100).toFixed(2)}%`;
}

await main();
