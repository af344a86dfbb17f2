import { createHash } from "node:crypto";
import { CacheConfigError, CacheStoreError, type CacheOperation } from "../errors.ts";
import { storeOptions } from "../validate.ts";
import { ClusterPath } from "./redis-cluster.ts";
import { BUMP_AND_PUBLISH, FILL, HEARTBEAT, HOLD_LEASE, LOOKUP, PUBLISH, RELEASE, WRITE_THROUGH } from "./redis-scripts.ts";
import { tokenSource, type CacheStore, type FillRequest, type LookupRequest, type LookupResult, type WriteThroughRequest, type LookupProgress } from "./store.ts";

/**
 * The parts of an ioredis client (`Redis` or `Cluster`, ioredis 5 or 6) the store uses; typed structurally so the
 * package's types do not require ioredis.
 */
export interface RedisClientLike {
  readonly status: string;
  evalsha(sha: string, numKeys: number, ...keysAndArgs: (string | number)[]): Promise<unknown>;
  eval(script: string, numKeys: number, ...keysAndArgs: (string | number)[]): Promise<unknown>;
  del(...keys: string[]): Promise<number>;
  mget(...keys: string[]): Promise<(string | null)[]>;
  /** Used on Cluster, where keys spread over the slots and an MGET may not span them. */
  get?(key: string): Promise<string | null>;
  ping?(): Promise<unknown>;
  /** Used by the tiered store to acknowledge invalidations. */
  publish?(channel: string, message: string): Promise<number>;
  /** True for an ioredis `Cluster`. */
  readonly isCluster?: boolean;
  /** The client's options; ioredis prepends `keyPrefix` to every key it sends (not to channels). */
  readonly options?: { keyPrefix?: string };
  /** A new connection with the same options (for the tiered store's invalidation subscriber). */
  duplicate?(): RedisClientLike & RedisSubscriberLike;
}

/** The pub/sub side of an ioredis connection. */
export interface RedisSubscriberLike {
  readonly status: string;
  subscribe(...channels: string[]): Promise<unknown>;
  /** Redis 7 sharded pub/sub (used on Cluster). */
  ssubscribe?(...channels: string[]): Promise<unknown>;
  connect?(): Promise<void>;
  on(event: "message" | "smessage", listener: (channel: string, message: string) => void): unknown;
  on(event: "ready" | "close" | "end" | "reconnecting", listener: () => void): unknown;
  on(event: "error", listener: (error: Error) => void): unknown;
  quit(): Promise<unknown>;
  disconnect(): void;
}

export interface RedisStoreOptions {
  /** An ioredis client. The store never closes it: the caller owns it. */
  client: RedisClientLike;
}

/**
 * A store in Redis, shared by every process using the same prefix. On one Redis node, a batch of lookups is one
 * MGET (one round trip) when they hit, plus one script call for those that miss; a fill is one script call; a bump
 * is one DEL. On Redis Cluster every key carries its own hash tag, so keys spread over the slots, and each step
 * sends its keys' commands to their nodes at once (redis-cluster.ts; one parallel round trip per node). The
 * scripts and the entry format are in redis-scripts.ts.
 */
export function redisStore(options: RedisStoreOptions): RedisStore {
  return new RedisStore(options);
}

export class RedisStore implements CacheStore {
  readonly name = "redis";
  readonly client: RedisClientLike;
  private readonly nextToken = tokenSource();
  private readonly scripts = new Map<string, string>();

  constructor(options: RedisStoreOptions) {
    storeOptions(options, ["client"], "redisStore");
    const client = options?.client;
    if (!client || typeof client.evalsha !== "function" || typeof client.mget !== "function" || typeof client.del !== "function") {
      throw new CacheConfigError("redisStore.client", "must be an ioredis client (new Redis(url) or new Cluster(nodes))");
    }
    this.client = client;
    this.keyPrefix = client.options?.keyPrefix ?? "";
    this.publishCommand = client.isCluster === true ? "SPUBLISH" : "PUBLISH";
    if (client.isCluster === true) {
      const get = client.get?.bind(client);
      if (get === undefined) throw new CacheConfigError("redisStore.client", "must be an ioredis Cluster client (new Cluster(nodes)) with get()");
      this.cluster = new ClusterPath({
        get: (key) => {
          this.ensureReady("lookup");
          return get(key);
        },
        del: (key) => client.del(key),
        run: (operation, script, keys, args) => this.run(operation, script, keys, args),
        publish: (channel, message, slotKey) => this.publish(channel, message, slotKey),
        nextToken: this.nextToken,
        leaseKey,
        parseEntry,
        entryText,
      });
    }
  }

  /** Cluster: how each operation runs without spanning slots; undefined on one node. */
  private readonly cluster: ClusterPath | undefined;

  /**
   * PUBLISH, or on Cluster SPUBLISH (Redis 7 sharded pub/sub): a classic PUBLISH there reaches every node's
   * subscribers but counts only its own node's, so a writer could not know how many acknowledgements to wait for.
   */
  readonly publishCommand: "PUBLISH" | "SPUBLISH";

  /** ioredis's `keyPrefix`: scripts see keys with it, the store and its messages name them without it. */
  readonly keyPrefix: string;

  /**
   * Share of the lookups asking for a lease that found no fresh entry, lately (a moving average over about 64).
   * Above `SCRIPT_FIRST_SHARE` they go straight to the LOOKUP script, which answers a hit as well and takes the
   * lease in the same round trip when the entry is absent or stale: a miss then costs one lookup round trip, not an
   * MGET and then the script. Below it they go through the MGET first, which answers a hit for less than a script.
   */
  private missShare = 0;

  /**
   * Keys this store last saw with an entry (filled, or found): their lookups take the MGET even while most lookups
   * miss, since they most likely hit. Bounded: cleared when full.
   */
  private readonly present = new Set<string>();

  private sawEntry(key: string): void {
    if (key.length > MAX_PRESENT_KEY) return;
    if (this.present.size >= MAX_PRESENT) this.present.clear();
    this.present.add(key);
  }

  /**
   * Requests that may take a lease go to the LOOKUP script first while lookups mostly miss (see `missShare`),
   * unless this store last saw their key with an entry (`present`); the others (and all of them while lookups
   * mostly hit) are answered by one MGET of the entries and their stamps,
   * sent at the same time; those it cannot answer (a stamp is missing, or a lease is wanted) go through the script
   * in a second round trip.
   */
  async lookup(requests: readonly LookupRequest[], signal?: LookupProgress): Promise<LookupResult[]> {
    this.ensureReady("lookup");
    if (this.cluster) return this.cluster.lookup(requests, signal);
    const results: LookupResult[] = new Array(requests.length);
    const scriptFirst = this.missShare > SCRIPT_FIRST_SHARE;
    const leasing: number[] = [];
    const peeking: number[] = [];
    requests.forEach((request, i) => (scriptFirst && request.lease !== undefined && request.lease.ms > 0 && !this.present.has(request.key) ? leasing : peeking).push(i));
    const [rest] = await Promise.all([
      peeking.length === 0 ? [] : this.lookupByMget(requests, peeking, results),
      leasing.length === 0 ? undefined : this.lookupByScript(requests, leasing, results),
    ]);
    if (rest.length > 0) {
      answerEarly(results, signal);
      if (signal?.aborted) throw new CacheStoreError("STORE_TIMEOUT", "lookup", "lookup abandoned by its caller");
      await this.lookupByScript(requests, rest, results);
    }
    requests.forEach((request, i) => {
      if (request.lease === undefined || request.lease.ms === 0) return;
      const found = results[i]!;
      const missed = found.value === undefined || found.freshForMs! <= 0 ? 1 : 0;
      this.missShare += (missed - this.missShare) / 64;
      if (found.value === undefined) this.present.delete(request.key);
      else this.sawEntry(request.key);
    });
    return results;
  }

  /** Answers `which` of `requests` from one MGET into `results`; returns those it could not answer. */
  private async lookupByMget(all: readonly LookupRequest[], which: readonly number[], results: LookupResult[]): Promise<number[]> {
    const requests = which.map((i) => all[i]!);
    const stamps = [...new Set(requests.flatMap((request) => request.stamps))];
    // Peeking at a lease (ms 0) is answered here; taking one needs the script.
    const peeks = requests.flatMap((request, i) => (request.lease?.ms === 0 ? [i] : []));
    const values = await this.client.mget(...requests.map((request) => request.key), ...peeks.map((i) => leaseKey(requests[i]!.key)), ...stamps);
    const now = Date.now();
    const stampsAt = requests.length + peeks.length;
    const tokens = new Map<string, string | null>(stamps.map((stamp, i) => [stamp, values[stampsAt + i] ?? null]));
    const holders = new Map<number, string | null>(peeks.map((i, j) => [i, values[requests.length + j] ?? null]));
    const rest: number[] = [];
    requests.forEach((request, i) => {
      const parts = request.stamps.map((stamp) => tokens.get(stamp));
      if (parts.some((token) => token == null)) return void rest.push(which[i]!);
      const fence = parts.join(",");
      const entry = values[i];
      const found = entry?.startsWith(`${fence}\n`) ? parseEntry(fence, entry, now) : { fence };
      if (request.lease && (found.value === undefined || found.freshForMs! <= 0)) {
        // Taking a lease needs the script.
        if (request.lease.ms > 0) return void rest.push(which[i]!);
        const holder = holders.get(i);
        if (holder != null && holder !== request.lease.token) found.leaseBusy = true;
      }
      results[which[i]!] = found;
    });
    return rest;
  }

  /** Answers `which` of `requests` through the LOOKUP script (one round trip) into `results`. */
  private async lookupByScript(all: readonly LookupRequest[], which: readonly number[], results: LookupResult[]): Promise<void> {
    const keys: string[] = [];
    const args: (string | number)[] = [this.nextToken(), Date.now(), which.length];
    for (const i of which) {
      const request = all[i]!;
      keys.push(request.key, leaseKey(request.key), ...request.stamps);
      args.push(request.stamps.length, Math.max(1, Math.ceil(request.stampLifeMs)), Math.ceil(request.lease?.ms ?? 0), request.lease?.token ?? "");
    }
    const reply = (await this.run("lookup", LOOKUP, keys, args)) as string[];
    const later = Date.now();
    which.forEach((i, j) => {
      const [fence, entry, lease] = [reply[3 * j]!, reply[3 * j + 1]!, reply[3 * j + 2]!];
      const found: LookupResult = entry === "" ? { fence } : parseEntry(fence, entry, later);
      if (lease === "-") found.leaseBusy = true;
      else if (lease === "+") found.leased = true;
      results[i] = found;
    });
  }

  async fill(request: FillRequest): Promise<boolean> {
    return (await this.fillMany([request]))[0]!;
  }

  /** Stores many entries in one script call (one round trip), each under its own fence. */
  async fillMany(requests: readonly FillRequest[]): Promise<boolean[]> {
    if (this.cluster) {
      this.ensureReady("fill");
      return this.cluster.fillMany(requests);
    }
    const now = Date.now();
    const keys: string[] = [];
    const args: (string | number)[] = [];
    for (const request of requests) {
      const life = Math.ceil(request.ttlMs + request.swrMs);
      keys.push(request.key, leaseKey(request.key), ...request.stamps);
      args.push(request.stamps.length, request.fence, Math.round(now + request.ttlMs), now + life, Math.round(request.loadMs), request.value, request.lease ?? "", life);
    }
    const reply = (await this.run("fill", FILL, keys, args)) as number[];
    requests.forEach((request, i) => {
      if (reply[i] === 1) this.sawEntry(request.key);
    });
    return reply.map((stored) => stored === 1);
  }

  async release(key: string, lease: string): Promise<void> {
    await this.run("release", RELEASE, [leaseKey(key)], [lease]);
  }

  async claimLease(key: string, token: string, ms: number): Promise<boolean> {
    return (await this.run("lease", HOLD_LEASE, [key], [token, Math.max(0, Math.ceil(ms))])) === 1;
  }

  async bump(stamps: readonly string[]): Promise<void> {
    if (stamps.length === 0) return;
    this.ensureReady("bump");
    if (this.cluster) return this.cluster.bump(stamps);
    await this.client.del(...stamps);
  }

  async writeThrough(request: WriteThroughRequest): Promise<boolean> {
    return (await this.writeThroughAndPublish(request, "", "")).stored;
  }

  /** `writeThrough`, also publishing like `bumpAndPublish`; `receivers` is how many subscribers got the message. */
  async writeThroughAndPublish(request: WriteThroughRequest, channel: string, id: string): Promise<{ stored: boolean; receivers: number }> {
    if (this.cluster) {
      this.ensureReady("invalidate");
      return this.cluster.writeThroughAndPublish(request, channel, id);
    }
    const { unchangedSince } = request;
    const keys = [...unchangedSince.stamps, ...request.bump];
    const args: (string | number)[] = [
      unchangedSince.stamps.length,
      request.bump.length,
      request.fills.length,
      unchangedSince.fence,
      this.nextToken(),
      channel,
      id,
      Date.now(),
      this.keyPrefix.length,
      this.publishCommand,
    ];
    for (const fill of request.fills) {
      keys.push(fill.key, ...fill.stamps);
      args.push(fill.stamps.length, Math.ceil(fill.ttlMs), Math.ceil(fill.swrMs), fill.value);
    }
    const [stored, receivers] = (await this.run("writeThrough", WRITE_THROUGH, keys, args)) as [number, number];
    return { stored: stored === 1, receivers };
  }

  /**
   * Advances stamps and publishes `id` and their keys on `channel`, atomically (for L1 caches in other processes).
   * Resolves to how many subscribers received the message.
   */
  async bumpAndPublish(stamps: readonly string[], channel: string, id: string): Promise<number> {
    if (stamps.length === 0) return 0;
    if (this.cluster) {
      this.ensureReady("bump");
      return this.cluster.bumpAndPublish(stamps, channel, id);
    }
    return Number(await this.run("bump", BUMP_AND_PUBLISH, [...stamps], [channel, id, this.keyPrefix.length, this.publishCommand]));
  }

  async ping(): Promise<void> {
    this.ensureReady("ping");
    await this.client.ping?.();
  }

  /** Runs the HEARTBEAT script (see there); resolves to the current generation. */
  async heartbeat(generationKey: string, candidate: string, channel: string, message: string): Promise<string> {
    return String(await this.run("heartbeat", HEARTBEAT, [generationKey], [candidate, channel, message, this.publishCommand]));
  }

  /** Publishes `message` on `channel` (sharded on Cluster; `slotKey` is a key in the channel's slot). */
  async publish(channel: string, message: string, slotKey: string): Promise<number> {
    if (this.publishCommand === "PUBLISH" && this.client.publish) return this.client.publish(channel, message);
    return Number(await this.run("publish", PUBLISH, [slotKey], [channel, message, this.publishCommand]));
  }

  async close(): Promise<void> {
    // The client belongs to the caller.
  }

  private async run(operation: CacheOperation, script: string, keys: string[], args: (string | number)[]): Promise<unknown> {
    this.ensureReady(operation);
    let sha = this.scripts.get(script);
    if (sha === undefined) {
      sha = createHash("sha1").update(script).digest("hex");
      this.scripts.set(script, sha);
    }
    try {
      return await this.client.evalsha(sha, keys.length, ...keys, ...args);
    } catch (error) {
      // First use on this server, or after a restart or SCRIPT FLUSH: send the script itself (which caches it).
      if (error instanceof Error && error.message.includes("NOSCRIPT")) return this.client.eval(script, keys.length, ...keys, ...args);
      throw error;
    }
  }

  /**
   * A client that lost its connection would queue commands until it reconnects: fail at once so reads use the
   * database. A client still making its first connection may queue (the plugin's timeout bounds the wait).
   */
  private ensureReady(operation: CacheOperation): void {
    const status = this.client.status;
    if (status !== "ready" && status !== "connecting" && status !== "connect" && status !== "wait") {
      throw new CacheStoreError("STORE_UNAVAILABLE", operation, `Redis client is ${status}, not ready`);
    }
  }
}

/** Hands the answers known so far to the caller, which then starts timing the lookup's next round trip. */
function answerEarly(results: readonly (LookupResult | undefined)[], signal: LookupProgress | undefined): void {
  if (signal?.answered) results.forEach((result, i) => result && signal.answered!(i, result));
  signal?.nextStep?.();
}

/** Above this share of misses, lookups that may take a lease go to the script first (see `missShare`). */
const SCRIPT_FIRST_SHARE = 0.25;
/** Bounds of `RedisStore.present`: keys kept, and the longest key kept. */
const MAX_PRESENT = 10_000;
const MAX_PRESENT_KEY = 512;

/** The lease key of an entry key: same hash tag (the first `{…}`, read/keys.ts), so it lives in the entry's slot. */
function leaseKey(key: string): string {
  return key.replace("}:e:", "}:l:");
}

/** An entry as the scripts store it (redis-scripts.ts). */
function entryText(fence: string, freshUntil: number, expiresAt: number, loadMs: number, value: string): string {
  return `${fence}\n${freshUntil}\n${expiresAt}\n${loadMs}\n${value}`;
}

function parseEntry(fence: string, entry: string, now: number): LookupResult {
  const a = fence.length + 1;
  const b = entry.indexOf("\n", a);
  const c = entry.indexOf("\n", b + 1);
  const d = entry.indexOf("\n", c + 1);
  return {
    fence,
    value: entry.slice(d + 1),
    freshForMs: Number(entry.slice(a, b)) - now,
    lifeMs: Number(entry.slice(b + 1, c)) - now,
    loadMs: Number(entry.slice(c + 1, d)),
  };
}
