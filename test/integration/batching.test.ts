/**
 * Batching, seen from the outside: how many Redis round trips (counted by wrapping the ioredis client's commands:
 * MGET, script calls and DEL) and how many SQL statements (counted by the bed's adapter) a burst of concurrent reads
 * costs.
 *
 * - Every cache lookup of one tick travels to Redis together, whatever the operations and models: one MGET of the
 *   entries and their stamps, which alone answers hits, plus (only when some missed) one LOOKUP script call for the
 *   whole batch. The fills of one tick then go together too, in one FILL script call.
 * - Misses still reach Prisma in the same tick, so Prisma merges concurrent `findUnique` calls into one statement,
 *   and unique-shaped `findFirst` misses are sent as `findUnique` so they are merged too.
 * - Identical concurrent reads share one database load, and every caller gets its own copy of the result.
 * - `batch: false` opts a model out; reads inside transactions never touch the cache.
 */
import type { Redis } from "ioredis";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { PrismaClient } from "../../generated/prisma/client.ts";
import { redisStore } from "../../src/index.ts";
import { createCacheBed, STORE_KINDS, type CacheBed, type CachedClient } from "../support/cache-bed.ts";
import { createRedis } from "../support/redis.ts";

/** MGETs, script calls and DELs one ioredis client sent, by command and (for scripts) by script hash. */
interface RoundTrips {
  calls: { command: string; sha: string | undefined }[];
  /** Calls of `command` (all counted commands if omitted), only those running script `sha` if given. */
  count(command?: string, sha?: string): number;
  reset(): void;
}

/** Wraps the client's methods the stores use, so each call (one round trip each: no auto-pipelining) is recorded. */
function countRoundTrips(client: Redis): RoundTrips {
  const calls: RoundTrips["calls"] = [];
  const methods = client as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
  for (const command of ["mget", "evalsha", "eval", "del"]) {
    const original = methods[command]!.bind(client);
    methods[command] = (...args: unknown[]) => {
      calls.push({ command, sha: command === "evalsha" ? String(args[0]) : undefined });
      return original(...args);
    };
  }
  return {
    calls,
    count: (command, sha) => calls.filter((call) => (command === undefined || call.command === command) && (sha === undefined || call.sha === sha)).length,
    reset: () => {
      calls.length = 0;
    },
  };
}

/** Prisma's "no record found" error, as both `findUniqueOrThrow` and `findFirstOrThrow` raise it. */
function notFoundCode(error: unknown): string | undefined {
  return (error as { code?: string } | null)?.code;
}

describe("lookups of one tick share one MGET (and, for misses, one lookup script call)", () => {
  let bed: CacheBed;
  let redis: Redis;
  let trips: RoundTrips;
  let prisma: CachedClient;
  /** The LOOKUP script's hash (learned from a miss: MGET, then LOOKUP, then FILL), to tell lookups from fills. */
  let lookupSha: string;
  let ids: number[];
  let postIds: number[];

  beforeAll(async () => {
    bed = await createCacheBed("redis");
    redis = createRedis();
    await redis.ping();
    trips = countRoundTrips(redis);
    prisma = bed.cached({ store: redisStore({ client: redis }) }).prisma;
    await bed.base.prisma.user.createMany({ data: Array.from({ length: 100 }, (_, i) => ({ email: `u${i}@batch.test`, name: `user ${i}` })) });
    ids = (await bed.base.prisma.user.findMany({ orderBy: { id: "asc" }, select: { id: true } })).map((user) => user.id);
    for (let i = 0; i < 10; i++) {
      await bed.base.prisma.post.create({ data: { title: `post ${i}`, slug: `post-${i}`, views: i, published: i % 2 === 0, authorId: ids[i % 3]! } });
    }
    postIds = (await bed.base.prisma.post.findMany({ orderBy: { id: "asc" }, select: { id: true } })).map((post) => post.id);
    // Load the scripts on the server (a first call falls back from EVALSHA to EVAL), then learn the lookup's hash
    // from a second miss (the namespace's epoch moved): its MGET finds no stamps, so the LOOKUP script runs, then FILL.
    await prisma.user.findUnique({ where: { id: ids[0]! } });
    await prisma.$cache.invalidateAll();
    trips.reset();
    await prisma.user.findUnique({ where: { id: ids[0]! } });
    await prisma.$cache.settled();
    expect(trips.calls.map((call) => call.command)).toEqual(["mget", "evalsha", "evalsha"]);
    lookupSha = trips.calls[1]!.sha!;
    expect(trips.calls[2]!.sha, "the fill runs another script").not.toBe(lookupSha);
    // And a hit is the MGET alone.
    trips.reset();
    await prisma.user.findUnique({ where: { id: ids[0]! } });
    expect(trips.calls.map((call) => call.command)).toEqual(["mget"]);
  });
  afterAll(async () => {
    redis?.disconnect();
    await bed?.close();
  });
  beforeEach(async () => {
    // Every test starts from an empty namespace (the epoch moves), so what it caches is its own.
    await prisma.$cache.invalidateAll();
    trips.reset();
    bed.resetSql();
  });

  it("sends 100 concurrent findUnique hits by distinct ids as one round trip and no SQL", async () => {
    const truth = await Promise.all(ids.map((id) => bed.base.prisma.user.findUnique({ where: { id } })));
    await Promise.all(ids.map((id) => prisma.user.findUnique({ where: { id } })));
    await prisma.$cache.settled();
    trips.reset();
    bed.resetSql();

    const results = await Promise.all(ids.map((id) => prisma.user.findUnique({ where: { id } })));

    expect(trips.count("mget"), "one MGET for all 100 lookups").toBe(1);
    expect(trips.count(), "and nothing else: hits need no script").toBe(1);
    expect(bed.selects()).toBe(0);
    expect(results).toEqual(truth);
  });

  it("sends a concurrent mix of every read operation on several models as one round trip", async () => {
    const reads: ((db: PrismaClient) => PromiseLike<unknown>)[] = [
      ...ids.slice(0, 20).map((id) => (db: PrismaClient) => db.user.findUnique({ where: { id } })),
      (db) => db.user.findUniqueOrThrow({ where: { email: "u30@batch.test" } }),
      (db) => db.user.findFirst({ where: { name: { startsWith: "user 4" } }, orderBy: { id: "desc" } }),
      (db) => db.user.findFirstOrThrow({ where: { email: { endsWith: "@batch.test" } }, orderBy: { id: "asc" } }),
      (db) => db.user.findMany({ where: { id: { in: ids.slice(0, 5) } }, orderBy: { id: "asc" } }),
      (db) => db.user.count(),
      (db) => db.post.findMany({ where: { published: true }, include: { author: true }, orderBy: { id: "asc" } }),
      (db) => db.post.findUnique({ where: { id: postIds[3]! } }),
      (db) => db.post.aggregate({ _sum: { views: true }, _max: { views: true } }),
      (db) => db.post.groupBy({ by: ["published"], _count: { _all: true }, orderBy: { published: "asc" } }),
      (db) => db.post.count({ where: { views: { gt: 3 } } }),
    ];
    const cached = prisma as unknown as PrismaClient;
    const truth = await Promise.all(reads.map((read) => read(bed.base.prisma)));
    await Promise.all(reads.map((read) => read(cached)));
    await prisma.$cache.settled();
    trips.reset();
    bed.resetSql();

    const results = await Promise.all(reads.map((read) => read(cached)));

    expect(trips.count("mget"), "one MGET for every lookup of the tick").toBe(1);
    expect(trips.count(), "and nothing else: hits need no script").toBe(1);
    expect(bed.selects()).toBe(0);
    expect(results).toEqual(truth);
  });

  it("keeps Prisma's batching for misses: 100 concurrent findUnique misses cost at most 3 SELECTs, one MGET and one lookup script call", async () => {
    const truth = await Promise.all(ids.map((id) => bed.base.prisma.user.findUnique({ where: { id } })));
    bed.resetSql();

    const results = await Promise.all(ids.map((id) => prisma.user.findUnique({ where: { id } })));
    await prisma.$cache.settled();

    expect(results).toEqual(truth);
    expect(bed.selects(), "Prisma merges the 100 misses").toBeLessThanOrEqual(3);
    expect(trips.count("mget"), "the 100 lookups travel together").toBe(1);
    expect(trips.count("evalsha", lookupSha), "and so do their second steps").toBe(1);
    // The fills of rows loaded together travel together too: one FILL call per statement Prisma sent.
    const fills = trips.count("evalsha") - trips.count("evalsha", lookupSha);
    expect(fills, "one fill call per SELECT, not one per miss").toBe(bed.selects());
    expect(trips.count(), "and nothing else").toBe(1 + 1 + fills);
    // And they were misses that filled: the next burst is served by Redis alone, in one MGET.
    bed.resetSql();
    trips.reset();
    expect(await Promise.all(ids.map((id) => prisma.user.findUnique({ where: { id } })))).toEqual(truth);
    expect(bed.selects()).toBe(0);
    expect(trips.count("mget")).toBe(1);
    expect(trips.count()).toBe(1);
  });

  it("splits more lookups than one round trip carries (256) into a few round trips, not one per read", async () => {
    const emails = Array.from({ length: 100 }, (_, i) => `u${i}@batch.test`);
    // 300 distinct keys: by id, by email, and by id with a select.
    const reads = [
      ...ids.map((id) => () => prisma.user.findUnique({ where: { id } })),
      ...emails.map((email) => () => prisma.user.findUnique({ where: { email } })),
      ...ids.map((id) => () => prisma.user.findUnique({ where: { id }, select: { email: true } })),
    ];
    await Promise.all(reads.map((read) => read()));
    await prisma.$cache.settled();
    trips.reset();
    bed.resetSql();

    await Promise.all(reads.map((read) => read()));

    expect(bed.selects()).toBe(0);
    // 300 hits: 256 lookups in one MGET, the other 44 in a second; no script.
    expect(trips.count("mget")).toBe(2);
    expect(trips.count()).toBe(2);
  });
});

describe.each(STORE_KINDS)("%s store: identical concurrent reads share one load", (kind) => {
  let bed: CacheBed;
  let seq = 0;
  /** A name no other test of this bed uses, so each test's reads are first-time misses. */
  const scope = () => `sf${kind}${++seq}`;

  beforeAll(async () => {
    bed = await createCacheBed(kind);
  });
  afterAll(() => bed?.close());

  async function seed(s: string) {
    const author = await bed.base.prisma.user.create({ data: { email: `${s}@sf.test`, name: s } });
    for (let i = 0; i < 3; i++) {
      await bed.base.prisma.post.create({ data: { title: `${s}-${i}`, slug: `${s}-${i}`, views: i + 1, published: i !== 1, authorId: author.id } });
    }
    return author;
  }

  type Case = { name: string; read: (db: PrismaClient, s: string, authorId: number) => PromiseLike<unknown>; mutate?: (value: unknown) => void };
  const setName = (value: unknown) => {
    (value as { name: string }).name = "mutated";
  };
  const cases: Case[] = [
    { name: "findUnique", read: (db, _s, id) => db.user.findUnique({ where: { id }, include: { posts: { orderBy: { id: "asc" } } } }), mutate: setName },
    { name: "findUniqueOrThrow", read: (db, s) => db.user.findUniqueOrThrow({ where: { email: `${s}@sf.test` } }), mutate: setName },
    { name: "findFirst", read: (db, s) => db.user.findFirst({ where: { name: s }, include: { posts: true } }), mutate: setName },
    {
      name: "findFirstOrThrow",
      read: (db, s) => db.post.findFirstOrThrow({ where: { title: { startsWith: s } }, orderBy: { views: "desc" } }),
      mutate: (value) => ((value as { title: string }).title = "mutated"),
    },
    {
      name: "findMany",
      read: (db, s) => db.post.findMany({ where: { title: { startsWith: s } }, orderBy: { id: "asc" } }),
      mutate: (value) => {
        const list = value as { title: string }[];
        list[0]!.title = "mutated";
        list.pop();
      },
    },
    { name: "count", read: (db, s) => db.post.count({ where: { title: { startsWith: s } } }) },
    {
      name: "aggregate",
      read: (db, s) => db.post.aggregate({ where: { title: { startsWith: s } }, _sum: { views: true }, _count: { _all: true } }),
      mutate: (value) => ((value as { _sum: { views: number } })._sum.views = -1),
    },
    {
      name: "groupBy",
      read: (db, s) => db.post.groupBy({ by: ["published"], where: { title: { startsWith: s } }, _sum: { views: true }, orderBy: { published: "asc" } }),
      mutate: (value) => {
        (value as unknown[]).length = 0;
      },
    },
  ];

  it.each(cases)("$name: 20 concurrent identical calls cost the SQL of one call and each caller gets its own copy", async ({ read, mutate }) => {
    const s = scope();
    const author = await seed(s);
    bed.resetSql();
    const truth = await read(bed.base.prisma, s, author.id);
    // One Prisma query: one statement, or two where an include loads a relation.
    const oneCall = bed.selects();
    const cached = bed.prisma as unknown as PrismaClient;
    bed.resetSql();

    const results = await Promise.all(Array.from({ length: 20 }, () => read(cached, s, author.id)));

    expect(bed.selects(), "one load for the 20 callers").toBe(oneCall);
    for (const result of results) expect(result).toEqual(truth);
    if (mutate) {
      expect(new Set(results).size, "no two callers share an object").toBe(20);
      mutate(results[0]);
      expect(results[0]).not.toEqual(truth);
      for (const result of results.slice(1)) expect(result).toEqual(truth);
      // Nor did the mutation reach the cache.
      bed.resetSql();
      expect(await read(cached, s, author.id)).toEqual(truth);
      expect(bed.selects()).toBe(0);
    }
  });
});

describe.each(STORE_KINDS)("%s store: unique-shaped findFirst misses are merged like findUnique", (kind) => {
  let bed: CacheBed;
  let ids: number[];
  /** Ids of users that do not exist, interleaved with real ones. */
  const missing = [-1, -2, -3, 999_999_001, 999_999_002];

  beforeAll(async () => {
    bed = await createCacheBed(kind);
    await bed.base.prisma.user.createMany({ data: Array.from({ length: 45 }, (_, i) => ({ email: `f${i}@first.test`, name: i % 2 ? "odd" : "even" })) });
    ids = (await bed.base.prisma.user.findMany({ orderBy: { id: "asc" }, select: { id: true } })).map((user) => user.id);
  });
  afterAll(() => bed?.close());
  beforeEach(async () => {
    await bed.prisma.$cache.invalidateAll();
    bed.resetSql();
  });

  /** 50 ids: the 45 users and 5 that do not exist, mixed. */
  const mixedIds = () => ids.flatMap((id, i) => (i % 9 === 0 && missing[i / 9] !== undefined ? [missing[i / 9]!, id] : [id]));

  it("Prisma alone sends 50 concurrent findFirst by id as 50 statements (the baseline this batching improves)", async () => {
    await Promise.all(mixedIds().map((id) => bed.base.prisma.user.findFirst({ where: { id } })));
    expect(bed.selects()).toBeGreaterThan(3);
  });

  it("findFirst({ where: { id } }): 50 concurrent misses cost at most 3 SELECTs, each caller gets its own row or null", async () => {
    const all = mixedIds();
    expect(all).toHaveLength(50);
    const truth = await Promise.all(all.map((id) => bed.base.prisma.user.findFirst({ where: { id } })));
    bed.resetSql();

    const results = await Promise.all(all.map((id) => bed.prisma.user.findFirst({ where: { id } })));

    expect(bed.selects()).toBeLessThanOrEqual(3);
    expect(results).toEqual(truth);
    results.forEach((result, i) => {
      if (missing.includes(all[i]!)) expect(result).toBeNull();
      else expect(result?.id).toBe(all[i]);
    });
  });

  it("findFirst by id with select or include is not rewritten: Prisma's merge could give one call another's field order (fuzz F4)", async () => {
    const id = ids[0]!;
    const reads = [
      () => bed.prisma.user.findFirst({ where: { id }, select: { id: true, email: true } }),
      () => bed.prisma.user.findFirst({ where: { id }, select: { email: true, id: true } }),
    ];
    const truth = await Promise.all([
      bed.base.prisma.user.findFirst({ where: { id }, select: { id: true, email: true } }),
      bed.base.prisma.user.findFirst({ where: { id }, select: { email: true, id: true } }),
    ]);
    const results = await Promise.all(reads.map((read) => read()));
    expect(results.map((result) => JSON.stringify(result))).toEqual(truth.map((result) => JSON.stringify(result)));
  });

  it("findFirstOrThrow({ where: { id } }) is not rewritten (issue 8, item 3): each missing id gets Prisma's own error", async () => {
    const all = mixedIds();
    const truth = await Promise.allSettled(all.map((id) => bed.base.prisma.user.findFirstOrThrow({ where: { id } })));
    bed.resetSql();

    const results = await Promise.allSettled(all.map((id) => bed.prisma.user.findFirstOrThrow({ where: { id } })));

    // Its NotFound error names findFirstOrThrow; a findUniqueOrThrow in its place would name that instead.
    expect(bed.selects()).toBe(all.length);
    results.forEach((result, i) => {
      const expected = truth[i]!;
      expect(result.status, `id ${all[i]}`).toBe(expected.status);
      if (expected.status === "rejected") {
        const reason = (result as PromiseRejectedResult).reason as Error;
        expect(notFoundCode(reason)).toBe(notFoundCode(expected.reason));
        expect(reason.constructor).toBe((expected.reason as Error).constructor);
        expect(reason.message).toContain("findFirstOrThrow");
      } else {
        expect((result as PromiseFulfilledResult<unknown>).value).toEqual(expected.value);
      }
    });
  });

  it("findFirst by a unique email is merged; by id with an extra filter it is not, and both still filter", async () => {
    const emails = Array.from({ length: 20 }, (_, i) => `f${i}@first.test`).concat(["nobody@first.test"]);
    const filtered = ids.slice(0, 20);
    const truth = [
      ...(await Promise.all(emails.map((email) => bed.base.prisma.user.findFirst({ where: { email } })))),
      ...(await Promise.all(filtered.map((id) => bed.base.prisma.user.findFirst({ where: { id, name: "odd" } })))),
    ];
    expect(truth.filter((user) => user === null).length, "the extra filter excludes some rows").toBeGreaterThan(5);
    bed.resetSql();

    const results = await Promise.all([
      ...emails.map((email) => bed.prisma.user.findFirst({ where: { email } })),
      ...filtered.map((id) => bed.prisma.user.findFirst({ where: { id, name: "odd" } })),
    ]);

    expect(results).toEqual(truth);
    expect(bed.selects()).toBeLessThanOrEqual(3 + filtered.length);
  });

  it("never changes a result or an error by the rewrite (issue 8, item 3)", async () => {
    const id = ids[3]!;
    const outcome = async (read: () => PromiseLike<unknown>) => {
      try {
        return { value: await read() };
      } catch (error) {
        return { error: (error as Error).constructor.name, code: (error as { code?: string }).code };
      }
    };
    const reads: Array<(db: PrismaClient) => PromiseLike<unknown>> = [
      // Another unique field with a filter, or null: valid in findFirst, rejected by findUnique.
      (db) => db.user.findFirst({ where: { id, email: { not: "x" } } }),
      (db) => db.profile.findFirst({ where: { id: 1, userId: { not: 5 } } }),
      // A compound key's name: valid only in findUnique, so findFirst must reject it.
      (db) => db.postTag.findFirst({ where: { postId_tagId: { postId: 1, tagId: 1 } } as never }),
      (db) => db.postTag.findFirstOrThrow({ where: { postId_tagId: { postId: 1, tagId: 1 } } as never }),
      // A nested filter value the database rejects: findUnique of a missing row never evaluates it.
      (db) => db.user.findFirst({ where: { id: -1 }, include: { posts: { where: { views: { gt: 2 ** 40 } } } } }),
      (db) => db.user.findFirst({ where: { id: -1 }, include: { comments: { where: { id: { in: [1n << 70n] } } } } }),
    ];
    for (const read of reads) {
      const expected = await outcome(() => read(bed.base.prisma));
      expect(await outcome(() => read(bed.prisma as unknown as PrismaClient)), String(read)).toEqual(expected);
    }
  });

  it("findFirst with orderBy, or with a where that pins no unique key, is not rewritten and stays correct", async () => {
    const some = ids.slice(0, 10);
    const reads = [
      ...some.map((id) => (db: PrismaClient) => db.user.findFirst({ where: { id }, orderBy: { email: "desc" } })),
      ...some.map((id) => (db: PrismaClient) => db.user.findFirst({ where: { id: { equals: id } } })),
      ...some.map((id) => (db: PrismaClient) => db.user.findFirst({ where: { id: { gte: id } }, orderBy: { id: "asc" } })),
      (db: PrismaClient) => db.user.findFirst({ where: { name: "odd" }, orderBy: { id: "desc" } }),
      (db: PrismaClient) => db.user.findFirst({ where: { email: { startsWith: "f1" } }, orderBy: { email: "asc" }, skip: 2 }),
      (db: PrismaClient) => db.user.findFirstOrThrow({ where: { name: "even" }, orderBy: { id: "asc" } }),
    ];
    const truth = await Promise.all(reads.map((read) => read(bed.base.prisma)));
    bed.resetSql();

    const results = await Promise.all(reads.map((read) => read(bed.prisma as unknown as PrismaClient)));

    expect(results).toEqual(truth);
    // Prisma runs findFirst one statement each: no merging happened.
    expect(bed.selects()).toBe(reads.length);
    // And the rewritten and plain reads are cached like any other.
    bed.resetSql();
    expect(await Promise.all(reads.map((read) => read(bed.prisma as unknown as PrismaClient)))).toEqual(truth);
    expect(bed.selects()).toBe(0);
  });

  it("a findFirst and a findUnique of the same row are cached apart and agree", async () => {
    const id = ids[7]!;
    const [first, unique] = await Promise.all([bed.prisma.user.findFirst({ where: { id } }), bed.prisma.user.findUnique({ where: { id } })]);
    expect(first).toEqual(unique);
    await bed.prisma.user.update({ where: { id }, data: { name: "renamed" } });
    const [first2, unique2] = await Promise.all([bed.prisma.user.findFirst({ where: { id } }), bed.prisma.user.findUnique({ where: { id } })]);
    expect(first2?.name).toBe("renamed");
    expect(unique2).toEqual(first2);
  });
});

describe("batch: false", () => {
  let bed: CacheBed;
  let redis: Redis;
  let trips: RoundTrips;
  let prisma: CachedClient;
  let ids: number[];
  let postIds: number[];

  beforeAll(async () => {
    bed = await createCacheBed("redis");
    redis = createRedis();
    await redis.ping();
    trips = countRoundTrips(redis);
    prisma = bed.cached({ store: redisStore({ client: redis }), models: { User: { batch: false } } }).prisma;
    await bed.base.prisma.user.createMany({ data: Array.from({ length: 20 }, (_, i) => ({ email: `n${i}@nobatch.test` })) });
    ids = (await bed.base.prisma.user.findMany({ orderBy: { id: "asc" }, select: { id: true } })).map((user) => user.id);
    for (let i = 0; i < 10; i++) await bed.base.prisma.post.create({ data: { title: `nb ${i}`, slug: `nb-${i}` } });
    postIds = (await bed.base.prisma.post.findMany({ orderBy: { id: "asc" }, select: { id: true } })).map((post) => post.id);
  });
  afterAll(async () => {
    redis?.disconnect();
    await bed?.close();
  });
  beforeEach(async () => {
    await prisma.$cache.invalidateAll();
    trips.reset();
    bed.resetSql();
  });

  it("looks up each of the model's reads in its own round trip, while other models stay batched", async () => {
    await Promise.all([...ids.map((id) => prisma.user.findUnique({ where: { id } })), ...postIds.map((id) => prisma.post.findUnique({ where: { id } }))]);
    await prisma.$cache.settled();
    trips.reset();
    bed.resetSql();

    const [users, posts] = await Promise.all([
      Promise.all(ids.map((id) => prisma.user.findUnique({ where: { id } }))),
      Promise.all(postIds.map((id) => prisma.post.findUnique({ where: { id } }))),
    ]);

    expect(bed.selects()).toBe(0);
    expect(users.map((user) => user?.id)).toEqual(ids);
    expect(posts.map((post) => post?.id)).toEqual(postIds);
    // All hits: one MGET each, no script.
    expect(trips.count("mget"), "20 User lookups one by one, 10 Post lookups together").toBe(ids.length + 1);
    expect(trips.count()).toBe(ids.length + 1);
  });

  it("sends unique-shaped findFirst misses as findFirst, which Prisma does not merge", async () => {
    const truth = await Promise.all(ids.map((id) => bed.base.prisma.user.findFirst({ where: { id } })));
    bed.resetSql();

    const results = await Promise.all(ids.map((id) => prisma.user.findFirst({ where: { id } })));

    expect(results).toEqual(truth);
    expect(bed.selects()).toBe(ids.length);
  });
});

describe.each(STORE_KINDS)("%s store: no batching or caching inside transactions", (kind) => {
  let bed: CacheBed;
  let redis: Redis | undefined;
  let trips: RoundTrips | undefined;
  let prisma: CachedClient;
  let ids: number[];

  beforeAll(async () => {
    bed = await createCacheBed(kind);
    if (kind === "redis") {
      redis = createRedis();
      trips = countRoundTrips(redis);
      prisma = bed.cached({ store: redisStore({ client: redis }) }).prisma;
    } else {
      prisma = bed.prisma;
    }
    await bed.base.prisma.user.createMany({ data: Array.from({ length: 10 }, (_, i) => ({ email: `t${i}@tx.test`, name: "before" })) });
    ids = (await bed.base.prisma.user.findMany({ orderBy: { id: "asc" }, select: { id: true } })).map((user) => user.id);
  });
  afterAll(async () => {
    redis?.disconnect();
    await bed?.close();
  });

  /** Caches every user by id and by findFirst, so a transaction that used the cache would see "before". */
  async function cacheAll() {
    await Promise.all(ids.map((id) => prisma.user.findUnique({ where: { id } })));
    await Promise.all(ids.map((id) => prisma.user.findFirst({ where: { id } })));
    bed.resetSql();
    await Promise.all(ids.map((id) => prisma.user.findFirst({ where: { id } })));
    expect(bed.selects()).toBe(0);
  }

  it("interactive transaction: concurrent reads reach the database, unbatched, and see the transaction's own writes", async () => {
    await cacheAll();
    trips?.reset();
    bed.resetSql();

    const seen = await prisma.$transaction(async (tx) => {
      await tx.user.updateMany({ where: { id: { in: ids } }, data: { name: "inside" } });
      const byFirst = await Promise.all(ids.map((id) => tx.user.findFirst({ where: { id } })));
      const byUnique = await Promise.all(ids.map((id) => tx.user.findUnique({ where: { id } })));
      // Nothing of the transaction touched the cache (its invalidation waits for the commit).
      expect(trips?.count() ?? 0).toBe(0);
      return [...byFirst, ...byUnique];
    });

    expect(seen.map((user) => user?.name)).toEqual(new Array(2 * ids.length).fill("inside"));
    // Each findFirst went to the database as itself (Prisma runs them one by one).
    expect(bed.selects()).toBeGreaterThanOrEqual(ids.length);
    // After the commit, the cached client sees the new names too.
    const after = await Promise.all(ids.map((id) => prisma.user.findFirst({ where: { id } })));
    expect(after.map((user) => user?.name)).toEqual(ids.map(() => "inside"));
    await bed.base.prisma.user.updateMany({ data: { name: "before" } });
    await prisma.$cache.invalidateAll();
  });

  it("batch transaction: reads reach the database, in order with the batch's writes", async () => {
    await cacheAll();
    trips?.reset();
    bed.resetSql();
    const id = ids[3]!;

    const [, first, unique, list] = await prisma.$transaction([
      prisma.user.update({ where: { id }, data: { name: "batched" } }),
      prisma.user.findFirst({ where: { id } }),
      prisma.user.findUnique({ where: { id } }),
      prisma.user.findMany({ where: { id: { in: ids } }, orderBy: { id: "asc" } }),
    ]);

    expect(first?.name).toBe("batched");
    expect(unique?.name).toBe("batched");
    expect(list.find((user) => user.id === id)?.name).toBe("batched");
    expect(bed.selects()).toBeGreaterThanOrEqual(3);
    // The batch's reads made no lookup (no MGET, no script); only the write's invalidation (one DEL) reached the store.
    if (trips) expect(trips.calls.map((call) => call.command)).toEqual(["del"]);
    expect((await prisma.user.findFirst({ where: { id } }))?.name).toBe("batched");
  });
});
