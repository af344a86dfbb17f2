import { DEFAULTS } from "../defaults.ts";
import { CacheConfigError } from "../errors.ts";
import { positiveInteger, storeOptions } from "../validate.ts";
import { EntryTable } from "./entry-table.ts";
import { tokenSource, type CacheStore, type FillRequest, type LookupRequest, type LookupResult, type WriteThroughRequest } from "./store.ts";

export interface MemoryStoreOptions {
  /** Most entries kept; entries not read since the eviction hand last passed go first. @default 10000 */
  maxEntries?: number;
  /** Most bytes of keys and values kept (approximate: string lengths). @default 67108864 (64 MiB) */
  maxBytes?: number;
}

interface Stamp {
  token: string;
  expiresAt: number;
}

/**
 * An in-process store: a bounded table of entries (second-chance eviction) plus the stamps that fence them. Entries and stamps live in this
 * process only, so use it alone only when one process writes the database; share a Redis otherwise.
 */
export function memoryStore(options: MemoryStoreOptions = {}): MemoryStore {
  return new MemoryStore(options);
}

export class MemoryStore implements CacheStore {
  readonly name = "memory";
  readonly maxEntries: number;
  readonly maxBytes: number;
  private readonly table: EntryTable;
  private readonly stamps = new Map<string, Stamp>();
  /** Named leases (claimLease): few, one per coordinating feature. */
  private readonly leases = new Map<string, { token: string; expiresAt: number }>();
  private readonly maxStamps: number;
  private readonly nextToken = tokenSource();
  /** The tiered store whose L1 this store's table became (`asTier`), which then alone uses it. */
  private tier: string | undefined;

  constructor(options: MemoryStoreOptions = {}) {
    storeOptions(options, ["maxEntries", "maxBytes"], "memoryStore");
    this.maxEntries = positiveInteger(options.maxEntries, "memoryStore.maxEntries", DEFAULTS.memoryStore.maxEntries);
    this.maxBytes = positiveInteger(options.maxBytes, "memoryStore.maxBytes", DEFAULTS.memoryStore.maxBytes);
    this.table = new EntryTable(this.maxEntries, this.maxBytes);
    // Entries have a few stamps each and many share them; dropping a stamp only invalidates, so this is a soft cap.
    this.maxStamps = Math.max(1024, this.maxEntries * 4);
  }

  /** Entries currently held (including expired ones not yet swept). */
  get size(): number {
    return this.table.size;
  }

  /**
   * Hands this store's table to a tiered store as its L1, so the store passed as `l1` is the one that holds the
   * entries (`size`, `clear()`). From then on it serves only that tier: its own stamps would not fence the tier's
   * entries, so a store already used, or used afterwards on its own, is refused.
   */
  asTier(owner: string): EntryTable {
    if (this.tier !== undefined) throw new CacheConfigError(`${owner}.l1`, `this memoryStore is already the L1 of a ${this.tier}; give each tier its own`);
    if (this.table.size > 0 || this.stamps.size > 0) throw new CacheConfigError(`${owner}.l1`, "this memoryStore already holds entries of its own; give the tier a new one");
    this.tier = owner;
    return this.table;
  }

  private assertOwn(): void {
    if (this.tier !== undefined) throw new CacheConfigError("store", `this memoryStore is the L1 of a ${this.tier}: pass the ${this.tier} as the store`);
  }

  /** Bytes of entries held (string lengths of keys, values and fences), for `$cache.report()`. */
  get bytesHeld(): number {
    return this.table.heldBytes;
  }

  lookupNow(request: LookupRequest): LookupResult {
    if (this.tier !== undefined) this.assertOwn();
    const now = Date.now();
    const entry = this.table.get(request.key, now);
    const keys = request.stamps;
    let match = entry !== undefined && entry.tokens.length === keys.length;
    let tokens: string[] | undefined;
    for (let i = 0; i < keys.length; i++) {
      const token = this.currentToken(keys[i]!, now, request.stampLifeMs)!;
      if (match && token !== entry!.tokens[i]) {
        match = false;
        tokens = entry!.tokens.slice(0, i);
      }
      if (!match) (tokens ??= []).push(token);
    }
    if (match) return { fence: entry!.fence, value: entry!.value, freshForMs: entry!.freshUntil - now, loadMs: entry!.loadMs };
    return { fence: (tokens ?? []).join(",") };
  }

  async lookup(requests: readonly LookupRequest[]): Promise<LookupResult[]> {
    return requests.map((request) => this.lookupNow(request));
  }

  private fillNow(request: FillRequest): boolean {
    if (this.tier !== undefined) this.assertOwn();
    const now = Date.now();
    const tokens: string[] = [];
    for (const key of request.stamps) {
      const token = this.currentToken(key, now, 0);
      if (token === undefined) return false;
      tokens.push(token);
    }
    const fence = tokens.join(",");
    if (fence !== request.fence) return false;
    const life = request.ttlMs + request.swrMs;
    for (const key of request.stamps) {
      const stamp = this.stamps.get(key)!;
      stamp.expiresAt = Math.max(stamp.expiresAt, now + life);
      // A stamp with a live entry is recently used: move it away from the eviction end.
      this.stamps.delete(key);
      this.stamps.set(key, stamp);
    }
    this.table.set(request.key, tokens, fence, request.value, now + request.ttlMs, now + life, request.loadMs);
    return true;
  }

  async fill(request: FillRequest): Promise<boolean> {
    return this.fillNow(request);
  }

  async writeThrough(request: WriteThroughRequest): Promise<boolean> {
    this.assertOwn();
    const now = Date.now();
    const unchanged = request.unchangedSince.stamps.map((key) => this.currentToken(key, now, 0)).join(",") === request.unchangedSince.fence;
    this.bumpNow(request.bump);
    if (!unchanged) return false;
    for (const fill of request.fills) {
      const life = fill.ttlMs + fill.swrMs;
      const tokens = fill.stamps.map((key) => this.currentToken(key, now, life)!);
      this.fillNow({ ...fill, fence: tokens.join(","), loadMs: 0 });
    }
    return true;
  }

  private bumpNow(stamps: readonly string[]): void {
    for (const key of stamps) {
      this.stamps.delete(key);
      // A bumped entry key drops its entry (store.ts, rule 3).
      this.table.delete(key);
    }
  }

  async claimLease(key: string, token: string, ms: number): Promise<boolean> {
    const now = Date.now();
    const held = this.leases.get(key);
    const free = held === undefined || held.expiresAt <= now || held.token === token;
    if (ms <= 0) {
      if (held?.token === token) this.leases.delete(key);
      return false;
    }
    if (!free) return false;
    this.leases.set(key, { token, expiresAt: now + ms });
    return true;
  }

  async bump(stamps: readonly string[]): Promise<void> {
    this.assertOwn();
    this.bumpNow(stamps);
  }

  /** Drops every entry and stamp. */
  clear(): void {
    this.table.clear();
    this.stamps.clear();
  }

  async close(): Promise<void> {
    this.clear();
  }

  /**
   * A stamp's current token. With `lifeMs > 0` a missing stamp is created (a lookup); with 0 it stays missing
   * and the result is undefined (a fill, which must then be refused).
   */
  private currentToken(key: string, now: number, lifeMs: number): string | undefined {
    let stamp = this.stamps.get(key);
    if (stamp !== undefined && stamp.expiresAt <= now) {
      this.stamps.delete(key);
      stamp = undefined;
    }
    if (stamp === undefined) {
      if (lifeMs <= 0) return undefined;
      stamp = { token: this.nextToken(), expiresAt: now + lifeMs };
      this.stamps.set(key, stamp);
      if (this.stamps.size > this.maxStamps) this.evictStamps(now);
    }
    return stamp.token;
  }

  private evictStamps(now: number): void {
    for (const [key, stamp] of this.stamps) if (stamp.expiresAt <= now) this.stamps.delete(key);
    // Still full of live stamps: drop the least recently filled. Their entries just become misses.
    for (const key of this.stamps.keys()) {
      if (this.stamps.size <= this.maxStamps * 0.9) return;
      this.stamps.delete(key);
    }
  }
}
