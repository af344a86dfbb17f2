import { randomBytes } from "node:crypto";
import { parseCounterKey } from "./counter-key.ts";
import { type FlushLogDialect, flushLogSql, type FlushLogSql } from "./flush-log.ts";
import { ACK_BATCH, HOLD_LEASE, RELEASE_LEASE, TAKE_BATCH, type WriteBehindKeys, writeBehindKeys } from "./scripts.ts";

/** The Redis commands the flusher needs (an ioredis `Redis` or `Cluster` fits). */
export interface FlushRedis {
  eval(script: string, numKeys: number, ...args: (string | number)[]): Promise<unknown>;
  hgetall(key: string): Promise<Record<string, string>>;
}

/** What the flusher needs of Prisma: raw statements, and an interactive transaction with the model delegates. */
export interface FlushClient {
  $executeRawUnsafe(query: string, ...values: unknown[]): Promise<number>;
  $transaction<R>(fn: (tx: FlushTransaction) => Promise<R>, options?: { timeout?: number; maxWait?: number }): Promise<R>;
}

export interface FlushTransaction {
  $executeRawUnsafe(query: string, ...values: unknown[]): Promise<number>;
  [delegate: string]: unknown;
}

export interface FlusherOptions {
  /** Namespace of the Redis keys (the plugin's `prefix`). */
  prefix: string;
  /** How often the elected process flushes, in milliseconds: the most reads lag behind increments. @default 1000 */
  flushIntervalMs?: number;
  /** How long the flusher lease lasts without renewal, in milliseconds (renewed every flush). @default 10000 */
  leaseMs?: number;
  /** The flush log table, created if missing. @default "_prisma_cache_flush_log" */
  table?: string;
  /** @default "postgres" */
  dialect?: FlushLogDialect;
  /** How long flush log rows are kept, in milliseconds; must exceed any flusher outage. @default 604800000 (7 days) */
  logRetentionMs?: number;
  /** Longest database transaction of one batch, in milliseconds. @default 30000 */
  transactionTimeoutMs?: number;
  /** Receives flush failures (the batch stays in Redis and is retried). @default console.warn */
  onError?: (error: unknown) => void;
  /** Test seams: called inside the transaction after the updates, and after the commit before the acknowledgement. */
  hooks?: { beforeCommit?(batchId: string): Promise<void>; afterCommit?(batchId: string): Promise<void> };
}

/** What one flush did. */
export interface FlushResult {
  batchId: string;
  /** False when the flush log already had the batch: an earlier flush committed it and died before acknowledging. */
  applied: boolean;
  /** Counters updated. */
  counters: number;
  /** Counters whose row no longer exists (P2025): their increments are dropped, and reported here. */
  missing: string[];
}

const PRUNE_EVERY = 1000;

/**
 * Flushes pending increments to the database, in one process at a time (a lease in Redis).
 *
 * Each flush takes a batch in Redis (the in-flight one if a flusher died before acknowledging it, else the pending
 * sums under a new id), then in ONE database transaction inserts the batch id into the flush log and applies
 * `update({ where, data: { [field]: { increment: n } } })` per counter, then acknowledges the batch in Redis. A
 * crash before the commit rolls the transaction back; a crash after it leaves the batch in flight, and its next
 * flush finds the id in the log, applies nothing and acknowledges. So every increment is applied exactly once,
 * even when two flushers race (a lease that expired under a stalled process): the log's primary key lets one commit.
 */
export class CounterFlusher {
  private readonly keys: WriteBehindKeys;
  private readonly sql: FlushLogSql;
  private readonly token = randomBytes(12).toString("base64url");
  private readonly intervalMs: number;
  private readonly leaseMs: number;
  private readonly retentionMs: number;
  private readonly timeoutMs: number;
  private timer: ReturnType<typeof setInterval> | undefined;
  private running: Promise<unknown> | undefined;
  private ready: Promise<void> | undefined;
  private flushes = 0;

  constructor(
    private readonly redis: FlushRedis,
    private readonly client: FlushClient,
    private readonly options: FlusherOptions,
  ) {
    const table = options.table ?? "_prisma_cache_flush_log";
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(table)) throw new RangeError(`writeBehind.table must be letters, digits and '_', received: ${table}`);
    this.keys = writeBehindKeys(options.prefix);
    this.sql = flushLogSql(options.dialect ?? "postgres", table);
    this.intervalMs = options.flushIntervalMs ?? 1000;
    this.leaseMs = options.leaseMs ?? 10_000;
    this.retentionMs = options.logRetentionMs ?? 7 * 24 * 3600 * 1000;
    this.timeoutMs = options.transactionTimeoutMs ?? 30_000;
    if (!(this.intervalMs > 0 && this.leaseMs > this.intervalMs)) {
      throw new RangeError(`writeBehind.leaseMs (${this.leaseMs}) must exceed flushIntervalMs (${this.intervalMs}), both positive`);
    }
  }

  /** Creates the flush log table if it is missing. */
  prepare(): Promise<void> {
    this.ready ??= this.client.$executeRawUnsafe(this.sql.create).then(() => undefined);
    return this.ready;
  }

  /** Flushes every `flushIntervalMs` while this process holds the lease; errors go to `onError`. */
  start(): void {
    if (this.timer !== undefined) return;
    this.timer = setInterval(() => {
      if (this.running !== undefined) return;
      this.running = this.tick().finally(() => {
        this.running = undefined;
      });
    }, this.intervalMs);
    this.timer.unref?.();
  }

  /** Stops flushing, waits for a flush in progress, and gives the lease up. Pending increments stay in Redis. */
  async stop(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
    await this.redis.eval(RELEASE_LEASE, 1, this.keys.lease, this.token).catch(this.report);
  }

  /** Whether this process holds (and now renewed) the flusher lease. */
  async holdLease(): Promise<boolean> {
    return (await this.redis.eval(HOLD_LEASE, 1, this.keys.lease, this.token, this.leaseMs)) === 1;
  }

  /** One flush of one batch, lease or not (safe either way); undefined when nothing was pending. */
  async flushOnce(): Promise<FlushResult | undefined> {
    await this.prepare();
    const newId = `${Date.now().toString(36)}-${randomBytes(8).toString("hex")}`;
    const batchId = (await this.redis.eval(TAKE_BATCH, 3, this.keys.pending, this.keys.batch, this.keys.batchId, newId)) as string | null;
    if (batchId === null) return undefined;
    const sums = await this.redis.hgetall(this.keys.batch);
    const missing: string[] = [];
    const prune = ++this.flushes % PRUNE_EVERY === 0;
    const applied = await this.client.$transaction(
      async (tx) => {
        if ((await tx.$executeRawUnsafe(this.sql.claim, batchId)) === 0) return false;
        for (const [key, sum] of Object.entries(sums)) {
          const n = Number(sum);
          if (n === 0) continue;
          const target = parseCounterKey(key);
          const delegate = tx[target.model.charAt(0).toLowerCase() + target.model.slice(1)] as { update(args: unknown): Promise<unknown> } | undefined;
          if (delegate === undefined) throw new Error(`write-behind: the client has no model ${target.model}`);
          const by = Number.isSafeInteger(n) ? n : BigInt(sum);
          try {
            await delegate.update({ where: target.where, data: { [target.field]: { increment: by } }, select: { [target.field]: true } });
          } catch (error) {
            if ((error as { code?: string }).code !== "P2025") throw error;
            missing.push(key);
          }
        }
        if (prune) await tx.$executeRawUnsafe(this.sql.prune, new Date(Date.now() - this.retentionMs));
        await this.options.hooks?.beforeCommit?.(batchId);
        return true;
      },
      { timeout: this.timeoutMs, maxWait: this.timeoutMs },
    );
    await this.options.hooks?.afterCommit?.(batchId);
    await this.redis.eval(ACK_BATCH, 2, this.keys.batch, this.keys.batchId, batchId);
    return { batchId, applied, counters: Object.keys(sums).length, missing };
  }

  /** Flushes until nothing is pending (for shutdown and tests); returns the flushes made. */
  async drain(): Promise<FlushResult[]> {
    const results: FlushResult[] = [];
    for (;;) {
      const result = await this.flushOnce();
      if (result === undefined) return results;
      results.push(result);
    }
  }

  private async tick(): Promise<void> {
    try {
      if (!(await this.holdLease())) return;
      await this.flushOnce();
    } catch (error) {
      this.report(error);
    }
  }

  private readonly report = (error: unknown): void => {
    (this.options.onError ?? ((e: unknown) => console.warn("[prisma-cache-plugin] write-behind flush failed; the batch stays in Redis and is retried:", e)))(error);
  };
}
