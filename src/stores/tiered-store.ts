import { CacheConfigError } from "../errors.ts";
import { EntryTable } from "./entry-table.ts";
import { MemoryStore } from "./memory-store.ts";
import type { RedisClientLike, RedisStore, RedisSubscriberLike } from "./redis-store.ts";
import { tokenSource, type CacheStore, type FillRequest, type LookupRequest, type LookupResult, type WriteThroughRequest, type Abandonment } from "./store.ts";

export interface TieredStoreOptions {
  /** Bounds of the in-process tier (its `maxEntries` and `maxBytes`). @default memoryStore() */
  l1?: MemoryStore;
  /** The shared tier. */
  l2: RedisStore;
  /** Pub/sub channel carrying invalidations between processes. @default "prisma-cache-plugin:invalidate" */
  channel?: string;
  /**
   * Longest wait, after publishing an invalidation, for every subscribed process to confirm it has applied it, in
   * milliseconds. `0`: do not wait. @default 50
   */
  deliveryWaitMs?: number;
}

/** How many recently invalidated stamps are remembered to refuse late L1 fills; past it, all in-flight fills are. */
const MAX_INVALIDATED = 100_000;

/** A published invalidation waiting for its receivers' acknowledgements. */
interface Delivery {
  acknowledged: number;
  /** Subscribers Redis delivered the message to; unknown (Infinity) until the publishing script answers. */
  expected: number;
  done: () => void;
}

/**
 * An in-process L1 in front of Redis. L1 keeps entries with the Redis stamp tokens they were filled under, and a
 * mirror of the tokens it has seen in Redis; a hit needs every token of the entry to still be in the mirror, so it
 * costs a few map lookups and a copy, no round trip.
 *
 * Writers advance stamps and publish their keys in one Redis script; every process subscribed to the channel drops
 * them from its mirror, which invalidates its L1 entries that depend on them. The writer's own process drops them
 * before the write returns. Two more rules close the gaps bentocache and FusionCache left open:
 * - a Redis answer is learned only if none of its stamps was invalidated while it was in flight (a message that
 *   overtook the answer would otherwise be undone);
 * - whenever the subscription is not live (connecting, dropped, reconnecting), L1 is emptied and bypassed,
 *   because messages sent meanwhile are lost.
 * A write returns only once every process that received its message has confirmed applying it (each publishes an
 * acknowledgement to the writer's own channel; PUBLISH tells the writer how many to expect), or after
 * `deliveryWaitMs`. So a read that starts after a write returned sees it in every process, except in one whose
 * event loop was stalled for longer than `deliveryWaitMs` (see the README for measured times).
 */
export function tieredStore(options: TieredStoreOptions): TieredStore {
  return new TieredStore(options);
}

export class TieredStore implements CacheStore {
  readonly name = "tiered";
  readonly l2: RedisStore;
  readonly channel: string;
  private readonly table: EntryTable;
  private readonly mirror = new Map<string, string>();
  private readonly maxMirror: number;
  private readonly invalidatedAt = new Map<string, number>();
  /** Answers from requests sent before this sequence number cannot be trusted (the memory of invalidations was cut). */
  private trustFrom = 0;
  private sequence = 0;
  /** Changes whenever the subscription goes down: answers from an earlier generation are not learned. */
  private generation = 0;
  private live = false;
  private closed = false;
  private readonly subscriber: RedisClientLike & RedisSubscriberLike;
  private readonly deliveryWaitMs: number;
  /** The acknowledgement wait, which the plugin's store timeout must not count as slowness. */
  get confirmWaitMs(): number {
    return this.deliveryWaitMs;
  }
  private readonly nextMessageId = tokenSource();
  /** This store's id on the channel: acknowledgements of its messages go to `<channel>:ack:<id>`. */
  private readonly instance = tokenSource()();
  private readonly deliveries = new Map<string, Delivery>();

  constructor(options: TieredStoreOptions) {
    const l2 = options?.l2;
    if (!l2 || typeof l2.bumpAndPublish !== "function") throw new CacheConfigError("tieredStore.l2", "must be a redisStore({ client })");
    if (options.l1 !== undefined && !(options.l1 instanceof MemoryStore)) throw new CacheConfigError("tieredStore.l1", "must be a memoryStore({ maxEntries, maxBytes })");
    if (typeof l2.client.duplicate !== "function") throw new CacheConfigError("tieredStore.l2", "needs an ioredis client that can duplicate() its connection for pub/sub");
    const l1 = options.l1 ?? new MemoryStore();
    this.l2 = l2;
    this.channel = options.channel ?? "prisma-cache-plugin:invalidate";
    this.table = new EntryTable(l1.maxEntries, l1.maxBytes);
    this.maxMirror = Math.max(1024, l1.maxEntries * 4);
    this.deliveryWaitMs = options.deliveryWaitMs ?? 50;
    if (!Number.isFinite(this.deliveryWaitMs) || this.deliveryWaitMs < 0) {
      throw new CacheConfigError("tieredStore.deliveryWaitMs", `must be a non-negative number of milliseconds, received: ${String(options.deliveryWaitMs)}`);
    }
    this.subscriber = l2.client.duplicate();
    this.subscribe();
  }

  /** True while invalidations are being received, i.e. while L1 serves hits. */
  get l1Live(): boolean {
    return this.live;
  }

  lookupNow(request: LookupRequest): LookupResult | undefined {
    if (!this.live) return undefined;
    const now = Date.now();
    const entry = this.table.get(request.key, now);
    if (entry === undefined) return undefined;
    const stamps = request.stamps;
    if (entry.tokens.length !== stamps.length) return undefined;
    for (let i = 0; i < stamps.length; i++) if (this.mirror.get(stamps[i]!) !== entry.tokens[i]) return undefined;
    return { fence: entry.fence, value: entry.value, freshForMs: entry.freshUntil - now, loadMs: entry.loadMs };
  }

  async lookup(requests: readonly LookupRequest[], signal?: Abandonment): Promise<LookupResult[]> {
    const results: LookupResult[] = new Array(requests.length);
    const remote: number[] = [];
    requests.forEach((request, i) => {
      const local = this.lookupNow(request);
      if (local) results[i] = local;
      else remote.push(i);
    });
    if (remote.length === 0) return results;
    const sentAt = this.sequence;
    const generation = this.generation;
    const answers = await this.l2.lookup(remote.map((i) => requests[i]!), signal);
    remote.forEach((i, j) => {
      results[i] = answers[j]!;
      this.learn(requests[i]!, answers[j]!, sentAt, generation);
    });
    return results;
  }

  async fill(request: FillRequest): Promise<boolean> {
    return (await this.fillMany([request]))[0]!;
  }

  async fillMany(requests: readonly FillRequest[]): Promise<boolean[]> {
    const sentAt = this.sequence;
    const generation = this.generation;
    const stored = await this.l2.fillMany(requests);
    requests.forEach((request, i) => {
      if (!stored[i] || !this.trusts(request.stamps, sentAt, generation)) return;
      const tokens = request.fence.split(",");
      if (!request.stamps.every((stamp, j) => this.mirror.get(stamp) === tokens[j])) return;
      const now = Date.now();
      this.table.set(request.key, tokens, request.fence, request.value, now + request.ttlMs, now + request.ttlMs + request.swrMs, request.loadMs);
    });
    return stored;
  }

  async bump(stamps: readonly string[]): Promise<void> {
    // This process stops trusting the stamps before Redis changes them, and L1 answers from Redis in flight now
    // will not be learned.
    this.invalidate(stamps);
    await this.publishing((id) => this.l2.bumpAndPublish(stamps, this.channel, id));
  }

  async writeThrough(request: WriteThroughRequest): Promise<boolean> {
    // As bump; the new entries reach this and other processes' L1 through Redis (the message drops old tokens).
    this.invalidate(request.bump);
    let stored = false;
    await this.publishing(async (id) => {
      const result = await this.l2.writeThroughAndPublish(request, this.channel, id);
      stored = result.stored;
      return result.receivers;
    });
    return stored;
  }

  /**
   * Runs a publishing script and waits until every receiver acknowledged the message (or `deliveryWaitMs` passed).
   * `publish` resolves to the number of subscribers Redis delivered it to, this process's own included.
   */
  private async publishing(publish: (id: string) => Promise<number>): Promise<void> {
    // Without our own subscription no acknowledgement can reach us: then the full wait gives others time.
    const waits = this.deliveryWaitMs > 0;
    const id = `${this.nextMessageId()}@${this.instance}`;
    const delivery: Delivery = { acknowledged: 0, expected: Infinity, done: () => {} };
    const confirmed = new Promise<void>((resolve) => (delivery.done = resolve));
    if (waits) this.deliveries.set(id, delivery);
    let timer: NodeJS.Timeout | undefined;
    try {
      delivery.expected = await publish(id);
      if (!waits || delivery.acknowledged >= delivery.expected) return;
      await Promise.race([confirmed, new Promise<void>((resolve) => (timer = setTimeout(resolve, this.deliveryWaitMs)))]);
    } finally {
      clearTimeout(timer);
      this.deliveries.delete(id);
    }
  }

  /** Counts one receiver's acknowledgement of message `id`. */
  private acknowledge(id: string): void {
    const delivery = this.deliveries.get(id);
    if (delivery === undefined) return;
    delivery.acknowledged++;
    if (delivery.acknowledged >= delivery.expected) delivery.done();
  }

  release(key: string, lease: string): Promise<void> {
    return this.l2.release(key, lease);
  }

  claimLease(key: string, token: string, ms: number): Promise<boolean> {
    return this.l2.claimLease(key, token, ms);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.goDown();
    try {
      await this.subscriber.quit();
    } catch {
      this.subscriber.disconnect();
    }
  }

  private subscribe(): void {
    const subscriber = this.subscriber;
    const acks = `${this.channel}:ack:${this.instance}`;
    subscriber.on("message", (channel, message) => {
      if (channel === acks) return this.acknowledge(message);
      if (channel !== this.channel) return;
      const [id, ...stamps] = message.split("\n");
      this.invalidate(stamps);
      // Tell the writer this process no longer serves what the message invalidated.
      const writer = id!.slice(id!.indexOf("@") + 1);
      if (writer === this.instance) this.acknowledge(id!);
      else this.l2.client.publish?.(`${this.channel}:ack:${writer}`, id!).catch(() => {});
    });
    const up = () => {
      if (this.closed) return;
      // Subscribing again is harmless and makes sure the channel is live before L1 serves anything.
      subscriber.subscribe(this.channel, acks).then(
        () => {
          if (!this.closed) this.live = true;
        },
        () => this.goDown(),
      );
    };
    subscriber.on("ready", up);
    for (const event of ["close", "end", "reconnecting"] as const) subscriber.on(event, () => this.goDown());
    // Errors surface as close/reconnecting; without a listener ioredis would print them.
    subscriber.on("error", () => {});
    if (subscriber.status === "ready") up();
  }

  /** The subscription is down: messages may be lost, so forget everything L1 knows. */
  private goDown(): void {
    this.live = false;
    this.generation++;
    this.mirror.clear();
    this.table.clear();
  }

  private invalidate(stamps: readonly string[]): void {
    const sequence = ++this.sequence;
    for (const stamp of stamps) {
      this.mirror.delete(stamp);
      this.invalidatedAt.set(stamp, sequence);
    }
    if (this.invalidatedAt.size > MAX_INVALIDATED) {
      this.invalidatedAt.clear();
      this.trustFrom = sequence;
    }
  }

  /** Whether an answer to a request sent at `sentAt` may still be believed about these stamps. */
  private trusts(stamps: readonly string[], sentAt: number, generation: number): boolean {
    if (!this.live || generation !== this.generation || sentAt < this.trustFrom) return false;
    for (const stamp of stamps) if ((this.invalidatedAt.get(stamp) ?? 0) > sentAt) return false;
    return true;
  }

  private learn(request: LookupRequest, answer: LookupResult, sentAt: number, generation: number): void {
    if (!this.trusts(request.stamps, sentAt, generation)) return;
    const tokens = answer.fence.split(",");
    if (this.mirror.size + tokens.length > this.maxMirror) {
      // Forgetting tokens only costs L1 hits (they are relearned from Redis), never correctness.
      this.mirror.clear();
      this.table.clear();
    }
    request.stamps.forEach((stamp, i) => this.mirror.set(stamp, tokens[i]!));
    if (answer.value !== undefined && answer.lifeMs !== undefined && answer.lifeMs > 0) {
      const now = Date.now();
      this.table.set(request.key, tokens, answer.fence, answer.value, now + (answer.freshForMs ?? 0), now + answer.lifeMs, answer.loadMs ?? 0);
    }
  }
}
