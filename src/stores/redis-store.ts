import { createHash } from "node:crypto";
import { CacheConfigError, CacheStoreError, type CacheOperation } from "../errors.ts";
import { storeOptions } from "../validate.ts";
import { ClusterPath } from "./redis-cluster.ts";
import { HEARTBEAT, HOLD_LEASE, PUBLISH, RELEASE } from "./redis-scripts.ts";
import { SingleNodePath } from "./redis-single-node.ts";
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
 * is one DEL (redis-single-node.ts). On Redis Cluster every key carries its own hash tag, so keys spread over the
 * slots, and each step sends its keys' commands to their nodes at once (redis-cluster.ts; one parallel round trip
 * per node). The scripts and the entry format are in redis-scripts.ts.
 */
export function redisStore(options: RedisStoreOptions): RedisStore {
  return new RedisStore(options);
}

export class RedisStore implements CacheStore {
  readonly name = "redis";
  readonly client: RedisClientLike;
  private readonly nextToken = tokenSource();
  private readonly scripts = new Map<string, string>();
  /** How each operation runs: on one node, or spread over a Cluster's slots (chosen once). */
  private readonly path: Pick<ClusterPath, "lookup" | "fillMany" | "bump" | "bumpAndPublish" | "writeThroughAndPublish">;

  constructor(options: RedisStoreOptions) {
    storeOptions(options, ["client"], "redisStore");
    const client = options?.client;
    if (!client || typeof client.evalsha !== "function" || typeof client.mget !== "function" || typeof client.del !== "function") {
      throw new CacheConfigError("redisStore.client", "must be an ioredis client (new Redis(url) or new Cluster(nodes))");
    }
    this.client = client;
    this.keyPrefix = client.options?.keyPrefix ?? "";
    this.publishCommand = client.isCluster === true ? "SPUBLISH" : "PUBLISH";
    const run = (operation: CacheOperation, script: string, keys: string[], args: (string | number)[]) => this.run(operation, script, keys, args);
    if (client.isCluster === true) {
      const get = client.get?.bind(client);
      if (get === undefined) throw new CacheConfigError("redisStore.client", "must be an ioredis Cluster client (new Cluster(nodes)) with get()");
      this.path = new ClusterPath({
        get: (key) => {
          this.ensureReady("lookup");
          return get(key);
        },
        del: (key) => client.del(key),
        run,
        publish: (channel, message, slotKey) => this.publish(channel, message, slotKey),
        nextToken: this.nextToken,
        leaseKey,
        parseEntry,
        entryText,
      });
    } else {
      this.path = new SingleNodePath({
        mget: (...keys) => client.mget(...keys),
        del: (...keys) => client.del(...keys),
        run,
        nextToken: this.nextToken,
        leaseKey,
        parseEntry,
        keyPrefix: this.keyPrefix,
        publishCommand: this.publishCommand,
      });
    }
  }

  /**
   * PUBLISH, or on Cluster SPUBLISH (Redis 7 sharded pub/sub): a classic PUBLISH there reaches every node's
   * subscribers but counts only its own node's, so a writer could not know how many acknowledgements to wait for.
   */
  readonly publishCommand: "PUBLISH" | "SPUBLISH";

  /** ioredis's `keyPrefix`: scripts see keys with it, the store and its messages name them without it. */
  readonly keyPrefix: string;

  async lookup(requests: readonly LookupRequest[], signal?: LookupProgress): Promise<LookupResult[]> {
    this.ensureReady("lookup");
    return this.path.lookup(requests, signal);
  }

  async fill(request: FillRequest): Promise<boolean> {
    return (await this.fillMany([request]))[0]!;
  }

  /** Stores many entries, each under its own fence (one round trip on one node). */
  async fillMany(requests: readonly FillRequest[]): Promise<boolean[]> {
    this.ensureReady("fill");
    return this.path.fillMany(requests);
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
    return this.path.bump(stamps);
  }

  async writeThrough(request: WriteThroughRequest): Promise<boolean> {
    return (await this.writeThroughAndPublish(request, "", "")).stored;
  }

  /** `writeThrough`, also publishing like `bumpAndPublish`; `receivers` is how many subscribers got the message. */
  async writeThroughAndPublish(request: WriteThroughRequest, channel: string, id: string): Promise<{ stored: boolean; receivers: number }> {
    this.ensureReady("invalidate");
    return this.path.writeThroughAndPublish(request, channel, id);
  }

  /**
   * Advances stamps and publishes `id` and their keys on `channel`, atomically (for L1 caches in other processes).
   * Resolves to how many subscribers received the message.
   */
  async bumpAndPublish(stamps: readonly string[], channel: string, id: string): Promise<number> {
    if (stamps.length === 0) return 0;
    this.ensureReady("bump");
    return this.path.bumpAndPublish(stamps, channel, id);
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
