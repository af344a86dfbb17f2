import { CacheConfigError } from "../errors.ts";
import { counterKey, type CounterTarget } from "./counter-key.ts";
import { writeBehindKeys } from "./scripts.ts";

/** The one Redis command recording needs (an ioredis `Redis` or `Cluster` fits). */
export interface IncrementRedis {
  hincrby(key: string, field: string, increment: number): Promise<number>;
}

/** `$cache.increment(...)`'s argument: add `by` to `field` of the row `where` names. */
export interface IncrementRequest extends CounterTarget {
  /** A non-zero safe integer; negative decrements. @default 1 */
  by?: number;
}

/**
 * Records increments in Redis and returns once Redis has them: one HINCRBY into the pending hash, so increments of
 * the same counter add up there and the flusher applies one `increment` per counter and batch. Durable only as far
 * as Redis is: with `appendonly yes` and `appendfsync always` an acknowledged increment survives a crash; with
 * `everysec` the last second may be lost; without persistence a restart loses every pending increment.
 */
export class IncrementRecorder {
  private readonly pendingKey: string;

  constructor(
    private readonly redis: IncrementRedis,
    prefix: string,
    /** Model names accepted (the Prisma client's); `undefined` accepts any. */
    private readonly models?: readonly string[],
  ) {
    this.pendingKey = writeBehindKeys(prefix).pending;
  }

  /** Adds `by` to the counter; resolves when Redis acknowledged it. Bad input throws `CacheConfigError`. */
  async increment(request: IncrementRequest): Promise<void> {
    const { model, where, field } = request ?? ({} as IncrementRequest);
    const by = request?.by ?? 1;
    if (typeof model !== "string" || (this.models !== undefined && !this.models.includes(model))) {
      throw new CacheConfigError("increment().model", `must be a model of this Prisma client${this.models ? ` (${this.models.join(", ")})` : ""}, received: ${String(model)}`);
    }
    if (where === null || typeof where !== "object" || Array.isArray(where) || Object.keys(where).length === 0) {
      throw new CacheConfigError("increment().where", "must be a unique filter of one row, such as { id: 1 }");
    }
    if (typeof field !== "string" || field.length === 0) throw new CacheConfigError("increment().field", `must be the name of an integer field, received: ${String(field)}`);
    if (!Number.isSafeInteger(by) || by === 0) throw new CacheConfigError("increment().by", `must be a non-zero safe integer, received: ${String(by)}`);
    await this.redis.hincrby(this.pendingKey, counterKey({ model, where, field }), by);
  }
}
