import { DEFAULTS } from "../defaults.ts";
import { CacheConfigError, CacheDeliveryError } from "../errors.ts";
import { describe, storeOptions } from "../validate.ts";
import { channels } from "../observe/channels.ts";
import { EntryTable } from "./entry-table.ts";
import type { MemoryStore } from "./memory-store.ts";
import type { RedisClientLike, RedisStore, RedisSubscriberLike } from "./redis-store.ts";
import { tokenSource, type CacheStore, type FillRequest, type LookupRequest, type LookupResult, type StoreReport, type WriteThroughRequest, type LookupProgress } from "./store.ts";

export interface TieredStoreOptions {
  /**
   * The in-process tier: this memoryStore holds the entries (bounded by its `maxEntries` and `maxBytes`) and serves
   * this tiered store only. @default memoryStore()
   */
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
  /** How often each process sends itself a heartbeat through Redis, in milliseconds. @default 100 */
  heartbeatMs?: number;
  /**
   * L1 serves only while the newest heartbeat received was sent at most this long ago, in milliseconds: a process
   * whose subscription stalls (Redis frozen, a partition with TCP up) empties and bypasses L1 after this long.
   * @default 300
   */
  heartbeatDeadlineMs?: number;
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
 * `deliveryWaitMs`; missing confirmations are reported (`DELIVERY_UNCONFIRMED`). So a read that starts after a
 * write returned sees it in every process, except in one that did not confirm in time.
 *
 * That one is bounded by the heartbeat: every `heartbeatMs` each process publishes a message to itself through
 * Redis. Redis delivers a connection's messages in order, so receiving a heartbeat sent at t proves every
 * invalidation that reached Redis before t was applied. L1 serves only while the newest heartbeat was sent within
 * `heartbeatDeadlineMs`; past it (Redis frozen, the subscriber partitioned with TCP up, the event loop stalled)
 * L1 is emptied and bypassed until heartbeats arrive again. The heartbeat also reads a generation key that Redis
 * loses with its data (FLUSHALL, a restart without persistence): a changed generation empties L1.
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
  /**
   * Advances whenever a token leaves the mirror or changes (an entry current before may not be now); adding a token
   * for a stamp not mirrored yet cannot make any entry stale, so it does not.
   */
  private mirrorVersion = 0;
  private readonly maxMirror: number;
  private readonly invalidatedAt = new Map<string, number>();
  /** Answers from requests sent before this sequence number cannot be trusted (the memory of invalidations was cut). */
  private trustFrom = 0;
  private sequence = 0;
  /** Changes whenever the subscription goes down: answers from an earlier generation are not learned. */
  private generation = 0;
  /** The subscription is up (subscribed since the connection's last `ready`). */
  private subscribed = false;
  /** L1 is in use: subscribed and the newest heartbeat is within the deadline. */
  private serving = false;
  /** When the newest heartbeat received was sent (this process's clock). */
  private beatSentAt = -Infinity;
  private beatStartedAt = 0;
  private beatInFlight = false;
  private readonly heartbeatMs: number;
  private readonly heartbeatDeadlineMs: number;
  private readonly heartbeatTimer: NodeJS.Timeout;
  /** Redis's data generation as last seen by a heartbeat. */
  private redisGeneration: string | undefined;
  private readonly generationKey: string;
  private readonly reporters: StoreReport[] = [];
  private closed = false;
  /** The pub/sub connection; on Cluster, a plain connection to the node owning the channel's slot, made once known. */
  private subscriber: (RedisClientLike & RedisSubscriberLike) | undefined;
  /** Cluster: sharded pub/sub (SSUBSCRIBE/SPUBLISH) in the channel's slot. */
  private readonly sharded: boolean;
  /** When the current shard connection was made (Cluster), so a new one gets time to hear its first heartbeat. */
  private shardSince = Date.now();
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
    storeOptions(options, ["l1", "l2", "channel", "deliveryWaitMs", "heartbeatMs", "heartbeatDeadlineMs"], "tieredStore");
    const l2 = options?.l2;
    if (!l2 || typeof l2.bumpAndPublish !== "function") throw new CacheConfigError("tieredStore.l2", "must be a redisStore({ client })");
    // Checked by shape: a store never imports another store's class at run time.
    if (options.l1 !== undefined && !(options.l1?.name === "memory" && typeof options.l1.asTier === "function")) {
      throw new CacheConfigError("tieredStore.l1", "must be a memoryStore({ maxEntries, maxBytes })");
    }
    if (typeof l2.client.duplicate !== "function") throw new CacheConfigError("tieredStore.l2", "needs an ioredis client that can duplicate() its connection for pub/sub");
    const l1 = options.l1 ?? DEFAULTS.memoryStore;
    this.l2 = l2;
    if (options.channel !== undefined && (typeof options.channel !== "string" || options.channel === "")) {
      throw new CacheConfigError("tieredStore.channel", `must be a non-empty string, received: ${describe(options.channel)}`);
    }
    this.channel = options.channel ?? DEFAULTS.tieredStore.channel;
    // The store given as l1 holds the entries itself (its size and clear() are the tier's).
    this.table = options.l1 ? options.l1.asTier("tieredStore") : new EntryTable(l1.maxEntries, l1.maxBytes);
    this.maxMirror = Math.max(1024, l1.maxEntries * 4);
    this.deliveryWaitMs = options.deliveryWaitMs ?? DEFAULTS.tieredStore.deliveryWaitMs;
    if (!Number.isFinite(this.deliveryWaitMs) || this.deliveryWaitMs < 0) {
      throw new CacheConfigError("tieredStore.deliveryWaitMs", `must be a non-negative number of milliseconds, received: ${String(options.deliveryWaitMs)}`);
    }
    this.heartbeatMs = milliseconds(options.heartbeatMs, "tieredStore.heartbeatMs", 100);
    this.heartbeatDeadlineMs = milliseconds(options.heartbeatDeadlineMs, "tieredStore.heartbeatDeadlineMs", 300);
    if (this.heartbeatDeadlineMs <= this.heartbeatMs) {
      throw new CacheConfigError("tieredStore.heartbeatDeadlineMs", `must be longer than heartbeatMs (${this.heartbeatMs}), received: ${this.heartbeatDeadlineMs}`);
    }
    this.generationKey = `${this.channel}:generation`;
    this.sharded = l2.client.isCluster === true;
    if (this.sharded && !/\{[^}]+\}/.test(this.channel)) {
      throw new CacheConfigError(
        "tieredStore.channel",
        `on Redis Cluster must carry a hash tag, e.g. "{<prefix>}:invalidate", so that its acknowledgement channels and generation key share its slot; received: ${this.channel}`,
      );
    }
    if (this.sharded) this.connectToShard();
    else this.subscribe(l2.client.duplicate());
    this.heartbeatTimer = setInterval(() => this.beat(), this.heartbeatMs);
    this.heartbeatTimer.unref();
  }

  /** Bytes of L1 entries held in this process (string lengths), for `$cache.report()`. */
  get bytesHeld(): number {
    return this.table.heldBytes;
  }

  /** True while invalidations are being received in time, i.e. while L1 serves hits. */
  get l1Live(): boolean {
    return this.isServing(Date.now());
  }

  reportTo(report: StoreReport): void {
    this.reporters.push(report);
  }

  lookupNow(request: LookupRequest): LookupResult | undefined {
    const now = Date.now();
    if (!this.isServing(now)) return undefined;
    const entry = this.table.get(request.key, now);
    if (entry === undefined) return undefined;
    const stamps = request.stamps;
    if (entry.checkedAt !== this.mirrorVersion || entry.checkedFor !== stamps) {
      if (entry.tokens.length !== stamps.length) return undefined;
      for (let i = 0; i < stamps.length; i++) if (this.mirror.get(stamps[i]!) !== entry.tokens[i]) return undefined;
      entry.checkedAt = this.mirrorVersion;
      entry.checkedFor = stamps;
    }
    return { fence: entry.fence, value: entry.value, freshForMs: entry.freshUntil - now, loadMs: entry.loadMs };
  }

  async lookup(requests: readonly LookupRequest[], signal?: LookupProgress): Promise<LookupResult[]> {
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
    const asked = remote.map((i) => requests[i]!);
    // Redis's early answers go on to the caller at once (unlearned: the loop below learns every answer once).
    const progress: LookupProgress | undefined = signal && {
      get aborted() {
        return signal.aborted;
      },
      answered: (j, result) => signal.answered?.(remote[j]!, result),
      nextStep: () => signal.nextStep?.(),
    };
    const answers = await this.l2.lookup(asked, progress);
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
      if (waits && delivery.expected === 0 && this.subscribed) {
        // Not even this process's own subscription got it: it listens on a node that no longer owns the channel
        // (Cluster, the slot moved). Readers there serve L1 until their heartbeat deadline; say so.
        const error = new CacheDeliveryError(this.channel, 1, 1);
        for (const report of this.reporters) report(error, { operation: "invalidate" });
        return;
      }
      if (!waits || delivery.acknowledged >= delivery.expected) return;
      await Promise.race([confirmed, new Promise<void>((resolve) => (timer = setTimeout(resolve, this.deliveryWaitMs)))]);
      const missing = delivery.expected - delivery.acknowledged;
      if (missing > 0) {
        const error = new CacheDeliveryError(this.channel, delivery.expected, missing);
        for (const report of this.reporters) report(error, { operation: "invalidate" });
      }
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

  ping(): Promise<void> {
    return this.l2.ping();
  }

  release(key: string, lease: string): Promise<void> {
    return this.l2.release(key, lease);
  }

  claimLease(key: string, token: string, ms: number): Promise<boolean> {
    return this.l2.claimLease(key, token, ms);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.heartbeatTimer);
    this.goDown();
    // QUIT waits for Redis's answer, which a frozen or partitioned server never sends.
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise((resolve) => (timer = setTimeout(resolve, 1_000)));
    try {
      if (this.subscriber) await Promise.race([this.subscriber.quit(), late]);
    } catch {
      // Disconnected below either way.
    } finally {
      clearTimeout(timer);
      this.subscriber?.disconnect();
    }
  }

  /**
   * Cluster: subscribes with a plain connection to the primary that owns the channel's slot, where every
   * process's SPUBLISH of this namespace lands, so the receiver count each publish returns is complete and
   * heartbeats travel the same connection as invalidations. If the slot moves, heartbeats stop arriving: L1 lapses
   * after the deadline and the store reconnects to the slot's new owner after twice that.
   */
  private connectToShard(): void {
    const cluster = this.l2.client as unknown as ClusterLike;
    const attempt = async () => {
      await new Promise<void>((resolve) => (cluster.refreshSlotsCache ? cluster.refreshSlotsCache(() => resolve()) : resolve()));
      const slot = Number(await cluster.cluster("KEYSLOT", this.channel));
      const owner = cluster.slots?.[slot]?.[0];
      const node = cluster.nodes("master").find((one) => `${one.options.host}:${one.options.port}` === owner);
      if (node === undefined) throw new Error(`no primary owns slot ${slot} yet`);
      if (this.closed) return;
      const subscriber = node.duplicate({ lazyConnect: false });
      this.shardSince = Date.now();
      this.subscribe(subscriber);
    };
    const retry = () => {
      if (!this.closed) setTimeout(() => attempt().catch(retry), 100).unref();
    };
    attempt().catch(retry);
  }

  /** Sends the next heartbeat (one in flight at a time, unless it is overdue), and lapses L1 when it is overdue. */
  private beat(): void {
    const now = Date.now();
    this.isServing(now);
    if (this.closed) return;
    if (this.sharded && this.subscriber && now - Math.max(this.beatSentAt, this.shardSince) > 2 * this.heartbeatDeadlineMs) {
      // Heartbeats stopped arriving on the shard connection: the slot may have moved. Reconnect to its owner now.
      this.shardSince = now;
      const old = this.subscriber;
      this.subscriber = undefined;
      this.goDown();
      old.disconnect();
      this.connectToShard();
      return;
    }
    if (!this.subscribed) return;
    if (this.beatInFlight && now - this.beatStartedAt < this.heartbeatDeadlineMs) return;
    this.beatInFlight = true;
    this.beatStartedAt = now;
    const done = () => {
      this.beatInFlight = false;
    };
    this.l2.heartbeat(this.generationKey, this.nextMessageId(), this.acks, `~${now}`).then(done, done);
  }

  /** A heartbeat this process sent at `sentAt` arrived: everything published before it has been applied. */
  private heartbeatArrived(sentAt: number, generation: string): void {
    if (generation !== this.redisGeneration) {
      // Redis lost its data (or this is the first heartbeat): L1 must not outlive what Redis forgot.
      if (this.redisGeneration !== undefined) this.lapse("redis lost its data");
      this.redisGeneration = generation;
    }
    if (sentAt > this.beatSentAt) this.beatSentAt = sentAt;
    if (this.subscribed && !this.serving && Date.now() - this.beatSentAt <= this.heartbeatDeadlineMs) {
      this.serving = true;
      if (channels.bus.hasSubscribers) channels.bus.publish({ channel: this.channel, state: "up" });
    }
  }

  /** Whether L1 may answer now; lapses it once the newest heartbeat is older than the deadline. */
  private isServing(now: number): boolean {
    if (!this.serving) return false;
    if (now - this.beatSentAt <= this.heartbeatDeadlineMs) return true;
    this.lapse();
    return false;
  }

  private get acks(): string {
    return `${this.channel}:ack:${this.instance}`;
  }

  private subscribe(subscriber: RedisClientLike & RedisSubscriberLike): void {
    this.subscriber = subscriber;
    const acks = this.acks;
    const onMessage = (channel: string, message: string) => {
      if (channel === acks) {
        if (!message.startsWith("~")) return this.acknowledge(message);
        const newline = message.indexOf("\n");
        return this.heartbeatArrived(Number(message.slice(1, newline)), message.slice(newline + 1));
      }
      if (channel !== this.channel) return;
      const { id, stamps } = parseInvalidation(message);
      this.invalidate(stamps);
      // Tell the writer this process no longer serves what the message invalidated.
      const writer = id.slice(id.indexOf("@") + 1);
      if (writer === this.instance) this.acknowledge(id);
      else this.l2.publish(`${this.channel}:ack:${writer}`, id, this.generationKey).catch(() => {});
    };
    subscriber.on(this.sharded ? "smessage" : "message", onMessage);
    // A replaced connection (Cluster: the slot moved) no longer speaks for this store.
    const current = () => !this.closed && this.subscriber === subscriber;
    const up = () => {
      if (!current()) return;
      // Subscribing again is harmless and makes sure the channel is live before L1 serves anything.
      const subscribing = this.sharded ? subscriber.ssubscribe!(this.channel, acks) : subscriber.subscribe(this.channel, acks);
      subscribing.then(
        () => {
          if (!current()) return;
          this.subscribed = true;
          // L1 serves once a heartbeat sent from now on comes back.
          this.beatInFlight = false;
          this.beat();
        },
        () => {
          if (current()) this.goDown();
        },
      );
    };
    subscriber.on("ready", up);
    for (const event of ["close", "end", "reconnecting"] as const) {
      subscriber.on(event, () => {
        if (current()) this.goDown();
      });
    }
    // Errors surface as close/reconnecting; without a listener ioredis would print them.
    subscriber.on("error", () => {});
    if (subscriber.status === "ready") up();
  }

  /** The subscription is down: messages may be lost, so forget everything L1 knows. */
  private goDown(): void {
    this.subscribed = false;
    this.lapse("subscription down");
  }

  /** Stops serving L1 and forgets it; answers already in flight will not be learned. */
  private lapse(reason = "heartbeat overdue"): void {
    if (this.serving && channels.bus.hasSubscribers) channels.bus.publish({ channel: this.channel, state: "down", reason });
    this.serving = false;
    this.generation++;
    this.mirrorVersion++;
    this.mirror.clear();
    this.table.clear();
  }

  private invalidate(stamps: readonly string[]): void {
    const sequence = ++this.sequence;
    this.mirrorVersion++;
    for (const stamp of stamps) {
      this.mirror.delete(stamp);
      this.invalidatedAt.set(stamp, sequence);
      // A bumped entry key drops its L1 copy here and, through the message, in every process (store.ts, rule 3).
      this.table.delete(stamp);
    }
    if (this.invalidatedAt.size > MAX_INVALIDATED) {
      this.invalidatedAt.clear();
      this.trustFrom = sequence;
    }
  }

  /** Whether an answer to a request sent at `sentAt` may still be believed about these stamps. */
  private trusts(stamps: readonly string[], sentAt: number, generation: number): boolean {
    if (!this.isServing(Date.now()) || generation !== this.generation || sentAt < this.trustFrom) return false;
    for (const stamp of stamps) if ((this.invalidatedAt.get(stamp) ?? 0) > sentAt) return false;
    return true;
  }

  private learn(request: LookupRequest, answer: LookupResult, sentAt: number, generation: number): void {
    if (!this.trusts(request.stamps, sentAt, generation)) return;
    const tokens = answer.fence.split(",");
    if (this.mirror.size + tokens.length > this.maxMirror) {
      // Forgetting tokens only costs L1 hits (they are relearned from Redis), never correctness.
      this.mirrorVersion++;
      this.mirror.clear();
      this.table.clear();
    }
    request.stamps.forEach((stamp, i) => {
      const before = this.mirror.get(stamp);
      if (before === tokens[i]) return;
      if (before !== undefined) this.mirrorVersion++;
      this.mirror.set(stamp, tokens[i]!);
    });
    if (answer.value !== undefined && answer.lifeMs !== undefined && answer.lifeMs > 0) {
      const now = Date.now();
      this.table.set(request.key, tokens, answer.fence, answer.value, now + (answer.freshForMs ?? 0), now + answer.lifeMs, answer.loadMs ?? 0);
    }
  }
}

/** The parts of an ioredis `Cluster` the tiered store uses to find the node of its sharded channel. */
interface ClusterLike {
  cluster(subcommand: "KEYSLOT", key: string): Promise<unknown>;
  readonly slots?: string[][];
  refreshSlotsCache?(callback: () => void): void;
  nodes(role: "master"): { options: { host?: string; port?: number }; duplicate(override: object): RedisClientLike & RedisSubscriberLike }[];
}

function milliseconds(value: unknown, field: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) {
    throw new CacheConfigError(field, `must be a positive number of milliseconds, received: ${String(value)}`);
  }
  return value;
}

/**
 * An invalidation message as the publishing scripts frame it (stores/redis-store.ts): the message id, a newline, then
 * each stamp key as `<byte length>:<key>`. Lengths count UTF-8 bytes, as Lua's `#` does.
 */
export function parseInvalidation(message: string): { id: string; stamps: string[] } {
  const newline = message.indexOf("\n");
  const id = newline < 0 ? message : message.slice(0, newline);
  const body = Buffer.from(newline < 0 ? "" : message.slice(newline + 1), "utf8");
  const stamps: string[] = [];
  let at = 0;
  while (at < body.length) {
    const colon = body.indexOf(0x3a, at);
    if (colon < 0) break;
    const length = Number(body.toString("latin1", at, colon));
    if (!Number.isInteger(length) || length < 0) break;
    stamps.push(body.toString("utf8", colon + 1, colon + 1 + length));
    at = colon + 1 + length;
  }
  return { id, stamps };
}
