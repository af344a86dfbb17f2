import { randomBytes } from "node:crypto";
import type { CacheError, CacheOperation } from "../errors.ts";

/**
 * The store protocol: entries fenced by stamps (docs/stamps-and-fences.md; stamp names in src/stamps/names.ts).
 *
 * Every operation works on already-prefixed string keys and encoded string values; the plugin does all policy,
 * keying and serialization before a store sees anything. A store implements three rules:
 *
 * 1. `lookup` reads the current value of each stamp, creating missing ones with a fresh, never-reused token, and
 *    returns them joined as the request's fence. It returns the entry only if the entry was filled under that
 *    same fence, i.e. no stamp it depends on has advanced since its database read began.
 * 2. `fill` stores an entry only if its stamps still equal the fence taken before the database read, so a fill
 *    that raced a write (or a tag invalidation, or invalidateAll) is refused.
 * 3. `bump` advances stamps (here: deletes them, so the next lookup recreates them with a new token). A lost stamp
 *    (eviction, restart, flush) therefore invalidates, never validates, old entries. A bumped key that is an entry's
 *    key drops that entry (in every process sharing the store), which is how `$cache.invalidate` drops one read.
 */

export interface LookupRequest {
  /** Entry key. */
  key: string;
  /** Stamp keys the entry depends on, always in the same order for the same key. */
  stamps: readonly string[];
  /** Lifetime of the stamps this lookup creates, in milliseconds: at least the entry's ttl + swr. */
  stampLifeMs: number;
  /**
   * When the entry is missing or stale, also try to take the key's lease for `ms` milliseconds, so that one
   * process loads it while others wait (stores shared between processes only); with `ms` 0, only report whether
   * another caller holds it. The caller picks the token, so it can release a lease that a lookup it gave up on
   * (timeout) may still have taken.
   */
  lease?: { token: string; ms: number };
}

export interface LookupResult {
  /** The stamps' current values, joined: pass it back to `fill`. */
  fence: string;
  /** The entry's encoded value, when one is stored under the current fence. */
  value?: string;
  /** Milliseconds the entry stays fresh; negative once it is stale (served only within swr). */
  freshForMs?: number;
  /** How long the database read that produced the entry took, in milliseconds (for early refresh). */
  loadMs?: number;
  /** Milliseconds until the entry expires for good (end of its swr window), where the store knows it. */
  lifeMs?: number;
  /** True when this lookup took the key's lease: pass its token to `fill` (or `release`). */
  leased?: boolean;
  /** True when another caller holds the key's lease: it is loading the entry now. */
  leaseBusy?: boolean;
}

export interface FillRequest {
  key: string;
  stamps: readonly string[];
  fence: string;
  value: string;
  /** Fresh time, in milliseconds. */
  ttlMs: number;
  /** Extra time the entry may be served stale, in milliseconds. */
  swrMs: number;
  /** How long the database read took, in milliseconds. */
  loadMs: number;
  /** The lease this fill releases, if its lookup took one. */
  lease?: string;
}

/** A write's invalidation that also stores the written record under its unique lookups (write-through). */
export interface WriteThroughRequest {
  /**
   * Stamps that every writer of the row advances, read before the database write, and their values then (a
   * lookup's fence): the fills are stored only if none has moved since, i.e. no other write touched the row.
   */
  unchangedSince: { stamps: readonly string[]; fence: string };
  /** Stamps the write advances, as `bump` would. */
  bump: readonly string[];
  /** Entries to store once the stamps have advanced, only if `unchangedSince` still holds. */
  fills: readonly { key: string; stamps: readonly string[]; value: string; ttlMs: number; swrMs: number }[];
}

/** Receives a store's reports: a `CacheError` and what the store was doing (`operation`: `invalidate`, ...). */
export type StoreReport = (error: CacheError, context: { operation: CacheOperation }) => void;

/** Tells a store that its caller stopped waiting (an AbortSignal fits too). */
export interface Abandonment {
  readonly aborted: boolean;
}

/**
 * What the caller of a lookup with several round trips hears along the way (both optional): answers known after an
 * early step, so that a hit never waits for another request's miss steps, and the start of each further round trip,
 * so that the caller's timeout applies per step, not to the sum.
 */
export interface LookupProgress extends Abandonment {
  /** Request `index` is answered (a hit of the first round trip); the lookup's result repeats it. */
  answered?(index: number, result: LookupResult): void;
  /** The store starts another round trip: the caller's per-step timeout starts over. */
  nextStep?(): void;
}

export interface CacheStore {
  /** A short name for errors and stats (`memory`, `redis`). */
  readonly name: string;
  /** How long `bump` and `writeThrough` may wait by design beyond the store's answer (confirmations), in ms. */
  readonly confirmWaitMs?: number;
  /**
   * Looks up many entries, in as few round trips as it can. `signal` aborts when the caller has stopped waiting
   * (timeout): a store with several steps should not start the next one, which may take leases nobody would
   * release. A store with several steps tells `signal` what its first one answered and when the next one starts.
   */
  lookup(requests: readonly LookupRequest[], signal?: LookupProgress): Promise<LookupResult[]>;
  /** Synchronous lookup, for in-process tiers: `undefined` when it cannot answer without `lookup`. */
  lookupNow?(request: LookupRequest): LookupResult | undefined;
  /** Stores an entry if its fence is still current; resolves to whether it was stored. */
  fill(request: FillRequest): Promise<boolean>;
  /** Many fills in one round trip (the plugin batches the fills of one tick when a store has this). */
  fillMany?(requests: readonly FillRequest[]): Promise<boolean[]>;
  /** Releases a lease taken by `lookup` without filling (the load failed or its result is not cacheable). */
  release?(key: string, lease: string): Promise<void>;
  /** Advances stamps after a write has committed. */
  bump(stamps: readonly string[]): Promise<void>;
  /**
   * Advances `bump` and, atomically with it, stores `fills` if every stamp in `unchangedSince` still has its value:
   * no other write touched the row between that read (before the database write) and now, so the written record is
   * the newest. Resolves to whether the entries were stored; the stamps are advanced either way.
   */
  writeThrough?(request: WriteThroughRequest): Promise<boolean>;
  /**
   * Where the store reports problems that fail no call (a subscriber that did not confirm an invalidation): the
   * plugin passes its error reporter once, at start. Optional; a store may be given several (one per plugin).
   */
  reportTo?(report: StoreReport): void;
  /** Resolves when the store answers (a PING): the circuit breaker's probe. Stores that cannot fail omit it. */
  ping?(): Promise<void>;
  /**
   * A named lease for coordination between processes (the change feed's leader election): takes `key` for `token`
   * for `ms` milliseconds if it is free or expired, or renews it if `token` holds it; `ms` 0 gives it up if `token`
   * holds it. Resolves to whether `token` holds it now. A store shared between processes must share the lease too.
   */
  claimLease?(key: string, token: string, ms: number): Promise<boolean>;
  /** Releases what the store created (never a client the caller passed in). */
  close(): Promise<void>;
}

/** Tokens for new stamps: unique across processes (random prefix) and within one (counter). */
export function tokenSource(): () => string {
  const prefix = randomBytes(9).toString("base64url");
  let counter = 0;
  return () => `${prefix}${(counter++).toString(36)}`;
}
