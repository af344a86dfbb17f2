import { randomBytes } from "node:crypto";
import type pg from "pg";
import { CacheConfigError, ChangeFeedError } from "../errors.ts";
import { describe, isPlainObject, rejectUnknownKeys } from "../validate.ts";
import type { ChangeFeed, ChangeFeedContext, ChangeFeedState, ChangeFeedStats, RunningChangeFeed } from "./change-feed.ts";
import { ChangeStamps } from "./change-stamps.ts";
import { FeedSession, SessionFailure, type SessionCounters } from "./feed-session.ts";
import { ALWAYS_HELD, LeaderElection } from "./leader-election.ts";

/** Options of `postgresChangeFeed()`. */
export interface PostgresChangeFeedOptions {
  /**
   * A direct connection to the primary (not through a pooler in transaction mode) as a role with the REPLICATION
   * attribute, on a server with `wal_level=logical`. `?schema=` (Prisma's) names the default schema.
   */
  connectionString: string;
  /** The publication to stream; created (or extended with missing tables) on connect. @default "prisma_cache_plugin" */
  publication?: string;
  /** The schema of models without `@@schema`. @default the connection string's `schema` parameter, else "public" */
  schema?: string;
  /** How often the leader emits a heartbeat into the WAL to measure lag, in milliseconds. `0`: never. @default 1000 */
  heartbeatMs?: number;
  /**
   * Lifetime of the leader's lease in the shared store, in milliseconds; renewed every third of it. When the leader
   * dies, another process takes over within this plus a third of it. @default 3000
   */
  leaseMs?: number;
  /** Longest wait between attempts to (re)open the stream, in milliseconds; waits start at 100 and double. @default 5000 */
  maxRetryMs?: number;
}

export const CHANGE_FEED_DEFAULTS = { publication: "prisma_cache_plugin", heartbeatMs: 1_000, leaseMs: 3_000, maxRetryMs: 5_000 } as const;

const FIRST_RETRY_MS = 100;
const OPTION_KEYS = ["connectionString", "publication", "schema", "heartbeatMs", "leaseMs", "maxRetryMs"];

/**
 * Invalidation from Postgres itself: `cachePlugin({ changeFeed: postgresChangeFeed({ connectionString }) })`.
 * Writes that bypass this client (other services, SQL consoles, migrations, triggers) advance the stamps they change
 * within the feed's lag. One process per app streams, elected by a lease in the shared store.
 */
export function postgresChangeFeed(options: PostgresChangeFeedOptions): ChangeFeed {
  const resolved = resolveFeedOptions(options);
  return {
    kind: "postgres",
    start: (context) => new PostgresChangeFeed(resolved, context),
  };
}

interface ResolvedFeedOptions {
  client: pg.ClientConfig;
  publication: string;
  schema: string;
  heartbeatMs: number;
  leaseMs: number;
  maxRetryMs: number;
}

function resolveFeedOptions(options: PostgresChangeFeedOptions): ResolvedFeedOptions {
  const field = "changeFeed";
  if (!isPlainObject(options as unknown)) throw new CacheConfigError(field, `options must be an object, received: ${describe(options)}`);
  rejectUnknownKeys(options, OPTION_KEYS, field);
  let url: URL;
  try {
    url = new URL(options.connectionString);
    if (url.protocol !== "postgres:" && url.protocol !== "postgresql:") throw new Error("not postgres");
  } catch {
    throw new CacheConfigError(`${field}.connectionString`, `must be a postgres:// or postgresql:// URL, received: ${describe(options.connectionString)}`);
  }
  // Prisma's `schema` parameter is not a server setting: pg would send it at startup and the server would refuse it.
  const urlSchema = url.searchParams.get("schema");
  url.searchParams.delete("schema");
  const name = (value: unknown, key: string, fallback: string) => {
    if (value === undefined) return fallback;
    if (typeof value !== "string" || !/^[A-Za-z_][\w$]{0,62}$/.test(value)) {
      throw new CacheConfigError(`${field}.${key}`, `must be a Postgres identifier (letters, digits, '_', at most 63), received: ${describe(value)}`);
    }
    return value;
  };
  const milliseconds = (value: unknown, key: string, fallback: number, min: number) => {
    if (value === undefined) return fallback;
    if (typeof value !== "number" || !Number.isFinite(value) || (value !== 0 && value < min) || (value === 0 && key !== "heartbeatMs")) {
      throw new CacheConfigError(`${field}.${key}`, `must be a number of milliseconds of at least ${min}${key === "heartbeatMs" ? " (or 0)" : ""}, received: ${describe(value)}`);
    }
    return value;
  };
  return {
    client: { connectionString: url.toString(), application_name: "prisma-cache-plugin change feed" },
    publication: name(options.publication, "publication", CHANGE_FEED_DEFAULTS.publication),
    schema: name(options.schema, "schema", urlSchema ?? "public"),
    heartbeatMs: milliseconds(options.heartbeatMs, "heartbeatMs", CHANGE_FEED_DEFAULTS.heartbeatMs, 10),
    leaseMs: milliseconds(options.leaseMs, "leaseMs", CHANGE_FEED_DEFAULTS.leaseMs, 300),
    maxRetryMs: milliseconds(options.maxRetryMs, "maxRetryMs", CHANGE_FEED_DEFAULTS.maxRetryMs, 100),
  };
}

/**
 * The feed's life: follow the lease; while leading, keep one session streaming, reopening it after a failure
 * (each session first advances every model, since changes made while none streamed are lost).
 */
class PostgresChangeFeed implements RunningChangeFeed {
  private state: ChangeFeedState = "follower";
  private readonly stamps: ChangeStamps;
  private readonly election: LeaderElection;
  private readonly counters: SessionCounters = { changes: 0, transactions: 0, stampsAdvanced: 0, lagBytes: undefined, heartbeatLagMs: undefined, commitLagMs: undefined };
  private connects = 0;
  private lastError: string | undefined;
  private session: FeedSession | undefined;
  private slot: string | undefined;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private closed = false;

  constructor(
    private readonly options: ResolvedFeedOptions,
    private readonly context: ChangeFeedContext,
  ) {
    this.stamps = ChangeStamps.of(context.graph, context.schema, options.schema);
    const holder = randomBytes(9).toString("base64url");
    this.election = new LeaderElection(
      context.lease ?? ALWAYS_HELD,
      holder,
      options.leaseMs,
      (leading) => (leading ? this.lead() : this.follow()),
      (error) => this.report(new ChangeFeedError("CHANGE_FEED_INTERRUPTED", `could not renew the change feed's lease: ${message(error)}`, { cause: error })),
    );
    this.election.start();
  }

  stats(): ChangeFeedStats {
    return {
      state: this.state,
      leader: this.election.isLeader,
      slot: this.state === "streaming" ? this.slot : undefined,
      ...this.counters,
      connects: this.connects,
      lastError: this.lastError,
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.state = "closed";
    await this.election.stop();
    await this.session?.abort();
    this.wake?.();
    await this.loop;
  }

  private lead(): void {
    if (this.closed || this.loop) return;
    this.loop = this.streamWhileLeading().finally(() => {
      this.loop = undefined;
      // Leadership may have come back while the loop was winding down.
      if (this.election.isLeader && !this.closed) this.lead();
    });
  }

  private follow(): void {
    if (!this.closed) this.state = "follower";
    void this.session?.abort();
    this.wake?.();
  }

  private async streamWhileLeading(): Promise<void> {
    let retryMs = FIRST_RETRY_MS;
    while (this.election.isLeader && !this.closed) {
      this.state = "connecting";
      this.slot = `prisma_cache_${randomBytes(8).toString("hex")}`;
      let streamed = false;
      const session = new FeedSession(
        {
          client: this.options.client,
          publication: this.options.publication,
          slot: this.slot,
          heartbeatMs: this.options.heartbeatMs,
          stamps: this.stamps,
          advance: this.context.advance,
        },
        this.counters,
        () => {
          streamed = true;
          this.connects++;
          if (!this.closed) this.state = "streaming";
        },
        (text, cause) => this.report(new ChangeFeedError("CHANGE_FEED_UNAVAILABLE", text, { cause })),
      );
      this.session = session;
      try {
        await session.run();
      } catch (error) {
        const phase = error instanceof SessionFailure ? error.phase : "stream";
        this.report(
          phase === "setup"
            ? new ChangeFeedError(
                "CHANGE_FEED_UNAVAILABLE",
                `could not start the change feed (needs wal_level=logical, a role with REPLICATION and a direct connection): ${message(error)}`,
                { cause: error },
              )
            : new ChangeFeedError("CHANGE_FEED_INTERRUPTED", `the change feed's stream ended: ${message(error)}; reconnecting`, { cause: error }),
        );
      } finally {
        await session.abort();
        this.session = undefined;
      }
      if (!this.election.isLeader || this.closed) break;
      this.state = "retrying";
      if (streamed) retryMs = FIRST_RETRY_MS;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, retryMs);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = undefined;
      retryMs = Math.min(retryMs * 2, this.options.maxRetryMs);
    }
    if (!this.closed) this.state = "follower";
  }

  private report(error: ChangeFeedError): void {
    this.lastError = error.message;
    this.context.report(error, { operation: "changeFeed" });
  }
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
