import { CacheStoreError, type CacheOperation } from "../errors.ts";
import { BUMP_AND_PUBLISH, FILL, LOOKUP, WRITE_THROUGH } from "./redis-scripts.ts";
import type { FillRequest, LookupProgress, LookupRequest, LookupResult, WriteThroughRequest } from "./store.ts";

/** What the single-node path uses of its Redis store (redis-store.ts). */
export interface SingleNodeRunner {
  mget(...keys: string[]): Promise<(string | null)[]>;
  del(...keys: string[]): Promise<number>;
  /** Runs a script of redis-scripts.ts. */
  run(operation: CacheOperation, script: string, keys: string[], args: (string | number)[]): Promise<unknown>;
  nextToken(): string;
  leaseKey(key: string): string;
  parseEntry(fence: string, entry: string, now: number): LookupResult;
  /** ioredis's `keyPrefix`, which scripts see on keys and messages must not carry. */
  readonly keyPrefix: string;
  readonly publishCommand: "PUBLISH" | "SPUBLISH";
}

/**
 * The Redis store's operations on one node, where every key of a call may go into one command: a batch of lookups
 * is one MGET (plus one LOOKUP script call for those it cannot answer), a batch of fills one FILL call, a bump one
 * DEL or one BUMP_AND_PUBLISH call (redis-scripts.ts).
 */
export class SingleNodePath {
  constructor(private readonly redis: SingleNodeRunner) {}

  /**
   * Share of the lookups asking for a lease that found no fresh entry, lately (a moving average over about 64).
   * Above `SCRIPT_FIRST_SHARE` they go straight to the LOOKUP script, which answers a hit as well and takes the
   * lease in the same round trip when the entry is absent or stale: a miss then costs one lookup round trip, not an
   * MGET and then the script. Below it they go through the MGET first, which answers a hit for less than a script.
   */
  private missShare = 0;

  /**
   * Keys this store last saw with an entry (filled, or found): their lookups take the MGET even while most lookups
   * miss, since they most likely hit. Bounded: cleared when full.
   */
  private readonly present = new Set<string>();

  private sawEntry(key: string): void {
    if (key.length > MAX_PRESENT_KEY) return;
    if (this.present.size >= MAX_PRESENT) this.present.clear();
    this.present.add(key);
  }

  /**
   * Requests that may take a lease go to the LOOKUP script first while lookups mostly miss (see `missShare`),
   * unless this store last saw their key with an entry (`present`); the others (and all of them while lookups
   * mostly hit) are answered by one MGET of the entries and their stamps, sent at the same time; those it cannot
   * answer (a stamp is missing, or a lease is wanted) go through the script in a second round trip.
   */
  async lookup(requests: readonly LookupRequest[], signal?: LookupProgress): Promise<LookupResult[]> {
    const results: LookupResult[] = new Array(requests.length);
    const leasing: number[] = [];
    const peeking: number[] = [];
    if (this.missShare > SCRIPT_FIRST_SHARE) {
      requests.forEach((request, i) => (request.lease !== undefined && request.lease.ms > 0 && !this.present.has(request.key) ? leasing : peeking).push(i));
    } else {
      for (let i = 0; i < requests.length; i++) peeking.push(i);
    }
    // While lookups mostly hit, the MGET is the only step a hit waits for (no Promise.all around it).
    const rest =
      leasing.length === 0
        ? await this.lookupByMget(requests, peeking, results)
        : (await Promise.all([peeking.length === 0 ? [] : this.lookupByMget(requests, peeking, results), this.lookupByScript(requests, leasing, results)]))[0];
    if (rest.length > 0) {
      answerEarly(results, signal);
      if (signal?.aborted) throw new CacheStoreError("STORE_TIMEOUT", "lookup", "lookup abandoned by its caller");
      await this.lookupByScript(requests, rest, results);
    }
    requests.forEach((request, i) => {
      if (request.lease === undefined || request.lease.ms === 0) return;
      const found = results[i]!;
      const missed = found.value === undefined || found.freshForMs! <= 0 ? 1 : 0;
      this.missShare += (missed - this.missShare) / 64;
      if (found.value === undefined) this.present.delete(request.key);
      else this.sawEntry(request.key);
    });
    return results;
  }

  /** Answers `which` of `requests` from one MGET into `results`; returns those it could not answer. */
  private async lookupByMget(all: readonly LookupRequest[], which: readonly number[], results: LookupResult[]): Promise<number[]> {
    const requests = which.map((i) => all[i]!);
    const stamps = [...new Set(requests.flatMap((request) => request.stamps))];
    // Peeking at a lease (ms 0) is answered here; taking one needs the script.
    const peeks = requests.flatMap((request, i) => (request.lease?.ms === 0 ? [i] : []));
    const values = await this.redis.mget(...requests.map((request) => request.key), ...peeks.map((i) => this.redis.leaseKey(requests[i]!.key)), ...stamps);
    const now = Date.now();
    const stampsAt = requests.length + peeks.length;
    const tokens = new Map<string, string | null>(stamps.map((stamp, i) => [stamp, values[stampsAt + i] ?? null]));
    const holders = new Map<number, string | null>(peeks.map((i, j) => [i, values[requests.length + j] ?? null]));
    const rest: number[] = [];
    requests.forEach((request, i) => {
      const parts = request.stamps.map((stamp) => tokens.get(stamp));
      if (parts.some((token) => token == null)) return void rest.push(which[i]!);
      const fence = parts.join(",");
      const entry = values[i];
      const found = entry?.startsWith(`${fence}\n`) ? this.redis.parseEntry(fence, entry, now) : { fence };
      if (request.lease && (found.value === undefined || found.freshForMs! <= 0)) {
        // Taking a lease needs the script.
        if (request.lease.ms > 0) return void rest.push(which[i]!);
        const holder = holders.get(i);
        if (holder != null && holder !== request.lease.token) found.leaseBusy = true;
      }
      results[which[i]!] = found;
    });
    return rest;
  }

  /** Answers `which` of `requests` through the LOOKUP script (one round trip) into `results`. */
  private async lookupByScript(all: readonly LookupRequest[], which: readonly number[], results: LookupResult[]): Promise<void> {
    const keys: string[] = [];
    const args: (string | number)[] = [this.redis.nextToken(), Date.now(), which.length];
    for (const i of which) {
      const request = all[i]!;
      keys.push(request.key, this.redis.leaseKey(request.key), ...request.stamps);
      args.push(request.stamps.length, Math.max(1, Math.ceil(request.stampLifeMs)), Math.ceil(request.lease?.ms ?? 0), request.lease?.token ?? "");
    }
    const reply = (await this.redis.run("lookup", LOOKUP, keys, args)) as string[];
    const later = Date.now();
    which.forEach((i, j) => {
      const [fence, entry, lease] = [reply[3 * j]!, reply[3 * j + 1]!, reply[3 * j + 2]!];
      const found: LookupResult = entry === "" ? { fence } : this.redis.parseEntry(fence, entry, later);
      if (lease === "-") found.leaseBusy = true;
      else if (lease === "+") found.leased = true;
      results[i] = found;
    });
  }

  /** Stores many entries in one script call (one round trip), each under its own fence. */
  async fillMany(requests: readonly FillRequest[]): Promise<boolean[]> {
    const now = Date.now();
    const keys: string[] = [];
    const args: (string | number)[] = [];
    for (const request of requests) {
      const life = Math.ceil(request.ttlMs + request.swrMs);
      keys.push(request.key, this.redis.leaseKey(request.key), ...request.stamps);
      args.push(request.stamps.length, request.fence, Math.round(now + request.ttlMs), now + life, Math.round(request.loadMs), request.value, request.lease ?? "", life);
    }
    const reply = (await this.redis.run("fill", FILL, keys, args)) as number[];
    requests.forEach((request, i) => {
      if (reply[i] === 1) this.sawEntry(request.key);
    });
    return reply.map((stored) => stored === 1);
  }

  async bump(stamps: readonly string[]): Promise<void> {
    await this.redis.del(...stamps);
  }

  async bumpAndPublish(stamps: readonly string[], channel: string, id: string): Promise<number> {
    return Number(await this.redis.run("bump", BUMP_AND_PUBLISH, [...stamps], [channel, id, this.redis.keyPrefix.length, this.redis.publishCommand]));
  }

  async writeThroughAndPublish(request: WriteThroughRequest, channel: string, id: string): Promise<{ stored: boolean; receivers: number }> {
    const { unchangedSince } = request;
    const keys = [...unchangedSince.stamps, ...request.bump];
    const args: (string | number)[] = [
      unchangedSince.stamps.length,
      request.bump.length,
      request.fills.length,
      unchangedSince.fence,
      this.redis.nextToken(),
      channel,
      id,
      Date.now(),
      this.redis.keyPrefix.length,
      this.redis.publishCommand,
    ];
    for (const fill of request.fills) {
      keys.push(fill.key, ...fill.stamps);
      args.push(fill.stamps.length, Math.ceil(fill.ttlMs), Math.ceil(fill.swrMs), fill.value);
    }
    const [stored, receivers] = (await this.redis.run("writeThrough", WRITE_THROUGH, keys, args)) as [number, number];
    return { stored: stored === 1, receivers };
  }
}

/** Hands the answers known so far to the caller, which then starts timing the lookup's next round trip. */
function answerEarly(results: readonly (LookupResult | undefined)[], signal: LookupProgress | undefined): void {
  if (signal?.answered) results.forEach((result, i) => result && signal.answered!(i, result));
  signal?.nextStep?.();
}

/** Above this share of misses, lookups that may take a lease go to the script first (see `missShare`). */
const SCRIPT_FIRST_SHARE = 0.25;
/** Bounds of `SingleNodePath.present`: keys kept, and the longest key kept. */
const MAX_PRESENT = 10_000;
const MAX_PRESENT_KEY = 512;
