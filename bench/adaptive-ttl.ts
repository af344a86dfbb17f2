/**
 * Adaptive TTL vs fixed TTLs on a workload where keys change out of band at different rates.
 *
 * A discrete-event simulation (simulated clock, seeded, no I/O), so the figures are exact for the workload:
 * - KEYS keys; 80% "stable" (an out-of-band change every 2 h on average), 20% "volatile" (every 30 s), Poisson;
 * - reads at READS_PER_S in all, keys by Zipf(1.0) over a random permutation (both kinds have hot keys);
 * - a cache entry is served until its TTL ends; a miss reads the current version and stores it with the TTL
 *   (fixed, or `AdaptiveTtl.fillNow(key, version, now)`, which infers that the refill followed an expiry).
 * Changes bypass the plugin, so nothing invalidates: only the TTL bounds staleness. A served value is stale from
 * the first change after it was read; staleness of a read = how long it had been stale then (0 if current).
 *
 *   npx tsx bench/adaptive-ttl.ts
 */
import { AdaptiveTtl } from "../src/insight/adaptive-ttl.ts";
import { seededRandom, zipf } from "./zipf.ts";

const KEYS = 2_000;
const READS_PER_S = 200;
const DURATION_S = 4 * 3600;
const STABLE_CHANGE_S = 2 * 3600;
const VOLATILE_CHANGE_S = 30;

interface Result {
  name: string;
  hitRatio: number;
  staleReads: number;
  /** Mean staleness per read, ms. */
  meanStaleMs: number;
  /** Mean staleness of the stale reads, ms. */
  meanStaleOfStaleMs: number;
}

function simulate(name: string, ttlFor: (key: number, version: number, now: number) => number): Result {
  const random = seededRandom(7);
  const pick = zipf(KEYS, 1.0, random);
  const permutation = Array.from({ length: KEYS }, (_, i) => i);
  for (let i = KEYS - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [permutation[i], permutation[j]] = [permutation[j]!, permutation[i]!];
  }
  const meanChangeMs = permutation.map((_, key) => (key % 5 === 0 ? VOLATILE_CHANGE_S : STABLE_CHANGE_S) * 1000);
  const exponential = (meanMs: number) => -Math.log(1 - random()) * meanMs;
  const version = new Uint32Array(KEYS);
  const nextChange = meanChangeMs.map((mean) => exponential(mean));
  const entries: ({ version: number; expiresAt: number; staleSince: number } | undefined)[] = new Array(KEYS);

  let now = 0;
  let reads = 0;
  let hits = 0;
  let staleReads = 0;
  let staleMs = 0;
  const end = DURATION_S * 1000;
  while (now < end) {
    now += exponential(1000 / READS_PER_S);
    const key = permutation[pick()]!;
    // Apply this key's out-of-band changes up to now; the cached copy turns stale at the first one.
    while (nextChange[key]! <= now) {
      version[key]!++;
      const entry = entries[key];
      if (entry !== undefined && entry.staleSince === Number.POSITIVE_INFINITY) entry.staleSince = nextChange[key]!;
      nextChange[key]! += exponential(meanChangeMs[key]!);
    }
    reads++;
    const entry = entries[key];
    if (entry !== undefined && now < entry.expiresAt) {
      hits++;
      if (entry.staleSince <= now) {
        staleReads++;
        staleMs += now - entry.staleSince;
      }
      continue;
    }
    const ttlMs = ttlFor(key, version[key]!, now);
    entries[key] = { version: version[key]!, expiresAt: now + ttlMs, staleSince: Number.POSITIVE_INFINITY };
  }
  return { name, hitRatio: hits / reads, staleReads: staleReads / reads, meanStaleMs: staleMs / reads, meanStaleOfStaleMs: staleReads === 0 ? 0 : staleMs / staleReads };
}

const fixed = [1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1800].map((seconds) => simulate(`fixed ${seconds} s`, () => seconds * 1000));
const adaptiveConfigs = (
  process.env.CONFIGS
    ? JSON.parse(process.env.CONFIGS)
    : [
        { minMs: 1_000, maxMs: 120_000 },
        { minMs: 1_000, maxMs: 300_000 },
        { minMs: 1_000, maxMs: 600_000 },
      ]
) as { minMs: number; maxMs: number; grow?: number; shrink?: number }[];
const adaptive = adaptiveConfigs.map((options) => {
  const ttl = new AdaptiveTtl(options);
  return simulate(`adaptive [${options.minMs / 1000} s, ${options.maxMs / 1000} s] ×${options.grow ?? 1.5}/×${options.shrink ?? 0.1}`, (key, v, now) =>
    ttl.fillNow(String(key), String(v), now),
  );
});

console.log(
  `${KEYS} keys (80% change every ${STABLE_CHANGE_S / 3600} h, 20% every ${VOLATILE_CHANGE_S} s, out of band), ${READS_PER_S} reads/s Zipf(1.0), ${DURATION_S / 3600} h simulated`,
);
console.log("policy | hit ratio | stale reads | mean staleness per read | mean staleness of a stale read");
console.log("---|---:|---:|---:|---:");
for (const r of [...fixed, ...adaptive]) {
  console.log(
    `${r.name} | ${(r.hitRatio * 100).toFixed(2)}% | ${(r.staleReads * 100).toFixed(2)}% | ${r.meanStaleMs.toFixed(1)} ms | ${(r.meanStaleOfStaleMs / 1000).toFixed(2)} s`,
  );
}
for (const a of adaptive) {
  // The best fixed TTL at equal or lower staleness: the highest hit ratio among those no staler than adaptive.
  const eligible = fixed.filter((f) => f.meanStaleMs <= a.meanStaleMs && f.staleReads <= a.staleReads);
  const best = eligible.sort((x, y) => y.hitRatio - x.hitRatio)[0];
  console.log(
    `${a.name}: hit ratio ${(a.hitRatio * 100).toFixed(2)}% vs ${best ? `${(best.hitRatio * 100).toFixed(2)}% for the best fixed TTL no staler (${best.name}, ${best.meanStaleMs.toFixed(1)} ms/read, ${(best.staleReads * 100).toFixed(2)}% stale reads)` : "no fixed TTL as fresh"}; adaptive ${a.meanStaleMs.toFixed(1)} ms/read, ${(a.staleReads * 100).toFixed(2)}% stale reads`,
  );
}
