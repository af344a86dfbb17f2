import { CacheStoreError, type CacheOperation } from "../errors.ts";
import { DROP_ENTRY, ENTRY_LEASE, HOLD_STAMP, SET_ENTRY, STAMP, SWAP_STAMP } from "./redis-scripts.ts";
import type { FillRequest, LookupProgress, LookupRequest, LookupResult, WriteThroughRequest } from "./store.ts";

/** What the Cluster path uses of its Redis store (redis-store.ts). */
export interface ClusterRunner {
  /** A single-key GET through the Cluster client (it follows MOVED and ASK). */
  get(key: string): Promise<string | null>;
  del(key: string): Promise<unknown>;
  /** Runs a script of redis-scripts.ts; Cluster routes it by its first key. */
  run(operation: CacheOperation, script: string, keys: string[], args: (string | number)[]): Promise<unknown>;
  /** Publishes on a (sharded) channel; `slotKey` is a key in the channel's slot. */
  publish(channel: string, message: string, slotKey: string): Promise<number>;
  nextToken(): string;
  leaseKey(key: string): string;
  parseEntry(fence: string, entry: string, now: number): LookupResult;
  /** The stored form of an entry ("fence \n fresh-until \n expires-at \n load ms \n value"). */
  entryText(fence: string, freshUntil: number, expiresAt: number, loadMs: number, value: string): string;
}

/**
 * The Redis store's operations on Redis Cluster, where keys spread over the slots (each key carries its own hash
 * tag: read/keys.ts, stamps/names.ts) and no command may span slots. Every step sends one single-key (or
 * entry-and-lease) command per key, all at once: ioredis writes them to each node's connection without waiting, so
 * a step costs one round trip per node, in parallel, and follows MOVED/ASK while slots migrate.
 *
 * Nothing spans an entry and its stamps atomically. The fence rule makes that safe (docs/cluster.md): an entry
 * records the tokens it was filled under, every hit compares them with the stamps read in the same step, and a
 * stamp's token is never reused, so a fill that lost a race to a write stores an entry that can never validate.
 */
export class ClusterPath {
  constructor(private readonly redis: ClusterRunner) {}

  /**
   * Step 1 reads every entry, peeked lease and stamp (one parallel round trip per node) and answers hits at once;
   * step 2, only for requests that need it, creates missing stamps (single-key SET NX) and takes leases.
   */
  async lookup(requests: readonly LookupRequest[], signal?: LookupProgress): Promise<LookupResult[]> {
    const stamps = [...new Set(requests.flatMap((request) => request.stamps))];
    const peeks = requests.flatMap((request, i) => (request.lease?.ms === 0 ? [i] : []));
    const keys = [...requests.map((request) => request.key), ...peeks.map((i) => this.redis.leaseKey(requests[i]!.key)), ...stamps];
    const values = await Promise.all(keys.map((key) => this.redis.get(key)));
    const now = Date.now();
    const stampsAt = requests.length + peeks.length;
    const tokens = new Map<string, string | null>(stamps.map((stamp, i) => [stamp, values[stampsAt + i] ?? null]));
    const holders = new Map<number, string | null>(peeks.map((i, j) => [i, values[requests.length + j] ?? null]));
    const results: (LookupResult | undefined)[] = new Array(requests.length);
    const rest: number[] = [];
    requests.forEach((request, i) => {
      const parts = request.stamps.map((stamp) => tokens.get(stamp));
      if (parts.some((token) => token == null)) return void rest.push(i);
      const fence = parts.join(",");
      const entry = values[i];
      const found = entry?.startsWith(`${fence}\n`) ? this.redis.parseEntry(fence, entry, now) : { fence };
      const wantsLease = found.value === undefined || found.freshForMs! <= 0;
      if (request.lease && wantsLease) {
        if (request.lease.ms > 0) return void rest.push(i);
        const holder = holders.get(i);
        if (holder != null && holder !== request.lease.token) found.leaseBusy = true;
      }
      results[i] = found;
    });
    if (rest.length === 0) return results as LookupResult[];
    if (signal?.answered) results.forEach((result, i) => result && signal.answered!(i, result));
    signal?.nextStep?.();
    if (signal?.aborted) throw new CacheStoreError("STORE_TIMEOUT", "lookup", "lookup abandoned by its caller");

    // Missing stamps, once each, living as long as the longest-lived request that needs them.
    const lives = new Map<string, number>();
    for (const i of rest) {
      for (const stamp of requests[i]!.stamps) {
        if (tokens.get(stamp) == null) lives.set(stamp, Math.max(lives.get(stamp) ?? 1, Math.ceil(requests[i]!.stampLifeMs)));
      }
    }
    const created = [...lives.keys()];
    const leased = rest.filter((i) => (requests[i]!.lease?.ms ?? 0) > 0);
    const [made, leases] = await Promise.all([
      Promise.all(created.map((stamp) => this.redis.run("lookup", STAMP, [stamp], [this.redis.nextToken(), lives.get(stamp)!]))),
      Promise.all(
        leased.map((i) => {
          const request = requests[i]!;
          // With a stamp just created, no entry can be filled under the fence yet: only the lease matters.
          const known = request.stamps.every((stamp) => tokens.get(stamp) != null);
          const fence = known ? request.stamps.map((stamp) => tokens.get(stamp)).join(",") : "";
          return this.redis.run("lookup", ENTRY_LEASE, [request.key, this.redis.leaseKey(request.key)], [fence, now, Math.ceil(request.lease!.ms), request.lease!.token]);
        }),
      ),
    ]);
    created.forEach((stamp, j) => tokens.set(stamp, String(made[j])));
    const later = Date.now();
    const leaseOf = new Map(leased.map((i, j) => [i, leases[j] as [string, string]]));
    for (const i of rest) {
      const fence = requests[i]!.stamps.map((stamp) => tokens.get(stamp)).join(",");
      const [entry, lease] = leaseOf.get(i) ?? ["", ""];
      const found: LookupResult = entry === "" ? { fence } : this.redis.parseEntry(fence, entry, later);
      if (lease === "-") found.leaseBusy = true;
      else if (lease === "+") found.leased = true;
      results[i] = found;
    }
    return results as LookupResult[];
  }

  /**
   * Stores each entry and, in the same parallel step, reads its stamps (extending them to outlive it): a fill whose
   * stamps no longer equal its fence is refused, and its entry (which could never validate) deleted in a second
   * step, unless another fill replaced it.
   */
  async fillMany(requests: readonly FillRequest[]): Promise<boolean[]> {
    const now = Date.now();
    const lives = new Map<string, number>();
    const entries = requests.map((request) => {
      const life = Math.ceil(request.ttlMs + request.swrMs);
      for (const stamp of request.stamps) lives.set(stamp, Math.max(lives.get(stamp) ?? 0, life));
      return { text: this.redis.entryText(request.fence, Math.round(now + request.ttlMs), now + life, Math.round(request.loadMs), request.value), life };
    });
    const stamps = [...lives.keys()];
    const [, current] = await Promise.all([
      Promise.all(
        requests.map((request, i) => this.redis.run("fill", SET_ENTRY, [request.key, this.redis.leaseKey(request.key)], [entries[i]!.text, entries[i]!.life, request.lease ?? ""])),
      ),
      Promise.all(stamps.map((stamp) => this.redis.run("fill", HOLD_STAMP, [stamp], [lives.get(stamp)!]))),
    ]);
    const tokens = new Map(stamps.map((stamp, i) => [stamp, current[i] == null ? "" : String(current[i])]));
    const stored = requests.map((request) => request.stamps.map((stamp) => tokens.get(stamp)).join(",") === request.fence);
    const refused = requests.flatMap((request, i) => (stored[i] ? [] : [this.redis.run("fill", DROP_ENTRY, [request.key], [entries[i]!.text])]));
    if (refused.length > 0) await Promise.all(refused);
    return stored;
  }

  /** Deletes stamps, one DEL per key (they live in different slots), all at once. */
  async bump(stamps: readonly string[]): Promise<void> {
    await Promise.all(stamps.map((stamp) => this.redis.del(stamp)));
  }

  /**
   * Advances stamps, then publishes their names (framed as BUMP_AND_PUBLISH frames them) on the sharded channel.
   * Not atomic with the bump: a failed publish fails the call, and the plugin retries the whole invalidation.
   */
  async bumpAndPublish(stamps: readonly string[], channel: string, id: string): Promise<number> {
    await this.bump(stamps);
    return this.redis.publish(channel, invalidationMessage(id, stamps), channel);
  }

  /**
   * Write-through without cross-slot atomicity. Step 1, all at once: each stamp read before the database write is
   * checked and, if the write advances it, moved to a new token of this writer's (SWAP_STAMP: one key, atomic);
   * the other advanced stamps are deleted; the fills' remaining stamps are read (or created). If every check
   * held, step 2 stores each fill under those tokens. Another writer of the row advances the same stamps after its
   * commit: before step 1, the check fails; after it, it deletes this writer's new token and the entry can never
   * validate. A fill depending on an advanced stamp that was not read before the write (another unique of the row)
   * cannot be guarded that way and is skipped: its lookup is only evicted.
   */
  async writeThroughAndPublish(request: WriteThroughRequest, channel: string, id: string): Promise<{ stored: boolean; receivers: number }> {
    const { unchangedSince } = request;
    const before = unchangedSince.fence.split(",");
    const bumped = new Set(request.bump);
    const guarded = new Map(unchangedSince.stamps.map((stamp, j) => [stamp, before[j] ?? ""]));
    const fills = request.fills.filter((fill) => fill.stamps.every((stamp) => !bumped.has(stamp) || guarded.has(stamp)));
    const life = Math.max(1, ...request.fills.map((fill) => Math.ceil(fill.ttlMs + fill.swrMs)));
    const tokens = new Map<string, string>();
    for (const [stamp, value] of guarded) tokens.set(stamp, bumped.has(stamp) ? this.redis.nextToken() : value);
    const others = [...new Set(fills.flatMap((fill) => fill.stamps))].filter((stamp) => !guarded.has(stamp));
    const [checks, , read] = await Promise.all([
      Promise.all([...guarded].map(([stamp, value]) => this.redis.run("writeThrough", SWAP_STAMP, [stamp], [value, bumped.has(stamp) ? tokens.get(stamp)! : "", life]))),
      Promise.all(request.bump.filter((stamp) => !guarded.has(stamp)).map((stamp) => this.redis.del(stamp))),
      Promise.all(others.map((stamp) => this.redis.run("writeThrough", STAMP, [stamp], [this.redis.nextToken(), life]))),
    ]);
    others.forEach((stamp, j) => tokens.set(stamp, String(read[j])));
    const holds = checks.every((held) => Number(held) === 1);
    const now = Date.now();
    const publishing = channel !== "" && request.bump.length > 0 ? this.redis.publish(channel, invalidationMessage(id, request.bump), channel) : Promise.resolve(0);
    const storing = holds
      ? fills.map((fill) => {
          const fence = fill.stamps.map((stamp) => tokens.get(stamp)).join(",");
          const fillLife = Math.ceil(fill.ttlMs + fill.swrMs);
          const text = this.redis.entryText(fence, Math.round(now + fill.ttlMs), now + fillLife, 0, fill.value);
          return this.redis.run("writeThrough", SET_ENTRY, [fill.key, this.redis.leaseKey(fill.key)], [text, fillLife, ""]);
        })
      : [];
    const [receivers] = await Promise.all([publishing, Promise.all(storing)]);
    return { stored: holds, receivers };
  }
}

/** An invalidation message as BUMP_AND_PUBLISH frames it: the id, a newline, each stamp as `<byte length>:<name>`. */
function invalidationMessage(id: string, stamps: readonly string[]): string {
  return `${id}\n${stamps.map((stamp) => `${Buffer.byteLength(stamp)}:${stamp}`).join("")}`;
}
