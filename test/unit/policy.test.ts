import { describe, expect, it } from "vitest";
import { CacheConfigError } from "../../src/errors.ts";
import { resolveOptions, type CachePluginOptions } from "../../src/options.ts";
import { PolicyTable, READ_OPERATIONS } from "../../src/read/policy.ts";

const MODELS = ["User", "Post", "Tag", "AuditLog"];

const table = (options: CachePluginOptions = {}) => new PolicyTable(resolveOptions(options), MODELS);

function configError(run: () => unknown): CacheConfigError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(CacheConfigError);
    expect((error as CacheConfigError).code).toBe("CONFIG_INVALID");
    return error as CacheConfigError;
  }
  throw new Error("expected a CacheConfigError, but nothing was thrown");
}

describe("PolicyTable", () => {
  it("caches every model with the defaults when no policy is given", () => {
    const policies = table();
    for (const model of MODELS) expect(policies.forCall(model, undefined)).toMatchObject({ ttlMs: 60_000, swrMs: 0, tags: [] });
  });

  it("rejects a model name the client does not have, listing the models", () => {
    const error = configError(() => table({ models: { Usr: { ttl: 5 } } }));
    expect(error.field).toBe("models.Usr");
    expect(error.message).toContain("models.Usr is not a model of this Prisma client; models are: User, Post, Tag, AuditLog");
  });

  it("never caches a model set to false, even when a call passes cacheStrategy", () => {
    const policies = table({ models: { User: false } });
    expect(policies.forCall("User", undefined)).toBeNull();
    expect(policies.forCall("User", { ttl: 60 })).toBeNull();
    expect(policies.forCall("User", {})).toBeNull();
    expect(policies.forCall("Post", undefined)).not.toBeNull();
  });

  it("does not cache a model with ttl 0 unless the call passes cacheStrategy", () => {
    const policies = table({ models: { User: { ttl: 0 } } });
    expect(policies.forCall("User", undefined)).toBeNull();
    // Issue 8, item 11: no silent 60 s default for a ttl-0 model.
    for (const strategy of [{}, { tags: ["t"] }, { swr: 5 }]) {
      expect(() => policies.forCall("User", strategy)).toThrow(
        expect.objectContaining({ field: "cacheStrategy.ttl", message: expect.stringContaining("model User has ttl 0: pass cacheStrategy.ttl to cache this call") }),
      );
    }
    expect(policies.forCall("User", { ttl: 5 })).toMatchObject({ ttlMs: 5000, swrMs: 0, tags: [] });
  });

  it("allowlist mode: caches listed models as configured, others only when a call passes cacheStrategy", () => {
    const policies = table({ mode: "allowlist", ttl: 30, swr: 5, models: { User: { ttl: 10 }, Tag: false } });
    expect(policies.forCall("User", undefined)).toMatchObject({ ttlMs: 10_000 });
    expect(policies.forCall("Post", undefined)).toBeNull();
    expect(policies.forCall("AuditLog", undefined)).toBeNull();
    // An opted-in call gets the plugin-wide ttl and swr unless it names its own.
    expect(policies.forCall("Post", {})).toMatchObject({ ttlMs: 30_000, swrMs: 5_000 });
    expect(policies.forCall("Post", { tags: ["feed"] })).toMatchObject({ ttlMs: 30_000, tags: ["feed"] });
    expect(policies.forCall("Post", { ttl: 2 })).toMatchObject({ ttlMs: 2_000 });
    expect(policies.forCall("Post", { refresh: true })).toMatchObject({ ttlMs: 30_000 });
    expect(policies.forCall("Post", false)).toBeNull();
    expect(policies.forCall("Tag", { ttl: 60 }), "false still means never").toBeNull();
    // Writes of unlisted models are not written through (they are not cached by default).
    expect(table({ mode: "allowlist", writes: "write-through", models: { User: {} } }).ofModel("Post")).toBe(false);
    expect(table({ mode: "allowlist", writes: "write-through", models: { User: {} } }).ofModel("User")).toMatchObject({ writes: "write-through" });
  });

  it("accepts cacheStrategy.refresh as a boolean and rejects anything else, naming the field", () => {
    const policies = table();
    expect(policies.forCall("User", { refresh: true })).toMatchObject({ ttlMs: 60_000 });
    expect(policies.forCall("User", { refresh: false, ttl: 5 })).toMatchObject({ ttlMs: 5_000 });
    const error = configError(() => policies.forCall("User", { refresh: "yes" }));
    expect(error.field).toBe("cacheStrategy.refresh");
    expect(error.message).toContain('cacheStrategy.refresh must be true or false, received: "yes"');
  });

  it("does not cache anything with a plugin-wide ttl 0 unless asked", () => {
    const policies = table({ ttl: 0 });
    expect(policies.forCall("Post", undefined)).toBeNull();
    expect(policies.forCall("Post", { ttl: 2 })).toMatchObject({ ttlMs: 2000, swrMs: 0, tags: [] });
  });

  // options.ts documents ModelPolicy.ttl `0` as "not cached unless a call passes cacheStrategy", and the plugin-wide
  // ttl `0` as "nothing is cached unless asked"; a plugin-wide swr makes such reads cached (always stale) anyway.
  it("does not cache a model with ttl 0 without cacheStrategy, even when a plugin-wide swr is set", () => {
    const policies = table({ swr: 30, models: { User: { ttl: 0 } } });
    expect(policies.forCall("User", undefined)).toBeNull();
  });

  it("bypasses the cache for cacheStrategy false", () => {
    expect(table().forCall("User", false)).toBeNull();
  });

  it("does not cache a call with cacheStrategy ttl 0 and no swr", () => {
    expect(table().forCall("User", { ttl: 0 })).toBeNull();
  });

  it("caches a call with ttl 0 and swr > 0 as stale-while-revalidate only", () => {
    expect(table().forCall("User", { ttl: 0, swr: 10 })).toMatchObject({ ttlMs: 0, swrMs: 10_000, tags: [] });
  });

  it("lets cacheStrategy override ttl and swr and keep the model's other settings", () => {
    const policies = table({ models: { Post: { ttl: 30, swr: 5, tags: ["posts"] } } });
    expect(policies.forCall("Post", { ttl: 1 })).toMatchObject({ ttlMs: 1000, swrMs: 5000, tags: ["posts"] });
    expect(policies.forCall("Post", { swr: 0 })).toMatchObject({ ttlMs: 30_000, swrMs: 0, tags: ["posts"] });
  });

  it("keeps the model's batching, refresh-ahead and write settings under a cacheStrategy", () => {
    const policies = table({ models: { User: { batch: false, refreshAhead: 0.3, hotThreshold: 2, writes: "write-through" } } });
    expect(policies.forCall("User", { ttl: 5 })).toMatchObject({ ttlMs: 5000, batch: false, refreshAhead: 0.3, hotThreshold: 2, writes: "write-through" });
  });

  it("merges the call's tags into the model's, without duplicates", () => {
    const policies = table({ models: { Post: { tags: ["posts", "feed"] } } });
    expect(policies.forCall("Post", { tags: ["feed", "home"] })?.tags).toEqual(["posts", "feed", "home"]);
    expect(policies.forCall("Post", undefined)?.tags).toEqual(["posts", "feed"]);
    expect(policies.forCall("User", { tags: ["u"] })?.tags).toEqual(["u"]);
  });

  it.each([true, 5, "60", [], null])("rejects cacheStrategy %j", (strategy) => {
    const error = configError(() => table().forCall("User", strategy));
    expect(error.field).toBe("cacheStrategy");
    expect(error.message).toContain("cacheStrategy must be an object { ttl?, swr?, tags?, refresh? } or false, received:");
  });

  it("rejects an unknown key in cacheStrategy, listing the allowed keys", () => {
    const error = configError(() => table().forCall("User", { ttl: 5, tll: 5 }));
    expect(error.field).toBe("cacheStrategy.tll");
    expect(error.message).toContain("allowed: ttl, swr, tags");
  });

  it.each([
    ["ttl", -1, "-1"],
    ["ttl", NaN, "NaN"],
    ["swr", Infinity, "Infinity"],
  ])("rejects cacheStrategy.%s = %s", (field, value, shown) => {
    const error = configError(() => table().forCall("User", { [field]: value }));
    expect(error.field).toBe(`cacheStrategy.${field}`);
    expect(error.message).toContain(`must be a non-negative, finite number of seconds, received: ${shown}`);
  });

  it("rejects cacheStrategy tags that are not non-empty strings", () => {
    expect(configError(() => table().forCall("User", { tags: "x" })).field).toBe("cacheStrategy.tags");
    const error = configError(() => table().forCall("User", { tags: ["ok", ""] }));
    expect(error.field).toBe("cacheStrategy.tags[1]");
    expect(error.message).toContain('must be a non-empty string of at most 200 characters without control characters, received: ""');
  });

  it("does not cache a model it does not know", () => {
    expect(table().forCall("Ghost", undefined)).toBeNull();
  });
});

describe("PolicyTable.forRaw", () => {
  it("caches a raw query under its tags with the plugin-wide ttl and swr, ignoring model policies", () => {
    const policies = table({ ttl: 30, swr: 5, models: { User: { ttl: 1, tags: ["users"] } } });
    expect(policies.forRaw({ tags: ["report"] })).toMatchObject({ ttlMs: 30_000, swrMs: 5000, tags: ["report"] });
  });

  it("lets the strategy set ttl and swr", () => {
    expect(table().forRaw({ tags: ["r"], ttl: 2, swr: 1 })).toMatchObject({ ttlMs: 2000, swrMs: 1000, tags: ["r"] });
    expect(table().forRaw({ tags: ["r"], ttl: 0 })).toBeNull();
  });

  it("opts in with the default ttl even when the plugin-wide ttl is 0", () => {
    expect(table({ ttl: 0 }).forRaw({ tags: ["r"] })).toMatchObject({ ttlMs: 60_000, swrMs: 0, tags: ["r"] });
  });

  it.each([undefined, false, {}, { tags: [] }, { tags: "r" }, { ttl: 5 }])("requires at least one tag (strategy %j)", (strategy) => {
    const error = configError(() => table().forRaw(strategy));
    expect(error.field).toBe("queryRaw strategy.tags");
    expect(error.message).toContain("must name at least one tag");
  });

  it("rejects invalid tags and unknown keys, naming them under the raw query's strategy", () => {
    expect(configError(() => table().forRaw({ tags: ["ok", ""] })).field).toBe("queryRaw strategy.tags[1]");
    expect(configError(() => table().forRaw({ tags: ["ok"], tll: 1 })).field).toBe("queryRaw strategy.tll");
  });
});

describe("READ_OPERATIONS", () => {
  it("lists the reads and no write", () => {
    expect([...READ_OPERATIONS].sort()).toEqual(["aggregate", "count", "findFirst", "findFirstOrThrow", "findMany", "findUnique", "findUniqueOrThrow", "groupBy"]);
  });
});
