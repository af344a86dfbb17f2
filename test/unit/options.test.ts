import { describe, expect, it } from "vitest";
import { cacheSchema } from "../../generated/cache/index.ts";
import { CacheConfigError, CacheError } from "../../src/errors.ts";
import { DEFAULTS, resolveOptions, type CachePluginOptions } from "../../src/options.ts";
import { mergeTags, validTags } from "../../src/validate.ts";
import { memoryStore } from "../../src/stores/memory-store.ts";

/** The CacheConfigError `run` throws; fails the test when it throws nothing or something else. */
function configError(run: () => unknown): CacheConfigError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(CacheConfigError);
    expect(error).toBeInstanceOf(CacheError);
    expect((error as CacheConfigError).code).toBe("CONFIG_INVALID");
    return error as CacheConfigError;
  }
  throw new Error("expected a CacheConfigError, but nothing was thrown");
}

const resolve = (options: unknown) => () => resolveOptions(options as CachePluginOptions);

describe("resolveOptions", () => {
  it("applies the documented defaults, in milliseconds", () => {
    const resolved = resolveOptions();
    expect(resolved).toMatchObject({
      schema: undefined,
      store: undefined,
      prefix: "pc",
      timeoutMs: 50,
      maxEntryBytes: 1_048_576,
      leaseMs: 2000,
      leaseWaitMs: 1000,
      earlyRefresh: 1,
      circuitBreaker: { threshold: 3, probeMs: 100 },
      onError: undefined,
      defaultPolicy: { ttlMs: 60_000, swrMs: 0, tags: [] },
      models: {},
    });
    expect(DEFAULTS).toMatchObject({ ttl: 60, swr: 0, prefix: "pc", timeoutMs: 50, maxEntryBytes: 1_048_576, leaseMs: 2000, leaseWaitMs: 1000, earlyRefresh: 1 });
  });

  it("converts ttl and swr from seconds to milliseconds", () => {
    expect(resolveOptions({ ttl: 1.5, swr: 30 }).defaultPolicy).toMatchObject({ ttlMs: 1500, swrMs: 30_000, tags: [] });
  });

  it("accepts ttl 0 and swr 0", () => {
    expect(resolveOptions({ ttl: 0, swr: 0 }).defaultPolicy).toMatchObject({ ttlMs: 0, swrMs: 0 });
  });

  it("lets models inherit the plugin-wide ttl and swr and override them", () => {
    const resolved = resolveOptions({ ttl: 10, swr: 5, models: { User: { ttl: 1 }, Post: { swr: 0, tags: ["posts", "posts", "feed"] }, Tag: false } });
    expect(resolved.models).toMatchObject({
      User: { ttlMs: 1000, swrMs: 5000, tags: [] },
      Post: { ttlMs: 10_000, swrMs: 0, tags: ["posts", "feed"] },
      Tag: false,
    });
  });

  it("accepts schema: false, the choice of coarse invalidation", () => {
    expect(resolveOptions({ schema: false }).schema).toBe(false);
  });

  it("keeps the store, schema and onError it was given", () => {
    const store = memoryStore();
    const onError = () => {};
    const resolved = resolveOptions({ store, schema: cacheSchema, onError, prefix: "app:v2", timeoutMs: 5, maxEntryBytes: 10 });
    expect(resolved.store).toBe(store);
    expect(resolved.schema).toBe(cacheSchema);
    expect(resolved.onError).toBe(onError);
    expect(resolved).toMatchObject({ prefix: "app:v2", timeoutMs: 5, maxEntryBytes: 10 });
  });

  it("rejects options that are not an object", () => {
    const error = configError(resolve("fast"));
    expect(error.field).toBe("options");
    expect(error.message).toContain('received: "fast"');
  });

  it("rejects an unknown option, listing the allowed ones", () => {
    const error = configError(resolve({ tll: 5 }));
    expect(error.field).toBe("options.tll");
    expect(error.message).toContain("options.tll is not a known option");
    expect(error.message).toContain("allowed: ");
    const allowed = error.message.slice(error.message.indexOf("allowed: ") + "allowed: ".length).split(", ");
    for (const option of [
      "schema",
      "store",
      "ttl",
      "swr",
      "models",
      "prefix",
      "timeoutMs",
      "maxEntryBytes",
      "leaseMs",
      "leaseWaitMs",
      "earlyRefresh",
      "onError",
      "enabled",
      "mode",
      "namespace",
    ]) {
      expect(allowed).toContain(option);
    }
  });

  it("resolves circuitBreaker: its parts default separately, false turns it off, bad values name the field", () => {
    expect(resolveOptions({ circuitBreaker: { threshold: 5 } }).circuitBreaker).toEqual({ threshold: 5, probeMs: 100 });
    expect(resolveOptions({ circuitBreaker: false }).circuitBreaker).toBe(false);
    expect(configError(resolve({ circuitBreaker: { threshold: 0 } })).field).toBe("circuitBreaker.threshold");
    expect(configError(resolve({ circuitBreaker: { probeMs: -1 } })).field).toBe("circuitBreaker.probeMs");
    expect(configError(resolve({ circuitBreaker: { tries: 2 } })).field).toBe("circuitBreaker.tries");
    expect(configError(resolve({ circuitBreaker: true })).field).toBe("circuitBreaker");
  });

  it.each([
    ["ttl", -5, "-5"],
    ["ttl", NaN, "NaN"],
    ["ttl", Infinity, "Infinity"],
    ["ttl", "60", '"60"'],
    ["swr", -1, "-1"],
    ["swr", NaN, "NaN"],
    ["swr", -Infinity, "-Infinity"],
  ])("rejects %s = %s, naming the field, the unit and the value received", (field, value, shown) => {
    const error = configError(resolve({ [field]: value }));
    expect(error.field).toBe(field);
    expect(error.message).toContain(`${field} must be a non-negative, finite number of seconds, received: ${shown}`);
  });

  it.each([
    ["ttl", -5, "-5"],
    ["ttl", NaN, "NaN"],
    ["ttl", Infinity, "Infinity"],
    ["swr", -0.5, "-0.5"],
    ["swr", Infinity, "Infinity"],
  ])("rejects models.User.%s = %s", (field, value, shown) => {
    const error = configError(resolve({ models: { User: { [field]: value } } }));
    expect(error.field).toBe(`models.User.${field}`);
    expect(error.message).toContain(`models.User.${field} must be a non-negative, finite number of seconds, received: ${shown}`);
  });

  it("rejects a model policy that is neither an object nor false", () => {
    const error = configError(resolve({ models: { User: true } }));
    expect(error.field).toBe("models.User");
    expect(error.message).toContain("must be a policy object { ttl?, swr?, tags? } or false, received: true");
  });

  it("rejects models that are not an object", () => {
    const error = configError(resolve({ models: ["User"] }));
    expect(error.field).toBe("models");
    expect(error.message).toContain("received: an array");
  });

  it("rejects an unknown key in a model policy", () => {
    const error = configError(resolve({ models: { User: { ttl: 1, tag: ["x"] } } }));
    expect(error.field).toBe("models.User.tag");
    expect(error.message).toContain("allowed: ttl, swr, tags");
  });

  it("rejects tags that are not an array", () => {
    const error = configError(resolve({ models: { User: { tags: "users" } } }));
    expect(error.field).toBe("models.User.tags");
    expect(error.message).toContain('must be an array of non-empty strings, received: "users"');
  });

  it.each([
    [["a", ""], 1, '""'],
    [[5], 0, "5"],
    [["a", "b", null], 2, "null"],
  ])("rejects tag list %j at index %i", (tags, index, shown) => {
    const error = configError(resolve({ models: { User: { tags } } }));
    expect(error.field).toBe(`models.User.tags[${index}]`);
    expect(error.message).toContain(`must be a non-empty string of at most 200 characters without control characters, received: ${shown}`);
  });

  it.each([
    ["", '""'],
    ["has space", '"has space"'],
    ["brace}", '"brace}"'],
    [5, "5"],
  ])("rejects prefix %j", (prefix, shown) => {
    const error = configError(resolve({ prefix }));
    expect(error.field).toBe("prefix");
    expect(error.message).toContain("letters, digits, '_', '.', ':' or '-'");
    expect(error.message).toContain(`received: ${shown}`);
  });

  it.each([{}, { lookup() {} }, "redis", null])("rejects store %j", (store) => {
    const error = configError(resolve({ store }));
    expect(error.field).toBe("store");
    expect(error.message).toContain("must be a store such as memoryStore() or redisStore({ client })");
  });

  it.each([{ version: 2, models: {}, joinTables: [] }, { models: {} }, { version: 1 }, "schema"])("rejects schema %j", (schema) => {
    const error = configError(resolve({ schema }));
    expect(error.field).toBe("schema");
    expect(error.message).toContain("cacheSchema exported by the prisma-cache-plugin generator");
  });

  it.each([
    ["timeoutMs", 0],
    ["timeoutMs", -1],
    ["timeoutMs", Infinity],
    ["maxEntryBytes", 0],
    ["maxEntryBytes", NaN],
  ])("rejects %s = %s", (field, value) => {
    const error = configError(resolve({ [field]: value }));
    expect(error.field).toBe(field);
    expect(error.message).toContain(`${field} must be a positive, finite number, received: ${String(value)}`);
  });

  it("accepts 0 for leaseMs, leaseWaitMs and earlyRefresh (no leases, no wait, no early refresh)", () => {
    expect(resolveOptions({ leaseMs: 0, leaseWaitMs: 0, earlyRefresh: 0 })).toMatchObject({ leaseMs: 0, leaseWaitMs: 0, earlyRefresh: 0 });
    expect(resolveOptions({ leaseMs: 500, leaseWaitMs: 20, earlyRefresh: 2.5 })).toMatchObject({ leaseMs: 500, leaseWaitMs: 20, earlyRefresh: 2.5 });
  });

  it.each([
    ["leaseMs", -1, "-1"],
    ["leaseMs", NaN, "NaN"],
    ["leaseWaitMs", Infinity, "Infinity"],
    ["leaseWaitMs", "200", '"200"'],
    ["earlyRefresh", -0.5, "-0.5"],
    ["earlyRefresh", true, "true"],
  ])("rejects %s = %s", (field, value, shown) => {
    const error = configError(resolve({ [field]: value }));
    expect(error.field).toBe(field);
    expect(error.message).toContain(`${field} must be a non-negative, finite number, received: ${shown}`);
  });

  it("defaults batching on, refresh-ahead off, 10 reads to be hot and invalidating writes, for the plugin and each model", () => {
    const resolved = resolveOptions({ models: { User: {} } });
    const behaviour = { batch: true, refreshAhead: 0, hotThreshold: 10, writes: "invalidate" };
    expect(resolved.defaultPolicy).toMatchObject(behaviour);
    expect(resolved.models.User).toMatchObject(behaviour);
  });

  it("lets models inherit and override batch, refreshAhead, hotThreshold and writes", () => {
    const resolved = resolveOptions({ batch: false, refreshAhead: 0.2, models: { User: { hotThreshold: 3, writes: "write-through" }, Post: { batch: true } } });
    expect(resolved.models.User).toMatchObject({ batch: false, refreshAhead: 0.2, hotThreshold: 3, writes: "write-through" });
    expect(resolved.models.Post).toMatchObject({ batch: true, refreshAhead: 0.2, hotThreshold: 10, writes: "invalidate" });
  });

  it.each([
    [{ batch: "yes" }, "batch", 'must be true or false, received: "yes"'],
    [{ refreshAhead: 1 }, "refreshAhead", "must be a fraction of the ttl from 0 (off) to below 1, received: 1"],
    [{ refreshAhead: -0.1 }, "refreshAhead", "received: -0.1"],
    [{ refreshAhead: NaN }, "refreshAhead", "received: NaN"],
    [{ hotThreshold: 0 }, "hotThreshold", "must be a positive integer number of reads, received: 0"],
    [{ hotThreshold: 2.5 }, "hotThreshold", "received: 2.5"],
    [{ writes: "write-back" }, "writes", 'must be "invalidate" or "write-through", received: "write-back"'],
    [{ models: { User: { writes: "through" } } }, "models.User.writes", 'received: "through"'],
    [{ models: { User: { hotThreshold: -1 } } }, "models.User.hotThreshold", "received: -1"],
  ])("rejects %j", (options, field, message) => {
    const error = configError(resolve(options));
    expect(error.field).toBe(field);
    expect(error.message).toContain(`] ${field} must be`);
    expect(error.message).toContain(message);
  });

  it("rejects an onError that is not a function", () => {
    const error = configError(resolve({ onError: "log" }));
    expect(error.field).toBe("onError");
    expect(error.message).toContain('must be a function, received: "log"');
  });

  it("defaults to enabled, mode all and no namespace, and keeps the namespace hook it was given", () => {
    expect(resolveOptions()).toMatchObject({ enabled: true, allowlist: false, namespace: undefined });
    expect(DEFAULTS).toMatchObject({ enabled: true, mode: "all" });
    const namespace = () => "tenant";
    expect(resolveOptions({ enabled: false, mode: "allowlist", namespace })).toMatchObject({ enabled: false, allowlist: true, namespace });
  });

  it.each([
    ["enabled", "no", 'enabled must be one of true, false, received: "no"'],
    ["enabled", 0, "enabled must be one of true, false, received: 0"],
    ["mode", "allow", 'mode must be one of "all", "allowlist", received: "allow"'],
    ["namespace", "tenant", 'namespace must be a function, received: "tenant"'],
  ])("rejects %s = %j, naming the field", (field, value, message) => {
    const error = configError(resolve({ [field]: value }));
    expect(error.field).toBe(field);
    expect(error.message).toContain(message);
  });

  it("prefixes every message with the package name", () => {
    expect(configError(resolve({ ttl: -1 })).message).toMatch(/^\[prisma-cache-plugin\] /);
  });
});

describe("validTags", () => {
  it("returns a valid list as it is", () => {
    expect(validTags(["a", "b"], "tags")).toEqual(["a", "b"]);
  });

  it("names the field it was given", () => {
    expect(configError(() => validTags({}, "cacheStrategy.tags")).field).toBe("cacheStrategy.tags");
  });
});

describe("mergeTags", () => {
  it("merges two lists without duplicates, first list first", () => {
    expect(mergeTags(["a", "b"], ["b", "c"])).toEqual(["a", "b", "c"]);
    expect(mergeTags([], ["c"])).toEqual(["c"]);
    expect(mergeTags(["a"], [])).toEqual(["a"]);
  });
});

describe("issue 11 options", () => {
  const redisLike = { client: { eval() {}, zrevrange() {}, hincrby() {}, hgetall() {} }, lookup() {}, fill() {}, bump() {} };

  it("resolves the opt-in systems with their documented defaults, off by default", () => {
    expect(resolveOptions()).toMatchObject({ sizing: undefined, hotReads: undefined, warmOnStart: undefined, writeBehind: undefined, redis: undefined });
    const resolved = resolveOptions({ store: redisLike as never, sizing: true, hotReads: true, warmOnStart: true, writeBehind: true });
    expect(resolved.sizing).toEqual(DEFAULTS.sizing);
    expect(resolved.hotReads).toEqual(DEFAULTS.hotReads);
    expect(resolved.warmOnStart).toEqual(DEFAULTS.warmOnStart);
    expect(resolved.writeBehind).toEqual({ ...DEFAULTS.writeBehind, flush: true });
    expect(resolved.redis).toBe(redisLike.client);
  });

  it("keeps a ttl function with the plugin's ttl as its fallback, and adaptive bounds in milliseconds", () => {
    const ttl = () => 5;
    const resolved = resolveOptions({ ttl: 30, models: { Post: { ttl }, User: { adaptiveTtl: { min: 1, max: 60 } } } });
    expect(resolved.models.Post).toMatchObject({ ttlMs: 30_000, ttlOf: ttl });
    expect(resolved.models.User).toMatchObject({ ttlMs: 1_000, adaptive: { minMs: 1_000, maxMs: 60_000 } });
  });

  it("names the field of a bad systems option", () => {
    expect(configError(resolve({ hotReads: true, store: memoryStore() })).field).toBe("hotReads");
    expect(configError(resolve({ writeBehind: { flushIntervalMs: 0 }, store: redisLike })).field).toBe("writeBehind.flushIntervalMs");
    expect(configError(resolve({ writeBehind: { table: "drop table;" }, store: redisLike })).field).toBe("writeBehind.table");
    expect(configError(resolve({ warmOnStart: { concurrency: 1.5 }, store: redisLike })).field).toBe("warmOnStart.concurrency");
    expect(configError(resolve({ sizing: { maxSampledKeys: 8 } })).field).toBe("sizing.maxSampledKeys");
    expect(configError(resolve({ sizing: "yes" })).field).toBe("sizing");
    expect(configError(resolve({ models: { Post: { adaptiveTtl: { min: 1 } } } })).field).toBe("models.Post.adaptiveTtl.max");
    expect(configError(resolve({ models: { Post: { adaptiveTtl: { min: 1, max: 2, grow: 3 } } } })).field).toBe("models.Post.adaptiveTtl.grow");
  });
});
