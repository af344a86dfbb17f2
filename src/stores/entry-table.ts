/**
 * A bounded in-process table of fenced entries: each entry remembers the stamp tokens it was filled under, and a
 * read serves it only when the caller's current tokens are the same. Shared by the memory store (whose stamps are
 * its own) and the tiered store's L1 (whose stamps mirror Redis).
 *
 * Eviction is second-chance (CLOCK) over insertion order: a hit only sets a flag, so the hot path never reorders
 * the map, and an entry used since the hand last passed it survives one more round.
 */

export interface TableEntry {
  /** Stamp tokens the entry was filled under, in the request's stamp order. */
  tokens: readonly string[];
  /** The same tokens joined with "," (the store-level fence). */
  fence: string;
  value: string;
  freshUntil: number;
  expiresAt: number;
  loadMs: number;
  bytes: number;
  used: boolean;
  /**
   * The owner's version of its tokens when this entry was last found current, and for which stamps (the request's
   * array): while neither changed, the tokens need no check again.
   */
  checkedAt?: number;
  checkedFor?: readonly string[];
}

export class EntryTable {
  private readonly entries = new Map<string, TableEntry>();
  private bytes = 0;

  constructor(
    readonly maxEntries: number,
    readonly maxBytes: number,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  /** Bytes of keys, values and fences held (string lengths), for reports. */
  get heldBytes(): number {
    return this.bytes;
  }

  /** The live entry under `key`, whatever its fence; expired entries are dropped. */
  get(key: string, now: number): TableEntry | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt <= now) {
      this.delete(key);
      return undefined;
    }
    entry.used = true;
    return entry;
  }

  set(key: string, tokens: readonly string[], fence: string, value: string, freshUntil: number, expiresAt: number, loadMs: number): void {
    this.delete(key);
    const bytes = key.length + value.length + fence.length;
    this.entries.set(key, { tokens, fence, value, freshUntil, expiresAt, loadMs, bytes, used: false });
    this.bytes += bytes;
    this.evict();
  }

  delete(key: string): void {
    const entry = this.entries.get(key);
    if (entry === undefined) return;
    this.entries.delete(key);
    this.bytes -= entry.bytes;
  }

  clear(): void {
    this.entries.clear();
    this.bytes = 0;
  }

  private evict(): void {
    // Each pass either evicts or clears a flag, so this ends within two passes over the table.
    while (this.entries.size > this.maxEntries || this.bytes > this.maxBytes) {
      const [key, entry] = this.entries.entries().next().value as [string, TableEntry];
      this.entries.delete(key);
      if (entry.used && this.entries.size > 0) {
        entry.used = false;
        this.entries.set(key, entry);
      } else {
        this.bytes -= entry.bytes;
      }
    }
  }
}
