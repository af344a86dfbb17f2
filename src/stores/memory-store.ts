import { CacheConfigError } from "../errors.ts";
import { tokenSource, type CacheStore, type FillRequest, type LookupRequest, type LookupResult } from "./store.ts";

export interface MemoryStoreOptions {
  /** Most entries kept; the least recently used go first. @default 10000 */
  maxEntries?: number;
  /** Most bytes of keys and values kept (approximate: string lengths). @default 67108864 (64 MiB) */
  maxBytes?: number;
}

interface Entry {
  fence: string;
  value: string;
  freshUntil: number;
  expiresAt: number;
  loadMs: number;
  bytes: number;
}

interface Stamp {
  token: string;
  expiresAt: number;
}

/**
 * An in-process store: a bounded LRU of entries plus the stamps that guard them. Entries and stamps live in this
 * process only, so use it alone only when one process writes the database; share a Redis otherwise.
 */
export function memoryStore(options: MemoryStoreOptions = {}): MemoryStore {
  return new MemoryStore(options);
}

export class MemoryStore implements CacheStore {
  readonly name = "memory";
  readonly maxEntries: number;
  readonly maxBytes: number;
  private readonly entries = new Map<string, Entry>();
  private readonly stamps = new Map<string, Stamp>();
  private readonly maxStamps: number;
  private readonly nextToken = tokenSource();
  private bytes = 0;

  constructor(options: MemoryStoreOptions = {}) {
    this.maxEntries = limit(options.maxEntries, "memoryStore.maxEntries", 10_000);
    this.maxBytes = limit(options.maxBytes, "memoryStore.maxBytes", 64 * 1024 * 1024);
    // Entries have a few stamps each and many share them; dropping a stamp only invalidates, so this is a soft cap.
    this.maxStamps = Math.max(1024, this.maxEntries * 4);
  }

  /** Entries currently held (including expired ones not yet swept). */
  get size(): number {
    return this.entries.size;
  }

  lookupNow(request: LookupRequest): LookupResult {
    const now = Date.now();
    const fence = this.currentFence(request.stamps, now, request.lifeMs);
    const entry = this.entries.get(request.key);
    if (entry === undefined) return { fence };
    if (entry.expiresAt <= now) {
      this.remove(request.key, entry);
      return { fence };
    }
    if (entry.fence !== fence) return { fence };
    // Most recently used last.
    this.entries.delete(request.key);
    this.entries.set(request.key, entry);
    return { fence, value: entry.value, freshForMs: entry.freshUntil - now, loadMs: entry.loadMs };
  }

  async lookup(requests: readonly LookupRequest[]): Promise<LookupResult[]> {
    return requests.map((request) => this.lookupNow(request));
  }

  fillNow(request: FillRequest): boolean {
    const now = Date.now();
    const fence = this.currentFence(request.stamps, now, 0);
    if (fence !== request.fence) return false;
    const life = request.ttlMs + request.swrMs;
    for (const key of request.stamps) {
      const stamp = this.stamps.get(key)!;
      stamp.expiresAt = Math.max(stamp.expiresAt, now + life);
      // A stamp with a live entry is recently used: move it away from the eviction end.
      this.stamps.delete(key);
      this.stamps.set(key, stamp);
    }
    const previous = this.entries.get(request.key);
    if (previous) this.remove(request.key, previous);
    const entry: Entry = {
      fence,
      value: request.value,
      freshUntil: now + request.ttlMs,
      expiresAt: now + life,
      loadMs: request.loadMs,
      bytes: request.key.length + request.value.length + fence.length,
    };
    this.entries.set(request.key, entry);
    this.bytes += entry.bytes;
    this.evict();
    return true;
  }

  async fill(request: FillRequest): Promise<boolean> {
    return this.fillNow(request);
  }

  bumpNow(stamps: readonly string[]): void {
    for (const key of stamps) this.stamps.delete(key);
  }

  async bump(stamps: readonly string[]): Promise<void> {
    this.bumpNow(stamps);
  }

  /** Drops every entry and stamp. */
  clear(): void {
    this.entries.clear();
    this.stamps.clear();
    this.bytes = 0;
  }

  async close(): Promise<void> {
    this.clear();
  }

  /**
   * The stamps' tokens joined. With `lifeMs > 0` missing stamps are created (a lookup); with 0 a missing stamp
   * yields an empty token, which matches no fence (a fill that must be refused).
   */
  private currentFence(keys: readonly string[], now: number, lifeMs: number): string {
    let fence = "";
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i]!;
      let stamp = this.stamps.get(key);
      if (stamp !== undefined && stamp.expiresAt <= now) {
        this.stamps.delete(key);
        stamp = undefined;
      }
      if (stamp === undefined) {
        if (lifeMs <= 0) return "";
        stamp = { token: this.nextToken(), expiresAt: now + lifeMs };
        this.stamps.set(key, stamp);
        if (this.stamps.size > this.maxStamps) this.evictStamps(now);
      }
      fence = i === 0 ? stamp.token : `${fence},${stamp.token}`;
    }
    return fence;
  }

  private remove(key: string, entry: Entry): void {
    this.entries.delete(key);
    this.bytes -= entry.bytes;
  }

  private evict(): void {
    for (const [key, entry] of this.entries) {
      if (this.entries.size <= this.maxEntries && this.bytes <= this.maxBytes) return;
      this.remove(key, entry);
    }
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

function limit(value: unknown, field: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isInteger(value) || value <= 0) {
    throw new CacheConfigError(field, `must be a positive integer, received: ${String(value)}`);
  }
  return value;
}
