import { CounterFlusher, type FlushClient, type FlusherOptions, type FlushRedis } from "./flusher.ts";
import { IncrementRecorder, type IncrementRedis, type IncrementRequest } from "./recorder.ts";

/** What write-behind is built from: the lead wires these from the plugin's options and client. */
export interface WriteBehindParts extends FlusherOptions {
  /** ioredis `Redis` (or `Cluster`); never closed here. Use a server with `appendonly yes` (see docs/write-behind.md). */
  redis: IncrementRedis & FlushRedis;
  /** The Prisma client the flusher updates rows with; pass the cached client so its updates invalidate as usual. */
  client: FlushClient;
  /** Model names `increment` accepts. */
  models?: readonly string[];
  /** Run the flusher loop in this process (it flushes only while it holds the lease). @default true */
  flush?: boolean;
}

/** `$cache.increment` and the flusher behind it. */
export interface WriteBehind {
  increment(request: IncrementRequest): Promise<void>;
  flusher: CounterFlusher;
  /** Stops this process's flusher (pending increments stay in Redis for the next flusher). */
  close(): Promise<void>;
}

/** Builds write-behind counters; starts the flusher loop unless `flush: false`. */
export function writeBehind(parts: WriteBehindParts): WriteBehind {
  const recorder = new IncrementRecorder(parts.redis, parts.prefix, parts.models);
  const flusher = new CounterFlusher(parts.redis, parts.client, parts);
  if (parts.flush !== false) flusher.start();
  return {
    increment: (request) => recorder.increment(request),
    flusher,
    close: () => flusher.stop(),
  };
}
