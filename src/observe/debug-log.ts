import { debuglog } from "node:util";
import { channels, type FillEvent, type ReadEvent } from "./channels.ts";
import { REASONS } from "./read-record.ts";

/** What this process last stored under a key, to tell why a later read of it missed. */
interface Stored {
  fence: string;
  stamps: readonly string[];
  /** When the entry stops being served at all (ttl + swr), on this process's clock. */
  expiresAt: number;
}

/** Keys remembered for explaining misses; the memo is emptied when full (it only sharpens the log's words). */
const MAX_REMEMBERED = 10_000;

let started = false;

/**
 * `NODE_DEBUG=prisma-cache`: one line per read saying how it was answered and why, e.g.
 * `PRISMA-CACHE 4242: Post.findMany miss key=pc:f8f0…:{drnete}:e:Post:findMany:={} (stamp m:Post moved)`. Started by the first
 * cachePlugin() of a process, and only when the section is enabled: otherwise nothing subscribes and reads pay
 * nothing for it.
 */
export function startDebugLog(): void {
  if (started) return;
  started = true;
  const log = debuglog("prisma-cache");
  if (log.enabled) debugReads(log);
}

/**
 * Subscribes a debug writer to the read and fill channels; returns the unsubscribe. A miss is explained against
 * what this process last stored under the key: which stamp moved since (a write, a tag, invalidateAll), or that the
 * entry expired, or was evicted.
 */
export function debugReads(write: (message: string) => void): () => void {
  const stored = new Map<string, Stored>();
  // A miss is explained when its load starts, against what was stored before: by the time the read ends, its own
  // fill has replaced that.
  const explained = new Map<string, string>();
  const onFillStart = (message: unknown) => {
    const fill = message as FillEvent;
    if (explained.size >= MAX_REMEMBERED) explained.clear();
    explained.set(fill.key, explainMiss(fill.fence, stored.get(fill.key)));
  };
  const onFillEnd = (message: unknown) => {
    const fill = message as FillEvent;
    if (fill.outcome !== "stored") return;
    if (stored.size >= MAX_REMEMBERED) stored.clear();
    stored.set(fill.key, { fence: fill.fence, stamps: fill.stamps, expiresAt: Date.now() + fill.ttlMs + fill.swrMs });
  };
  const onRead = (message: unknown) => {
    const read = message as ReadEvent;
    const why = read.status === "miss" && read.reason === REASONS.noEntry ? (explained.get(read.key!) ?? explainMiss(read.fence, stored.get(read.key!))) : read.reason;
    write(describeRead(read, why));
  };
  const subscriptions = [
    [channels.fill.start, onFillStart],
    [channels.fill.asyncEnd, onFillEnd],
    [channels.read.asyncEnd, onRead],
  ] as const;
  for (const [channel, listener] of subscriptions) channel.subscribe(listener);
  return () => {
    for (const [channel, listener] of subscriptions) channel.unsubscribe(listener);
  };
}

/** One log line for a read. */
export function describeRead(read: ReadEvent, why: string): string {
  const where = read.layer === null ? "" : ` ${read.layer}`;
  const times = read.status === "hit" || read.status === "stale" ? ` age=${Math.round(read.ageMs)}ms ttl=${Math.round(read.ttlMs)}ms` : "";
  const key = read.key === null ? "" : ` key=${read.key}`;
  const failed = read.error === undefined ? "" : " (the query failed)";
  return `${read.model}.${read.operation} ${read.status}${where}${times}${key} (${why})${failed}`;
}

/** Why a lookup found no entry under its current stamps, given what this process last stored under the key. */
export function explainMiss(fence: string | undefined, last: Stored | undefined): string {
  if (last === undefined || fence === undefined) return "no entry: not stored by this process since it started (or forgotten)";
  if (last.fence !== fence) {
    const before = last.fence.split(",");
    const now = fence.split(",");
    const moved = last.stamps.filter((_, i) => before[i] !== now[i]).map(stampName);
    if (moved.length > 0) return `stamp${moved.length > 1 ? "s" : ""} ${moved.join(", ")} moved since it was stored`;
  }
  if (Date.now() >= last.expiresAt) return "the entry expired";
  return "no entry: evicted from the store";
}

/** `{prefix}:s:m:Post` → `m:Post`. */
function stampName(stampKey: string): string {
  const at = stampKey.indexOf("}:s:");
  return at < 0 ? stampKey : stampKey.slice(at + 4);
}
