import { channel, tracingChannel } from "node:diagnostics_channel";
import type { CacheInfo } from "./cache-info.ts";

/**
 * The plugin's `node:diagnostics_channel` channels, by name (docs/observe.md lists every payload). Channels are
 * global to the process by name, so a subscriber needs no reference to a client, and several plugin instances
 * publish to the same channels (`key` and `prefix` tell them apart). Publishers check `hasSubscribers` first: with
 * nobody listening a read pays one property check per channel it could publish on.
 *
 * This module is a leaf (it imports only Node and types), so stores may publish on it too.
 */
export const CHANNEL_NAMES = {
  read: "prisma-cache:read",
  fill: "prisma-cache:fill",
  invalidate: "prisma-cache:invalidate",
  stale: "prisma-cache:stale",
  refresh: "prisma-cache:refresh",
  fillRefused: "prisma-cache:fill-refused",
  breaker: "prisma-cache:breaker",
  bus: "prisma-cache:bus",
  degraded: "prisma-cache:degraded",
  error: "prisma-cache:error",
} as const;

/**
 * The context of one cached read (the `prisma-cache:read` tracing channel): filled in as the read goes, complete
 * by `asyncEnd`. The same object backs `withCacheInfo()`'s `info`.
 */
export interface ReadEvent extends CacheInfo {
  /** The model (`$queryRaw` for cached raw queries). */
  model: string;
  operation: string;
  /** Why it hit, missed or bypassed, in words (the debug log prints it). */
  reason: string;
  /** The stamp keys the entry depends on (hits and misses). */
  stamps?: readonly string[];
  /** The stamps' values at the lookup, joined by `,` (hits and misses). */
  fence?: string;
  /** Set by diagnostics_channel when the read settles. */
  result?: unknown;
  error?: unknown;
}

/** The context of a database load and the fill of its result (`prisma-cache:fill`). */
export interface FillEvent {
  model: string;
  operation: string;
  /** The entry filled (a spelling-sensitive lookup may fill its loose entry instead). */
  key: string;
  stamps: readonly string[];
  /** The fence the fill was made under (the stamps' values before the database read). */
  fence: string;
  ttlMs: number;
  swrMs: number;
  /** How long the database read took, in milliseconds (once it returned). */
  loadMs?: number;
  /**
   * `stored`; `refused` (a stamp moved during the database read); `oversize` (over `maxEntryBytes`); `unencodable`;
   * `not-stored` (a spelling-sensitive lookup whose row stores another spelling, with no loose entry to fill).
   */
  outcome?: "stored" | "refused" | "oversize" | "unencodable" | "not-stored";
  result?: unknown;
  error?: unknown;
}

/** The context of one invalidation applied to the store (`prisma-cache:invalidate`). */
export interface InvalidateEvent {
  /** The namespace (prefix and schema fingerprint) the stamps belong to. */
  prefix: string;
  /** Stamp names advanced (stamps/names.ts: `m:User`, `r:User:id=1`, `t:tag`, `*`). */
  stamps: readonly string[];
  /** Models named by those stamps. */
  models: readonly string[];
  /** Tags named by those stamps. */
  tags: readonly string[];
  /** True when the namespace epoch moved (`invalidateAll`, or a write the plugin could not analyse). */
  all: boolean;
  /** Whether the store applied it; `false`: it is retried in the background and reads bypass the cache meanwhile. */
  applied?: boolean;
  result?: unknown;
  error?: unknown;
}

/** `prisma-cache:stale`: a stale entry was served within `swr` while it refreshes. */
export interface StaleEvent {
  model: string;
  operation: string;
  key: string;
  /** How long ago the entry stopped being fresh, in milliseconds. */
  staleForMs: number;
}

/** `prisma-cache:refresh`: a background refresh started. */
export interface RefreshEvent {
  model: string;
  operation: string;
  key: string;
  /** `stale`: served stale within swr; `early`: fresh but due (refresh-ahead or XFetch). */
  reason: "stale" | "early";
}

/** `prisma-cache:fill-refused`: a stamp moved while the database read ran, so its result was not stored. */
export interface FillRefusedEvent {
  model: string;
  operation: string;
  key: string;
}

/** `prisma-cache:breaker`: a store's circuit breaker opened (store skipped) or closed (store answers again). */
export interface BreakerEvent {
  /** The store's name (`redis`, `tiered`). */
  store: string;
  state: "open" | "closed";
}

/** `prisma-cache:bus`: a tiered store's L1 started or stopped serving (its invalidation subscription). */
export interface BusEvent {
  /** The tiered store's pub/sub channel. */
  channel: string;
  state: "up" | "down";
  /** Why it went down: `subscription down`, `heartbeat overdue`, `redis lost its data`. */
  reason?: string;
}

/** `prisma-cache:degraded`: reads started (or stopped) bypassing the cache because an invalidation is pending. */
export interface DegradedEvent {
  prefix: string;
  degraded: boolean;
  /** Stamps whose advance is pending (failed and being retried, or an unobserved transaction's second advance). */
  pending: number;
}

/** `prisma-cache:error`: every error the plugin absorbed, as `onError` gets it. */
export interface ErrorEvent {
  error: Error & { code: string };
  operation: string;
  model?: string;
  key?: string;
}

/** The channels, as objects (the same ones `diagnostics_channel.channel(name)` returns anywhere in the process). */
export const channels = {
  read: tracingChannel<unknown, ReadEvent>(CHANNEL_NAMES.read),
  fill: tracingChannel<unknown, FillEvent>(CHANNEL_NAMES.fill),
  invalidate: tracingChannel<unknown, InvalidateEvent>(CHANNEL_NAMES.invalidate),
  stale: channel(CHANNEL_NAMES.stale),
  refresh: channel(CHANNEL_NAMES.refresh),
  fillRefused: channel(CHANNEL_NAMES.fillRefused),
  breaker: channel(CHANNEL_NAMES.breaker),
  bus: channel(CHANNEL_NAMES.bus),
  degraded: channel(CHANNEL_NAMES.degraded),
  error: channel(CHANNEL_NAMES.error),
};
