import type { CacheErrorContext } from "../errors.ts";
import type { ModelGraph } from "../schema/model-graph.ts";
import type { CacheSchema } from "../schema/cache-schema.ts";
import type { FeedLease } from "./leader-election.ts";

/**
 * The contract between the plugin and a change feed: a feed watches the database for writes that did not go
 * through this client and advances the stamps they change, through the plugin's own invalidation path.
 */

/** What the plugin gives a feed when it starts it. */
export interface ChangeFeedContext {
  graph: ModelGraph;
  /** The generator's schema (column names, unique constraints); without it row changes evict the model's unique lookups. */
  schema: CacheSchema | undefined;
  /** Advances stamps (unprefixed names, see dependencies.ts) as a write through the plugin would; never rejects. */
  advance(stamps: Iterable<string>): Promise<void>;
  /** The lease that elects one consumer among the processes sharing the store; `undefined`: every process consumes. */
  lease: FeedLease | undefined;
  /** Reports a failure to `onError`; the feed never throws at queries. */
  report(error: unknown, context: CacheErrorContext): void;
}

/** A feed as `cachePlugin({ changeFeed })` takes it: started once per plugin instance. */
export interface ChangeFeed {
  readonly kind: string;
  start(context: ChangeFeedContext): RunningChangeFeed;
}

export interface RunningChangeFeed {
  stats(): ChangeFeedStats;
  /** Stops streaming and gives the lease up; the server drops the temporary slot. */
  close(): Promise<void>;
}

/**
 * - `follower`: another process holds the lease and streams.
 * - `connecting`: this process leads and is opening the stream (advancing every model's stamps first).
 * - `streaming`: changes are applied as they commit.
 * - `retrying`: the stream failed or could not start; reads are bounded by their TTL until it is back.
 * - `closed`: `$disconnect()` stopped it.
 */
export type ChangeFeedState = "follower" | "connecting" | "streaming" | "retrying" | "closed";

/** What `$cache.stats().changeFeed` reports. */
export interface ChangeFeedStats {
  state: ChangeFeedState;
  /** Whether this process holds the lease (and so is the one consumer of the app). */
  leader: boolean;
  /** The temporary slot this process streams, while it does. */
  slot: string | undefined;
  /**
   * WAL bytes between the server's end of WAL and the last change applied, sampled at the last heartbeat;
   * `undefined` before the first.
   */
  lagBytes: number | undefined;
  /** Milliseconds from emitting the last heartbeat (`pg_logical_emit_message`) to receiving it on the stream. */
  heartbeatLagMs: number | undefined;
  /** Milliseconds from the last applied transaction's commit (server clock) to its stamps advanced (this process's clock). */
  commitLagMs: number | undefined;
  /** Row changes (and truncates) received. */
  changes: number;
  /** Transactions whose stamps were advanced. */
  transactions: number;
  /** Stamps advanced for changes, after coalescing (the bumps applied). */
  stampsAdvanced: number;
  /** Times the stream was (re)opened by this process, each preceded by advancing every model. */
  connects: number;
  /** The last error reported, if any. */
  lastError: string | undefined;
}
