import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HotReads, sharedHotReads } from "../../src/warming/hot-reads.ts";
import { warm } from "../../src/warming/warm.ts";
import { type CacheBed, createCacheBed } from "../support/cache-bed.ts";
import { createRedis, deleteKeysWithPrefix, uniquePrefix } from "../support/redis.ts";

let bed: CacheBed;
let redis: Redis;
const sharePrefix = uniquePrefix("warming");
const ids: number[] = [];

beforeAll(async () => {
  bed = await createCacheBed("memory");
  redis = createRedis();
  for (let i = 0; i < 30; i++) ids.push((await bed.base.prisma.post.create({ data: { title: `p${i}`, slug: `warm-${i}` } })).id);
});

afterAll(async () => {
  await deleteKeysWithPrefix(redis, `{${sharePrefix}}`);
  redis.disconnect();
  await bed.close();
});

describe("warming", () => {
  it("fills every read of a list, and the reads then hit without SQL", async () => {
    const fresh = bed.cached();
    const reads = ids.slice(0, 10).map((id) => ({ model: "Post", operation: "findUnique", args: { where: { id } } }));
    const result = await warm(fresh.prisma, [...reads, { model: "Post", operation: "findMany", args: { where: { published: true } } }], { concurrency: 3 });
    expect(result).toMatchObject({ ran: 11, filled: 11, failed: [] });
    bed.resetSql();
    for (const id of ids.slice(0, 10)) expect((await fresh.prisma.post.findUnique({ where: { id } }))?.id).toBe(id);
    expect(bed.selects()).toBe(0);
  });

  it("reports a failing read without failing the others", async () => {
    const fresh = bed.cached();
    const result = await warm(fresh.prisma, [{ model: "Post", operation: "findUniqueOrThrow", args: { where: { id: -1 } } }, async (client) => client.post.count()]);
    expect(result.ran).toBe(1);
    expect(result.failed).toHaveLength(1);
    expect((result.failed[0]!.error as { code?: string }).code).toBe("P2025");
  });

  it("lets a new process warm its L1 from the hot reads another process shared in Redis", async () => {
    // Process A serves a skewed stream and shares its top reads.
    const hot = new HotReads(redis, sharePrefix, 5);
    // Interleaved as traffic is: in pass i, every post whose rank r has 100 / (r + 1) > i is read once.
    for (let pass = 0; pass < 100; pass++) {
      ids.forEach((id, rank) => {
        if (pass < 100 / (rank + 1)) hot.record({ model: "Post", operation: "findUnique", args: { where: { id } } });
      });
    }
    expect(await hot.publish()).toBe(5);

    // Process B starts cold, warms from the shared list, and serves the five hottest without SQL.
    const list = await sharedHotReads(redis, sharePrefix);
    expect(list.map((read) => (read.args as { where: { id: number } }).where.id)).toEqual(ids.slice(0, 5));
    const processB = bed.cached();
    expect((await warm(processB.prisma, list)).filled).toBe(5);
    bed.resetSql();
    for (const id of ids.slice(0, 5)) await processB.prisma.post.findUnique({ where: { id } });
    expect(bed.selects()).toBe(0);
    await processB.prisma.post.findUnique({ where: { id: ids[6]! } });
    expect(bed.selects()).toBe(1);
  });
});
