/**
 * Measures how long an invalidation takes to reach another process's L1: the time from a write resolving in
 * instance A to instance B's subscriber having processed the invalidation message. Negative means B had already
 * processed it when A's write returned (the tiered store waits for its own copy of the message before returning).
 *
 * Used by test/integration/tiered.test.ts and reusable by a benchmark: it needs only a write function and the
 * connection whose "message" events mark B's processing (see `captureSubscribers`).
 */
import { performance } from "node:perf_hooks";
import type { Redis, RedisOptions } from "ioredis";

/** What emits a subscribed connection's messages: an ioredis client in subscriber mode. */
export interface MessageSource {
  on(event: "message", listener: (channel: string, message: string) => void): unknown;
  off(event: "message", listener: (channel: string, message: string) => void): unknown;
}

export interface PropagationOptions {
  /** One write through instance A; the promise resolves when the write returns to its caller. */
  write: (round: number) => PromiseLike<unknown>;
  /**
   * B's subscriber connection (or any connection subscribed to the channel). Listeners added here run after the
   * tiered store's own listener on the same connection, so the time they record is when B's L1 has dropped the
   * stamps.
   */
  observer: MessageSource;
  /** The invalidation channel. */
  channel: string;
  /** Measured writes. @default 200 */
  rounds?: number;
  /** Writes run first and not measured (connection and JIT warm-up). @default 10 */
  warmup?: number;
  /** Longest wait for a round's message, in milliseconds; a round past it counts as lost. @default 5000 */
  timeoutMs?: number;
}

/** Percentiles of a set of durations, in milliseconds. */
export interface Distribution {
  count: number;
  min: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

export interface PropagationReport {
  rounds: number;
  /** Message processed by B minus A's write resolved, in milliseconds (negative: B was first). */
  lagMs: Distribution;
  /** How long A's writes took, in milliseconds (including the tiered store's delivery wait). */
  writeMs: Distribution;
  /** Rounds in which B processed the message only after A's write had returned: a read on B then could be stale. */
  processedAfterReturn: number;
  /** Rounds whose message B never received within `timeoutMs`. */
  lost: number;
}

/**
 * Runs `rounds` writes one after another and times, for each, when `observer` received the first message on
 * `channel` after the write started, against when the write resolved. One message per write is expected: use a
 * channel only this measurement's writer publishes on.
 */
export async function measurePropagation(options: PropagationOptions): Promise<PropagationReport> {
  const rounds = options.rounds ?? 200;
  const warmup = options.warmup ?? 10;
  const timeoutMs = options.timeoutMs ?? 5_000;
  let waiting: ((at: number) => void) | undefined;
  let arrivedAt: number | undefined;
  const listener = (channel: string) => {
    if (channel !== options.channel) return;
    const at = performance.now();
    if (arrivedAt === undefined) arrivedAt = at;
    waiting?.(at);
  };
  options.observer.on("message", listener);
  const lags: number[] = [];
  const writes: number[] = [];
  let lost = 0;
  try {
    for (let round = 0; round < warmup + rounds; round++) {
      arrivedAt = undefined;
      const arrival = new Promise<number | undefined>((resolve) => {
        const timer = setTimeout(() => resolve(undefined), timeoutMs);
        waiting = (at) => {
          clearTimeout(timer);
          resolve(at);
        };
        if (arrivedAt !== undefined) waiting(arrivedAt);
      });
      const started = performance.now();
      await options.write(round);
      const resolved = performance.now();
      const at = arrivedAt ?? (await arrival);
      waiting = undefined;
      if (round < warmup) continue;
      writes.push(resolved - started);
      if (at === undefined) lost++;
      else lags.push(at - resolved);
    }
  } finally {
    options.observer.off("message", listener);
  }
  return {
    rounds,
    lagMs: distribution(lags),
    writeMs: distribution(writes),
    processedAfterReturn: lags.filter((lag) => lag > 0).length,
    lost,
  };
}

/**
 * Records the connections a client's `duplicate()` creates: the tiered store makes its subscriber that way, so the
 * test can listen to the very connection the store uses. `override` is applied to each duplicate (e.g. a port, to
 * route the subscriber through a proxy).
 */
export function captureSubscribers(client: Redis, override: RedisOptions = {}): Redis[] {
  const created: Redis[] = [];
  const duplicate = client.duplicate.bind(client);
  client.duplicate = ((extra?: Partial<RedisOptions>) => {
    const connection = duplicate({ ...extra, ...override });
    created.push(connection);
    return connection;
  }) as typeof client.duplicate;
  return created;
}

/** Percentiles by nearest rank. */
export function distribution(values: readonly number[]): Distribution {
  if (values.length === 0) return { count: 0, min: NaN, p50: NaN, p90: NaN, p99: NaN, max: NaN, mean: NaN };
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
  return {
    count: sorted.length,
    min: sorted[0]!,
    p50: rank(0.5),
    p90: rank(0.9),
    p99: rank(0.99),
    max: sorted[sorted.length - 1]!,
    mean: sorted.reduce((sum, value) => sum + value, 0) / sorted.length,
  };
}

/** One line for logs and benchmark output. */
export function formatPropagation(label: string, report: PropagationReport): string {
  const ms = (value: number) => `${value.toFixed(3)} ms`;
  const { lagMs: lag, writeMs: write } = report;
  return (
    `${label}: ${report.rounds} writes; B processed the invalidation at ` +
    `p50 ${ms(lag.p50)}, p90 ${ms(lag.p90)}, p99 ${ms(lag.p99)}, min ${ms(lag.min)}, max ${ms(lag.max)} relative to A's write returning ` +
    `(after it in ${report.processedAfterReturn} rounds, lost ${report.lost}); ` +
    `write latency p50 ${ms(write.p50)}, p99 ${ms(write.p99)}`
  );
}
