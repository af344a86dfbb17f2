import { Redis } from "ioredis";
import { describe, expect, it } from "vitest";
import { CacheConfigError, memoryStore, redisStore, tieredStore } from "../../src/index.ts";

/** Issue 8, item 11: a store's options are checked like the plugin's, and a bad one names its field. */
describe("store options", () => {
  const field = (build: () => unknown) => {
    try {
      build();
    } catch (error) {
      expect(error).toBeInstanceOf(CacheConfigError);
      return (error as CacheConfigError).field;
    }
    return undefined;
  };
  const client = new Redis({ lazyConnect: true });

  it("rejects unknown options", () => {
    expect(field(() => memoryStore({ maxEntry: 5 } as never))).toBe("memoryStore.maxEntry");
    expect(field(() => redisStore({ client, prefix: "x" } as never))).toBe("redisStore.prefix");
    expect(field(() => tieredStore({ l2: redisStore({ client }), chanel: "x" } as never))).toBe("tieredStore.chanel");
  });

  it("rejects wrong types", () => {
    expect(field(() => tieredStore({ l2: redisStore({ client }), channel: 5 } as never))).toBe("tieredStore.channel");
    expect(field(() => memoryStore("big" as never))).toBe("memoryStore");
  });
});
