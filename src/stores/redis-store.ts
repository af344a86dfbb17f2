import { createHash } from "node:crypto";
import { CacheConfigError, CacheStoreError, type CacheOperation } from "../errors.ts";
import { tokenSource, type CacheStore, type FillRequest, type LookupRequest, type LookupResult, type WriteThroughRequest, type Abandonment } from "./store.ts";

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

// Entries are "fence \n fresh-until \n expires-at \n load ms \n value", times in ms on the app's clock (freshness
// and swr are decided by the app; Redis's own expiry, PX, removes the entry at the end for good).

// A lookup's second step, for requests the first (one MGET) could not answer: reads each request's stamps,
// creating missing ones with a fresh token, then its entry, and returns the entry only when it was filled under
// exactly the current stamps; where the entry is missing or stale and the request asks for it, takes the key's
// lease (SET NX PX). Atomic for the whole batch.
// KEYS: per request, the entry key, its lease key, then its stamp keys. ARGV: call token, now (ms), request count,
// then per request its stamp count, the lifetime (ms) of stamps it creates, the lease time (ms, 0 for none) and
// token. Returns per request the fence, the entry ("" if absent or filled under other stamps) and the lease ("" none
// asked or needed, "-" held by another caller, "+" taken).
const LOOKUP = `
local now = tonumber(ARGV[2])
local out = {}
local k, a, created = 1, 4, 0
for i = 1, tonumber(ARGV[3]) do
  local n, life, leaseMs, leaseToken = tonumber(ARGV[a]), tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2]), ARGV[a + 3]
  a = a + 4
  local parts = {}
  for j = 1, n do
    local key = KEYS[k + 1 + j]
    local v = redis.call('GET', key)
    if not v then
      created = created + 1
      v = ARGV[1] .. '.' .. created
      redis.call('SET', key, v, 'PX', life)
    end
    parts[j] = v
  end
  local fence = table.concat(parts, ',')
  local e = redis.call('GET', KEYS[k])
  if e and string.sub(e, 1, #fence + 1) ~= fence .. '\\n' then e = false end
  local lease = ''
  if leaseMs > 0 and (not e or tonumber(string.match(e, '^[^\\n]*\\n(%d+)')) <= now) then
    if redis.call('SET', KEYS[k + 1], leaseToken, 'NX', 'PX', leaseMs) then lease = '+' else lease = '-' end
  end
  out[#out + 1] = fence
  out[#out + 1] = e or ''
  out[#out + 1] = lease
  k = k + n + 2
end
return out
`;

// Stores entries, each only if its stamps still equal the fence taken before its database read; makes sure the
// stamps outlive the entry, and releases the lease the lookup took. KEYS: per entry, the entry key, its lease key,
// then its stamps. ARGV: per entry its stamp count, fence, fresh-until, expires-at, load ms, value, lease token
// ("" for none) and lifetime (ms). Returns per entry 1 (stored) or 0 (refused).
const FILL = `
local out = {}
local k, a = 1, 1
while a <= #ARGV do
  local n, fence, life, lease = tonumber(ARGV[a]), ARGV[a + 1], tonumber(ARGV[a + 7]), ARGV[a + 6]
  local parts = {}
  for j = 1, n do parts[j] = redis.call('GET', KEYS[k + 1 + j]) or '' end
  local stored = 0
  if table.concat(parts, ',') == fence then
    redis.call('SET', KEYS[k], fence .. '\\n' .. ARGV[a + 2] .. '\\n' .. ARGV[a + 3] .. '\\n' .. ARGV[a + 4] .. '\\n' .. ARGV[a + 5], 'PX', life)
    for j = 1, n do
      local p = redis.call('PTTL', KEYS[k + 1 + j])
      if p >= 0 and p < life then redis.call('PEXPIRE', KEYS[k + 1 + j], life) end
    end
    stored = 1
  end
  if lease ~= '' and redis.call('GET', KEYS[k + 1]) == lease then redis.call('DEL', KEYS[k + 1]) end
  out[#out + 1] = stored
  k = k + n + 2
  a = a + 8
end
return out
`;

// Advances stamps and tells every process's L1 in the same atomic step, so no crash can drop the message after the
// stamps moved. KEYS: stamps. ARGV: channel, message id, length of the client's keyPrefix, PUBLISH or SPUBLISH
// (Cluster: sharded pub/sub, the channel in the keys' slot). The message is the id,
// a newline, then the stamp keys as the store names them (without the keyPrefix ioredis added), each as
// `<byte length>:<name>` (stamp names hold user data, newlines included, so no separator would do). Returns how many
// subscribers received it.
const BUMP_AND_PUBLISH = `
redis.call('DEL', unpack(KEYS))
local names, cut = {}, tonumber(ARGV[3]) + 1
for i = 1, #KEYS do local name = string.sub(KEYS[i], cut); names[i] = #name .. ':' .. name end
return redis.call(ARGV[4], ARGV[1], ARGV[2] .. '\\n' .. table.concat(names))
`;

// A write's invalidation plus write-through: checks the guard stamps, advances the write's stamps, and only if the
// guard held stores each fill under fresh stamps; then publishes like BUMP_AND_PUBLISH when a channel is given.
// KEYS: guard stamps, bumped stamps, then per fill its entry key and stamps. ARGV: guard count, bump count, fill
// count, guard fence, token, channel ("" for none), message id, now (ms), keyPrefix length, PUBLISH or SPUBLISH, then
// per fill its stamp count, ttl ms, swr ms, value.
const WRITE_THROUGH = `
local g, b, f = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local parts = {}
for j = 1, g do parts[j] = redis.call('GET', KEYS[j]) or '' end
local holds = table.concat(parts, ',') == ARGV[4]
if b > 0 then redis.call('DEL', unpack(KEYS, g + 1, g + b)) end
if holds then
  local now = tonumber(ARGV[8])
  local k, a, created = g + b + 1, 11, 0
  for i = 1, f do
    local n, ttl, swr, value = tonumber(ARGV[a]), tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2]), ARGV[a + 3]
    a = a + 4
    local life = ttl + swr
    local fence = {}
    for j = 1, n do
      local key = KEYS[k + j]
      local v = redis.call('GET', key)
      if not v then
        created = created + 1
        v = ARGV[5] .. '.' .. created
        redis.call('SET', key, v, 'PX', life)
      elseif redis.call('PTTL', key) < life then
        redis.call('PEXPIRE', key, life)
      end
      fence[j] = v
    end
    redis.call('SET', KEYS[k], table.concat(fence, ',') .. '\\n' .. string.format('%.0f', now + ttl) .. '\\n' .. string.format('%.0f', now + life) .. '\\n0\\n' .. value, 'PX', life)
    k = k + n + 1
  end
end
local receivers = 0
if ARGV[6] ~= '' and b > 0 then
  local names, cut = {}, tonumber(ARGV[9]) + 1
  for j = 1, b do local name = string.sub(KEYS[g + j], cut); names[j] = #name .. ':' .. name end
  receivers = redis.call(ARGV[10], ARGV[6], ARGV[7] .. '\\n' .. table.concat(names))
end
return { holds and 1 or 0, receivers }
`;

// A tiered store's heartbeat: reads the generation key (creating it with ARGV[1] when Redis has lost it, or never
// had it), then publishes (ARGV[4]: PUBLISH or SPUBLISH) "<ARGV[3]>\\n<generation>" on ARGV[2], the sender's own
// channel. Receiving it proves the subscription delivers what was published up to now; a changed generation means Redis lost its data.
// KEYS: the generation key. Returns the generation.
const HEARTBEAT = `
local g = redis.call('GET', KEYS[1])
if not g then
  g = ARGV[1]
  redis.call('SET', KEYS[1], g)
end
redis.call(ARGV[4], ARGV[2], ARGV[3] .. '\\n' .. g)
return g
`;

// Publishes ARGV[2] on channel ARGV[1] with ARGV[3] (PUBLISH or SPUBLISH). KEYS: a key in the channel's slot, so
// Cluster routes the call to the node that owns the sharded channel.
const PUBLISH = `
return redis.call(ARGV[3], ARGV[1], ARGV[2])
`;

// Releases a lease if the caller still holds it. KEYS: lease. ARGV: token.
const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

// Takes, renews or (ms 0) gives up a named lease. KEYS: lease. ARGV: token, ms. Returns 1 if the token holds it.
const HOLD_LEASE = `
local holder = redis.call('GET', KEYS[1])
if ARGV[2] == '0' then
  if holder == ARGV[1] then redis.call('DEL', KEYS[1]) end
  return 0
end
if holder and holder ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
`;

/**
 * A store in Redis, shared by every process using the same prefix. A batch of lookups is one MGET (one round
 * trip) when they hit, plus one script call for those that miss; a fill is one script call; a bump is one DEL. All of a namespace's keys carry the
 * `{prefix}` hash tag, so each script's keys live in one slot and the store also runs on Redis Cluster.
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
    const client = options?.client;
    if (!client || typeof client.evalsha !== "function" || typeof client.mget !== "function" || typeof client.del !== "function") {
      throw new CacheConfigError("redisStore.client", "must be an ioredis client (new Redis(url) or new Cluster(nodes))");
    }
    this.client = client;
    this.keyPrefix = client.options?.keyPrefix ?? "";
    this.publishCommand = client.isCluster === true ? "SPUBLISH" : "PUBLISH";
  }

  /**
   * PUBLISH, or on Cluster SPUBLISH (Redis 7 sharded pub/sub): a classic PUBLISH there reaches every node's
   * subscribers but counts only its own node's, so a writer could not know how many acknowledgements to wait for.
   */
  readonly publishCommand: "PUBLISH" | "SPUBLISH";

  /** ioredis's `keyPrefix`: scripts see keys with it, the store and its messages name them without it. */
  readonly keyPrefix: string;

  /**
   * One MGET of the entries and their stamps answers hits (and misses that need no new stamp and no lease); the
   * rest go through the LOOKUP script in a second round trip.
   */
  async lookup(requests: readonly LookupRequest[], signal?: Abandonment): Promise<LookupResult[]> {
    this.ensureReady("lookup");
    const stamps = [...new Set(requests.flatMap((request) => request.stamps))];
    // Peeking at a lease (ms 0) is answered here; taking one needs the script.
    const peeks = requests.flatMap((request, i) => (request.lease?.ms === 0 ? [i] : []));
    const values = await this.client.mget(
      ...requests.map((request) => request.key),
      ...peeks.map((i) => leaseKey(requests[i]!.key)),
      ...stamps,
    );
    const now = Date.now();
    const stampsAt = requests.length + peeks.length;
    const tokens = new Map<string, string | null>(stamps.map((stamp, i) => [stamp, values[stampsAt + i] ?? null]));
    const holders = new Map<number, string | null>(peeks.map((i, j) => [i, values[requests.length + j] ?? null]));
    const results: LookupResult[] = new Array(requests.length);
    const rest: number[] = [];
    requests.forEach((request, i) => {
      const parts = request.stamps.map((stamp) => tokens.get(stamp));
      if (parts.some((token) => token == null)) return void rest.push(i);
      const fence = parts.join(",");
      const entry = values[i];
      const found = entry?.startsWith(`${fence}\n`) ? parseEntry(fence, entry, now) : { fence };
      const wantsLease = found.value === undefined || found.freshForMs! <= 0;
      if (request.lease && wantsLease) {
        if (request.lease.ms > 0) return void rest.push(i);
        const holder = holders.get(i);
        if (holder != null && holder !== request.lease.token) found.leaseBusy = true;
      }
      results[i] = found;
    });
    if (rest.length === 0) return results;
    if (signal?.aborted) throw new CacheStoreError("STORE_TIMEOUT", "lookup", "lookup abandoned by its caller");
    const keys: string[] = [];
    const args: (string | number)[] = [this.nextToken(), now, rest.length];
    for (const i of rest) {
      const request = requests[i]!;
      keys.push(request.key, leaseKey(request.key), ...request.stamps);
      args.push(request.stamps.length, Math.max(1, Math.ceil(request.stampLifeMs)), Math.ceil(request.lease?.ms ?? 0), request.lease?.token ?? "");
    }
    const reply = (await this.run("lookup", LOOKUP, keys, args)) as string[];
    const later = Date.now();
    rest.forEach((i, j) => {
      const [fence, entry, lease] = [reply[3 * j]!, reply[3 * j + 1]!, reply[3 * j + 2]!];
      const found: LookupResult = entry === "" ? { fence } : parseEntry(fence, entry, later);
      if (lease === "-") found.leaseBusy = true;
      else if (lease === "+") found.leased = true;
      results[i] = found;
    });
    return results;
  }

  async fill(request: FillRequest): Promise<boolean> {
    return (await this.fillMany([request]))[0]!;
  }

  /** Stores many entries in one script call (one round trip), each under its own fence. */
  async fillMany(requests: readonly FillRequest[]): Promise<boolean[]> {
    const now = Date.now();
    const keys: string[] = [];
    const args: (string | number)[] = [];
    for (const request of requests) {
      const life = Math.ceil(request.ttlMs + request.swrMs);
      keys.push(request.key, leaseKey(request.key), ...request.stamps);
      args.push(request.stamps.length, request.fence, Math.round(now + request.ttlMs), now + life, Math.round(request.loadMs), request.value, request.lease ?? "", life);
    }
    const reply = (await this.run("fill", FILL, keys, args)) as number[];
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
    await this.client.del(...stamps);
  }

  async writeThrough(request: WriteThroughRequest): Promise<boolean> {
    return (await this.writeThroughAndPublish(request, "", "")).stored;
  }

  /** `writeThrough`, also publishing like `bumpAndPublish`; `receivers` is how many subscribers got the message. */
  async writeThroughAndPublish(request: WriteThroughRequest, channel: string, id: string): Promise<{ stored: boolean; receivers: number }> {
    const keys = [...request.guard.stamps, ...request.bump];
    const args: (string | number)[] = [request.guard.stamps.length, request.bump.length, request.fills.length, request.guard.fence, this.nextToken(), channel, id, Date.now(), this.keyPrefix.length, this.publishCommand];
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

/** The lease key of an entry key: same `{prefix}` hash tag, so the scripts keep it in the entry's slot. */
function leaseKey(key: string): string {
  return key.replace("}:e:", "}:l:");
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
