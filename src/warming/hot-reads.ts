/**
 * The hot-read list shared in Redis: each process records the reads it serves in a Space-Saving sketch and
 * publishes its top K to a sorted set under the plugin's prefix; a starting process reads the list and warms from
 * it. Reads are recorded as descriptors (`{ model, operation, args }` as JSON), so they can be run again. Dates
 * and Decimals travel as strings, which Prisma accepts; reads whose args hold a BigInt or bytes are not recorded.
 */
import { HotKeySketch } from "../insight/hot-keys.ts";
import type { ReadPlan } from "../read/plans.ts";
import type { ReadObserver } from "../read/read-observer.ts";
import { ARGS, type Loader } from "../read/read-through.ts";
import type { ReadDescriptor } from "./warm.ts";

/** The Redis commands sharing needs (an ioredis `Redis` or `Cluster` fits). */
export interface HotReadRedis {
  eval(script: string, numKeys: number, ...args: (string | number)[]): Promise<unknown>;
  zrevrange(key: string, start: number, stop: number): Promise<string[]>;
}

/** Adds each member's count (ZADD GT keeps the largest any process reported), trims to K, sets the expiry. */
const PUBLISH = `
for i = 2, #ARGV, 2 do redis.call('ZADD', KEYS[1], 'GT', ARGV[i], ARGV[i + 1]) end
redis.call('ZREMRANGEBYRANK', KEYS[1], 0, -(tonumber(ARGV[1]) + 1))
redis.call('PEXPIRE', KEYS[1], 86400000)
return redis.call('ZCARD', KEYS[1])
`;

export function hotReadsKey(prefix: string): string {
  return `{${prefix}}:hot-reads`;
}

/** Records reads in a bounded sketch and shares the top K; as a `ReadObserver`, it records the plugin's reads. */
export class HotReads implements ReadObserver {
  readonly sketch: HotKeySketch;
  /** Each plan's description, made once: plans are kept per args, so a hot read is described once, not per hit. */
  private readonly described = new WeakMap<ReadPlan, string | null>();

  constructor(
    private readonly redis: HotReadRedis,
    private readonly prefix: string,
    /** Reads kept in the shared list. @default 1000 */
    private readonly k = 1000,
  ) {
    // Spare counters: only keys read more than total / capacity times are certain to be kept.
    this.sketch = new HotKeySketch(Math.max(64, k * 4));
  }

  /** Records one served read (call it on hits and misses). */
  record(read: ReadDescriptor): void {
    const text = describe(read);
    if (text !== undefined) this.sketch.record(text);
  }

  hit(plan: ReadPlan, source: Loader): void {
    this.recordPlan(plan, source);
  }

  miss(plan: ReadPlan, source: Loader): void {
    this.recordPlan(plan, source);
  }

  refresh(): void {}

  loaded(): void {}

  /** Records a model read the plugin served (raw queries are not warmable and are skipped). */
  private recordPlan(plan: ReadPlan, source: Loader): void {
    let text = this.described.get(plan);
    if (text === undefined) {
      text = plan.operation === "queryRaw" ? null : (describe({ model: plan.model, operation: plan.operation, args: source[ARGS] as Record<string, unknown> }) ?? null);
      this.described.set(plan, text);
    }
    if (text !== null) this.sketch.record(text);
  }

  /** Publishes this process's top K into the shared list; resolves to the list's length. */
  async publish(): Promise<number> {
    const top = this.sketch
      .top()
      .sort((a, b) => b.count - b.error - (a.count - a.error))
      .slice(0, this.k);
    if (top.length === 0) return 0;
    const args: (string | number)[] = [this.k];
    // Ranked by the guaranteed count (estimate − error): a key that just took over a counter inherits the
    // counter's count as error, and must not outrank keys that were really read more.
    for (const hot of top) args.push(hot.count - hot.error, hot.key);
    return Number(await this.redis.eval(PUBLISH, 1, hotReadsKey(this.prefix), ...args));
  }
}

/** The shared hot reads, hottest first, at most `k`. */
export async function sharedHotReads(redis: HotReadRedis, prefix: string, k = 1000): Promise<ReadDescriptor[]> {
  const members = await redis.zrevrange(hotReadsKey(prefix), 0, k - 1);
  return members.map((text) => JSON.parse(text) as ReadDescriptor);
}

/** Stable JSON of a descriptor, or undefined when its args hold values JSON cannot carry back. */
function describe(read: ReadDescriptor): string | undefined {
  let plain = true;
  const text = JSON.stringify({ model: read.model, operation: read.operation, args: read.args ?? {} }, (_key, value) => {
    if (typeof value === "bigint" || typeof value === "function" || typeof value === "symbol") plain = false;
    // Buffer's toJSON turns bytes into { type: "Buffer", data }, which Prisma would not read back as bytes.
    if (value?.type === "Buffer" && Array.isArray(value.data)) plain = false;
    if (value !== null && typeof value === "object" && !Array.isArray(value)) {
      const proto = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) {
        plain = false;
        return value;
      }
      const sorted: Record<string, unknown> = {};
      for (const key of Object.keys(value).sort()) sorted[key] = value[key];
      return sorted;
    }
    return value;
  });
  return plain ? text : undefined;
}
