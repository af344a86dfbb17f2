/**
 * Cached reads, seen from the outside: which calls reach Postgres (counted SELECT statements), what they return,
 * and what `$cache.stats()` and Redis show. Every test runs against the memory store and the Redis store.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, inject, it } from "vitest";
import { Prisma } from "../../generated/prisma/client.ts";
import { CACHE_SCHEMAS, createCacheBed, STORE_KINDS, type CacheBed, type CachedClient } from "../support/cache-bed.ts";
import { waitFor } from "../support/poll.ts";

/** The ids of the seeded rows. */
interface Seed {
  alice: number;
  bob: number;
  carol: number;
  dave: number;
  profile: number;
  /** Alice's published post, in categories tech and ts, tagged topic/db and topic/cache. */
  p1: number;
  /** Alice's draft. */
  p2: number;
  /** Bob's published post, in category cooking, tagged lang/ts. */
  p3: number;
  /** A post without an author. */
  p4: number;
  tech: number;
  ts: number;
  cooking: number;
  db: number;
  cache: number;
  lang: number;
  c1: bigint;
  c2: bigint;
  c3: bigint;
}

type Read = () => PromiseLike<unknown>;

/** One read, run against any client that has the test-bed models. */
interface ReadCase {
  name: string;
  read: (prisma: CachedClient, seed: Seed) => PromiseLike<unknown>;
}

/** Every read operation, with the relation shapes of the schema: 1-1, 1-n, implicit and explicit m-n, self. */
const READ_CASES: ReadCase[] = [
  // findUnique
  { name: "findUnique by id", read: (db, s) => db.user.findUnique({ where: { id: s.alice } }) },
  { name: "findUnique by a unique field", read: (db) => db.user.findUnique({ where: { email: "bob@example.com" } }) },
  {
    name: "findUnique by a compound unique",
    read: (db) => db.tag.findUnique({ where: { namespace_name: { namespace: "topic", name: "db" } } }),
  },
  { name: "findUnique by a compound id", read: (db, s) => db.postTag.findUnique({ where: { postId_tagId: { postId: s.p1, tagId: s.db } } }) },
  { name: "findUnique by a BigInt id", read: (db, s) => db.comment.findUnique({ where: { id: s.c1 } }) },
  { name: "findUnique including a 1-1 relation", read: (db, s) => db.user.findUnique({ where: { id: s.alice }, include: { profile: true } }) },
  { name: "findUnique from the 1-1 relation's other side", read: (db, s) => db.profile.findUnique({ where: { userId: s.alice }, include: { user: true } }) },
  {
    name: "findUnique including a 1-n relation, filtered and ordered",
    read: (db, s) => db.user.findUnique({ where: { id: s.alice }, include: { posts: { where: { published: true }, orderBy: { id: "desc" } } } }),
  },
  {
    name: "findUnique selecting an n-1 relation",
    read: (db, s) => db.post.findUnique({ where: { id: s.p1 }, select: { title: true, author: { select: { email: true, name: true } } } }),
  },
  {
    name: "findUnique including an implicit m-n relation",
    read: (db, s) => db.post.findUnique({ where: { id: s.p1 }, include: { categories: { orderBy: { name: "asc" } } } }),
  },
  {
    name: "findUnique including an explicit m-n relation",
    read: (db, s) => db.post.findUnique({ where: { id: s.p1 }, include: { tags: { include: { tag: true }, orderBy: { tagId: "asc" } } } }),
  },
  {
    name: "findUnique including a self relation both ways",
    read: (db, s) => db.user.findUnique({ where: { id: s.alice }, include: { invitedBy: true, invitees: { orderBy: { id: "asc" } } } }),
  },
  {
    name: "findUnique including a self-related tree",
    read: (db, s) => db.category.findUnique({ where: { id: s.tech }, include: { parent: true, children: { include: { posts: true } } } }),
  },
  { name: "findUnique with _count of every list relation", read: (db, s) => db.user.findUnique({ where: { id: s.alice }, include: { _count: true } }) },
  {
    name: "findUnique with a filtered _count",
    read: (db, s) => db.post.findUnique({ where: { id: s.p1 }, select: { id: true, _count: { select: { comments: { where: { author: { name: "Bob" } } }, tags: true } } } }),
  },
  { name: "findUnique with omit", read: (db, s) => db.user.findUnique({ where: { id: s.alice }, omit: { createdAt: true } }) },
  // findUniqueOrThrow
  { name: "findUniqueOrThrow by id", read: (db, s) => db.post.findUniqueOrThrow({ where: { id: s.p3 } }) },
  {
    name: "findUniqueOrThrow with nested includes",
    read: (db, s) => db.post.findUniqueOrThrow({ where: { slug: "p1" }, include: { author: { include: { profile: true } }, comments: { orderBy: { id: "asc" } } } }),
  },
  // findFirst
  {
    name: "findFirst with a 1-n relation filter",
    read: (db) => db.user.findFirst({ where: { posts: { some: { published: true } } }, orderBy: { email: "desc" } }),
  },
  {
    name: "findFirst ordered by a relation field",
    read: (db) => db.post.findFirst({ where: { author: { isNot: null } }, orderBy: [{ author: { name: "desc" } }, { id: "asc" }] }),
  },
  {
    name: "findFirst ordered by a relation count",
    read: (db) => db.user.findFirst({ orderBy: [{ posts: { _count: "desc" } }, { id: "asc" }], select: { email: true, _count: { select: { posts: true } } } }),
  },
  { name: "findFirst with skip", read: (db) => db.category.findFirst({ orderBy: { name: "asc" }, skip: 1 }) },
  // findFirstOrThrow
  {
    name: "findFirstOrThrow with an explicit m-n relation filter",
    read: (db) => db.post.findFirstOrThrow({ where: { tags: { some: { tag: { namespace: "lang" } } } }, include: { tags: { include: { tag: true } } } }),
  },
  { name: "findFirstOrThrow with a 1-1 relation filter", read: (db) => db.user.findFirstOrThrow({ where: { profile: { is: { bio: { contains: "graph" } } } } }) },
  // findMany
  { name: "findMany of every row", read: (db) => db.user.findMany({ orderBy: { id: "asc" } }) },
  { name: "findMany with no args", read: (db) => db.auditLog.findMany() },
  {
    name: "findMany including every relation shape",
    read: (db) =>
      db.user.findMany({
        orderBy: { id: "asc" },
        include: {
          profile: true,
          invitedBy: { select: { email: true } },
          invitees: { orderBy: { id: "asc" } },
          posts: { orderBy: { id: "asc" }, include: { categories: { orderBy: { id: "asc" } }, tags: { orderBy: { tagId: "asc" }, include: { tag: true } } } },
          comments: { orderBy: { id: "asc" } },
          _count: true,
        },
      }),
  },
  { name: "findMany with a none relation filter", read: (db) => db.user.findMany({ where: { posts: { none: {} } }, orderBy: { id: "asc" } }) },
  { name: "findMany with an every relation filter", read: (db) => db.user.findMany({ where: { posts: { every: { published: true } } }, orderBy: { id: "asc" } }) },
  {
    name: "findMany with an implicit m-n filter through a self relation",
    read: (db) => db.post.findMany({ where: { categories: { some: { parent: { is: { name: "tech" } } } } }, orderBy: { id: "asc" } }),
  },
  { name: "findMany with a self relation filter", read: (db) => db.user.findMany({ where: { invitedBy: { email: "alice@example.com" } }, orderBy: { id: "asc" } }) },
  {
    name: "findMany with OR, NOT and a nested relation filter",
    read: (db) =>
      db.comment.findMany({
        where: { OR: [{ author: { name: "Bob" } }, { post: { author: { is: { name: "Bob" } } } }], NOT: { body: { contains: "spam" } } },
        orderBy: { id: "asc" },
      }),
  },
  { name: "findMany with cursor, skip and take", read: (db, s) => db.post.findMany({ cursor: { id: s.p2 }, skip: 1, take: 2, orderBy: { id: "asc" } }) },
  { name: "findMany with distinct", read: (db) => db.post.findMany({ distinct: ["published"], orderBy: [{ published: "asc" }, { id: "asc" }], select: { published: true } }) },
  {
    name: "findMany selecting a relation _count",
    read: (db) => db.category.findMany({ orderBy: { id: "asc" }, select: { name: true, _count: { select: { posts: true, children: true } } } }),
  },
  // count
  { name: "count of every row", read: (db) => db.post.count() },
  { name: "count with a where", read: (db) => db.post.count({ where: { published: true } }) },
  { name: "count with a relation filter", read: (db) => db.user.count({ where: { comments: { some: { post: { slug: "p1" } } } } }) },
  { name: "count of fields", read: (db) => db.user.count({ select: { _all: true, name: true, invitedById: true } }) },
  { name: "count with take", read: (db) => db.post.count({ orderBy: { id: "asc" }, take: 2 }) },
  // aggregate
  {
    name: "aggregate with every aggregation",
    read: (db) =>
      db.post.aggregate({
        _count: { _all: true, authorId: true },
        _sum: { views: true },
        _avg: { views: true },
        _min: { title: true, views: true },
        _max: { slug: true, views: true },
      }),
  },
  { name: "aggregate with a relation filter", read: (db) => db.post.aggregate({ where: { author: { is: { email: "alice@example.com" } } }, _sum: { views: true } }) },
  { name: "aggregate of a BigInt id", read: (db) => db.comment.aggregate({ _max: { id: true }, _min: { id: true }, _count: true }) },
  { name: "aggregate with orderBy and take", read: (db) => db.post.aggregate({ orderBy: { views: "desc" }, take: 2, _avg: { views: true } }) },
  // groupBy
  {
    name: "groupBy a boolean",
    read: (db) => db.post.groupBy({ by: ["published"], _count: { _all: true }, _sum: { views: true }, orderBy: { published: "asc" } }),
  },
  {
    name: "groupBy with having and a relation filter",
    read: (db) =>
      db.post.groupBy({ by: ["authorId"], where: { author: { isNot: null } }, having: { views: { _sum: { gt: 0 } } }, _max: { views: true }, orderBy: { authorId: "asc" } }),
  },
  { name: "groupBy an enum", read: (db) => db.user.groupBy({ by: ["role"], _count: { _all: true }, orderBy: { role: "asc" } }) },
  { name: "groupBy a foreign key of BigInt rows", read: (db) => db.comment.groupBy({ by: ["postId"], _count: { id: true }, _max: { id: true }, orderBy: { postId: "asc" } }) },
];

const OPERATIONS = ["findUnique", "findUniqueOrThrow", "findFirst", "findFirstOrThrow", "findMany", "count", "aggregate", "groupBy"];

/**
 * Samples of every scalar type, including the edges Postgres stores (NaN, ±Infinity, 30-digit decimals). Not -0:
 * Prisma itself writes it as 0. Created one by one: createMany writes -Infinity as Infinity.
 */
const SAMPLES: Prisma.SampleCreateInput[] = [
  {
    id: "s1",
    text: "plain",
    int: 2147483647,
    big: 9223372036854775807n,
    float: Number.NaN,
    decimal: new Prisma.Decimal("12345678901234567890.1234567891"),
    flag: true,
    at: new Date("2024-02-29T23:59:59.999Z"),
    // Json that looks like the encodings of other types must come back as the same Json.
    json: {
      nested: { list: [1, "two", null, true] },
      date: "2024-01-01T00:00:00.000Z",
      big: "9007199254740993",
      $type: "BigInt",
      value: "1",
      "": "",
      // An own "__proto__" key, as JSON.parse makes it (an object literal would set the prototype instead).
      own: JSON.parse('{"__proto__": {"polluted": true}}') as Prisma.InputJsonObject,
    },
    maybeJson: Prisma.DbNull,
    bytes: new Uint8Array([0, 1, 127, 128, 255]),
    role: "ADMIN",
    words: ["a", "", "ünïcødé ✓", 'with "quotes" and \\'],
    numbers: [0, -1, 2147483647, -2147483648],
    optional: null,
  },
  {
    id: "s2",
    text: "",
    int: -2147483648,
    big: -9223372036854775808n,
    float: Number.POSITIVE_INFINITY,
    decimal: new Prisma.Decimal("-0.0000000001"),
    flag: false,
    at: new Date(1),
    json: [1, "two", null, { deep: [[]] }, []],
    maybeJson: { present: true },
    bytes: new Uint8Array([]),
    role: "USER",
    words: [],
    numbers: [],
    optional: "set",
  },
  {
    id: "s3",
    text: "strings",
    int: 0,
    big: 0n,
    float: Number.NEGATIVE_INFINITY,
    decimal: new Prisma.Decimal("99999999999999999999.9999999999"),
    flag: true,
    at: new Date("1970-01-01T00:00:00.000Z"),
    json: "just a string",
    maybeJson: Prisma.JsonNull,
    bytes: new Uint8Array([255, 255]),
    role: "EDITOR",
    words: ["x"],
    numbers: [7],
    optional: "",
  },
  {
    id: "s4",
    text: "numbers",
    int: 1,
    big: 1n,
    float: 0.1 + 0.2,
    decimal: new Prisma.Decimal("0"),
    flag: false,
    at: new Date("2099-12-31T12:34:56.789Z"),
    json: 42.5,
    maybeJson: 0,
    bytes: new Uint8Array([42]),
    role: "USER",
    words: ["a", "a"],
    numbers: [1, 1],
    optional: null,
  },
  {
    id: "s5",
    text: "json null",
    int: 5,
    big: 5n,
    float: 5e-324,
    decimal: new Prisma.Decimal("0.5"),
    flag: true,
    at: new Date("2000-06-15T08:00:00.001Z"),
    json: Prisma.JsonNull,
    maybeJson: false,
    bytes: new Uint8Array([1, 2, 3]),
    role: "ADMIN",
    words: ["z"],
    numbers: [-5],
    optional: null,
  },
];

/**
 * The runtime type of every leaf, with keys in their order, as text: a hit is compared with the truth by type and
 * key order as well as by value (`toStrictEqual` ignores key order, which JSON output and logs show).
 */
function shapeOf(value: unknown): string {
  return JSON.stringify(typesOf(value), null, 1);
}

function typesOf(value: unknown): unknown {
  if (value === null) return "null";
  if (value instanceof Date) return "Date";
  if (value instanceof Uint8Array) return `Uint8Array:${value.constructor.name}`;
  if (Prisma.Decimal.isDecimal(value)) return value.constructor === Prisma.Decimal ? "Prisma.Decimal" : "another Decimal";
  if (Array.isArray(value)) return value.map(typesOf);
  if (typeof value === "object") return Object.fromEntries(Object.entries(value).map(([key, member]) => [key, typesOf(member)]));
  return typeof value;
}

/** This project's database provider (see vitest.config.ts). */
const provider = inject("provider");

/**
 * The samples this provider can store: MySQL and SQLite have no scalar lists; MySQL's DOUBLE has no NaN or
 * ±Infinity and SQLite's REAL no NaN (it stores NULL), so those floats become finite ones there (±1e300; MariaDB rejects values near DBL_MAX).
 */
const PROVIDER_SAMPLES: Prisma.SampleCreateInput[] = SAMPLES.map((sample) => {
  if (provider === "postgresql") return sample;
  const { words: _words, numbers: _numbers, ...rest } = sample;
  const float = sample.float as number;
  const finite = Number.isNaN(float) ? 1.5 : provider === "mysql" && !Number.isFinite(float) ? Math.sign(float) * 1e300 : float;
  return { ...rest, float: finite };
});

describe.each(STORE_KINDS)("%s store: cached reads", (kind) => {
  let bed: CacheBed;
  let seed: Seed;
  // A store answering late makes the plugin fall back to the database, which these tests would count as a miss:
  // they are about what is cached, so a loaded machine gets time.
  const storeTimeout = { timeoutMs: 2_000 };

  /** The same client without the cache: the truth to compare cached results with. */
  const uncached = () => bed.base.prisma as unknown as CachedClient;

  /** SELECT statements `run` sends to Postgres. */
  async function selectsOf<T>(run: () => PromiseLike<T>): Promise<{ result: T; selects: number }> {
    bed.resetSql();
    const result = await run();
    return { result, selects: bed.selects() };
  }

  /** Runs `read` twice: the first call reads the database, the second is served from the cache with an equal result. */
  async function expectMissThenHit<T>(read: () => PromiseLike<T>): Promise<T> {
    const miss = await selectsOf(read);
    expect(miss.selects, "the first call reads the database").toBeGreaterThanOrEqual(1);
    const hit = await selectsOf(read);
    expect(hit.selects, "the second call is served from the cache").toBe(0);
    expect(hit.result).toStrictEqual(miss.result);
    return hit.result;
  }

  async function expectHit(read: () => PromiseLike<unknown>): Promise<void> {
    expect((await selectsOf(read)).selects, "served from the cache").toBe(0);
  }

  async function expectMiss(read: () => PromiseLike<unknown>): Promise<void> {
    expect((await selectsOf(read)).selects, "read from the database").toBeGreaterThanOrEqual(1);
  }

  beforeAll(async () => {
    bed = await createCacheBed(kind, storeTimeout);
    seed = await seedRows(bed);
  });
  afterAll(() => bed?.close());

  beforeEach(async () => {
    await bed.prisma.$cache.invalidateAll();
    bed.prisma.$cache.resetStats();
    bed.resetSql();
  });
  afterEach(() => {
    expect(bed.prisma.$cache.stats().errors, "no store errors").toBe(0);
  });

  describe("every read operation", () => {
    it("has cases for each of the eight read operations", () => {
      expect(new Set(READ_CASES.map((c) => c.name.split(" ")[0]))).toStrictEqual(new Set(OPERATIONS));
    });

    for (const { name, read } of READ_CASES) {
      it(`${name}: misses, then hits with the same result`, async () => {
        const truth = await read(uncached(), seed);
        const hit = await expectMissThenHit(() => read(bed.prisma, seed));
        expect(hit).toStrictEqual(truth);
        expect(shapeOf(hit)).toBe(shapeOf(truth));
        expect(bed.prisma.$cache.stats()).toMatchObject({ hits: 1, misses: 1, fills: 1 });
      });
    }
  });

  describe("empty results and errors", () => {
    it("caches a findUnique that found nothing", async () => {
      const read = () => bed.prisma.user.findUnique({ where: { email: "nobody@example.com" } });
      expect(await expectMissThenHit(read)).toBeNull();
    });

    it("caches a findFirst that found nothing and an empty findMany", async () => {
      expect(await expectMissThenHit(() => bed.prisma.post.findFirst({ where: { title: "no such title" } }))).toBeNull();
      expect(await expectMissThenHit(() => bed.prisma.post.findMany({ where: { title: "no such title" } }))).toStrictEqual([]);
      expect(await expectMissThenHit(() => bed.prisma.post.count({ where: { title: "no such title" } }))).toBe(0);
    });

    it("does not cache a findUniqueOrThrow that found nothing: it throws P2025 and reads the database each time", async () => {
      const read = () => bed.prisma.user.findUniqueOrThrow({ where: { id: 999_999 } });
      for (let i = 0; i < 2; i++) {
        bed.resetSql();
        await expect(read()).rejects.toMatchObject({ code: "P2025" });
        expect(bed.selects()).toBeGreaterThanOrEqual(1);
      }
      expect(bed.prisma.$cache.stats()).toMatchObject({ hits: 0, fills: 0 });
    });

    it("does not cache a findFirstOrThrow that found nothing: it throws P2025 and reads the database each time", async () => {
      const read = () => bed.prisma.post.findFirstOrThrow({ where: { title: "no such title" } });
      for (let i = 0; i < 2; i++) {
        bed.resetSql();
        await expect(read()).rejects.toMatchObject({ code: "P2025" });
        expect(bed.selects()).toBeGreaterThanOrEqual(1);
      }
      expect(bed.prisma.$cache.stats()).toMatchObject({ hits: 0, fills: 0 });
    });

    it("rejects every concurrent caller of a findUniqueOrThrow miss, and caches nothing", async () => {
      const read = () => bed.prisma.post.findUniqueOrThrow({ where: { slug: "no-such-slug" } });
      const results = await Promise.allSettled([read(), read(), read()]);
      for (const result of results) expect(result).toMatchObject({ status: "rejected", reason: { code: "P2025" } });
      await expect(read()).rejects.toMatchObject({ code: "P2025" });
      expect(bed.prisma.$cache.stats()).toMatchObject({ hits: 0, fills: 0 });
    });

    it("replaces a cached empty result once the row is created through the client", async () => {
      const byEmail = () => bed.prisma.user.findUnique({ where: { email: "late@example.com" } });
      const byTitle = () => bed.prisma.post.findFirst({ where: { title: "Late post" } });
      const byTag = () => bed.prisma.tag.findUnique({ where: { namespace_name: { namespace: "late", name: "tag" } } });
      expect(await expectMissThenHit(byEmail)).toBeNull();
      expect(await expectMissThenHit(byTitle)).toBeNull();
      expect(await expectMissThenHit(byTag)).toBeNull();
      const user = await bed.prisma.user.create({ data: { email: "late@example.com" } });
      const post = await bed.prisma.post.create({ data: { title: "Late post", slug: "late-post" } });
      const tag = await bed.prisma.tag.create({ data: { namespace: "late", name: "tag" } });
      expect(await byEmail()).toStrictEqual(user);
      expect(await byTitle()).toStrictEqual(post);
      expect(await byTag()).toStrictEqual(tag);
      await bed.base.prisma.post.delete({ where: { id: post.id } });
      await bed.base.prisma.tag.delete({ where: { id: tag.id } });
      await bed.base.prisma.user.delete({ where: { id: user.id } });
    });

    it("finds a row with findUniqueOrThrow once it exists, although the same lookup threw before", async () => {
      const read = () => bed.prisma.auditLog.findUniqueOrThrow({ where: { id: 4242 } });
      await expect(read()).rejects.toMatchObject({ code: "P2025" });
      await bed.base.prisma.auditLog.create({ data: { id: 4242, action: "late" } });
      expect(await read()).toMatchObject({ id: 4242, action: "late" });
    });
  });

  describe("scalar types", () => {
    it("returns every sample from the cache exactly as the database returned it, with the same runtime types", async () => {
      const truth = await bed.base.prisma.sample.findMany({ orderBy: { id: "asc" } });
      expect(truth).toHaveLength(PROVIDER_SAMPLES.length);
      const hit = await expectMissThenHit(() => bed.prisma.sample.findMany({ orderBy: { id: "asc" } }));
      expect(hit).toStrictEqual(truth);
      expect(shapeOf(hit)).toBe(shapeOf(truth));
      for (const [i, row] of hit.entries()) {
        const expected = truth[i]!;
        expect(row.at).toBeInstanceOf(Date);
        expect(row.at.getTime()).toBe(expected.at.getTime());
        expect(typeof row.big).toBe("bigint");
        expect(Prisma.Decimal.isDecimal(row.decimal)).toBe(true);
        expect(row.decimal.constructor).toBe(expected.decimal.constructor);
        expect(row.decimal.toFixed(10)).toBe(expected.decimal.toFixed(10));
        expect(row.bytes).toBeInstanceOf(Uint8Array);
        expect(row.bytes.constructor).toBe(expected.bytes.constructor);
        expect(Object.is(row.float, expected.float)).toBe(true);
      }
    });

    it.runIf(provider === "postgresql")("keeps the values Postgres can store at the edges", async () => {
      const rows = await expectMissThenHit(() =>
        bed.prisma.sample.findMany({ orderBy: { id: "asc" }, select: { id: true, float: true, decimal: true, big: true, json: true, maybeJson: true } }),
      );
      const byId = Object.fromEntries(rows.map((row) => [row.id, row]));
      expect(byId.s1!.float).toBeNaN();
      expect(byId.s2!.float).toBe(Number.POSITIVE_INFINITY);
      expect(byId.s3!.float).toBe(Number.NEGATIVE_INFINITY);
      expect(byId.s4!.float).toBe(0.30000000000000004);
      expect(byId.s5!.float).toBe(5e-324);
      expect(byId.s1!.decimal.toFixed(10)).toBe("12345678901234567890.1234567891");
      expect(byId.s2!.decimal.toFixed(10)).toBe("-0.0000000001");
      expect(byId.s1!.big).toBe(9223372036854775807n);
      expect(byId.s2!.big).toBe(-9223372036854775808n);
      expect(byId.s1!.json).toStrictEqual(SAMPLES[0]!.json);
      expect(byId.s3!.json).toBe("just a string");
      expect(byId.s4!.json).toBe(42.5);
      expect(byId.s5!.json).toBeNull();
      expect(byId.s1!.maybeJson).toBeNull();
      expect(byId.s4!.maybeJson).toBe(0);
      expect(byId.s5!.maybeJson).toBe(false);
    });

    it("returns a single sample by id, and selected scalar lists, unchanged from the cache", async () => {
      for (const id of ["s1", "s2", "s3", "s4", "s5"]) {
        const truth = await bed.base.prisma.sample.findUniqueOrThrow({ where: { id } });
        const hit = await expectMissThenHit(() => bed.prisma.sample.findUnique({ where: { id } }));
        expect(hit).toStrictEqual(truth);
        expect(shapeOf(hit)).toBe(shapeOf(truth));
      }
      if (provider !== "postgresql") return; // scalar lists are Postgres-only
      const truth = await bed.base.prisma.sample.findMany({ where: { words: { has: "a" } }, select: { words: true, numbers: true, optional: true }, orderBy: { id: "asc" } });
      expect(
        await expectMissThenHit(() =>
          bed.prisma.sample.findMany({ where: { words: { has: "a" } }, select: { words: true, numbers: true, optional: true }, orderBy: { id: "asc" } }),
        ),
      ).toStrictEqual(truth);
    });

    /**
     * Samples whose BigInt sum fits: Postgres sums BIGINT as NUMERIC, SQLite's SUM fails with "integer overflow"
     * past 2^63, so there the extremes (s1, s2) stay out of sums.
     */
    const summable = provider === "sqlite" ? { id: { notIn: ["s1", "s2"] } } : { id: { not: "s2" } };

    it("returns Decimal, BigInt and DateTime aggregates with their types", async () => {
      const args = {
        _sum: { decimal: true, big: true, int: true },
        _avg: { decimal: true, big: true, int: true },
        _min: { decimal: true, big: true, at: true, text: true },
        _max: { decimal: true, big: true, at: true, float: true },
        _count: { _all: true, maybeJson: true, optional: true },
      } as const;
      const truth = await bed.base.prisma.sample.aggregate({ ...args, where: summable });
      const hit = await expectMissThenHit(() => bed.prisma.sample.aggregate({ ...args, where: summable }));
      expect(hit).toStrictEqual(truth);
      expect(shapeOf(hit)).toBe(shapeOf(truth));
      expect(Prisma.Decimal.isDecimal(hit._sum.decimal)).toBe(true);
      expect(hit._sum.decimal!.constructor).toBe(truth._sum.decimal!.constructor);
      expect(Prisma.Decimal.isDecimal(hit._avg.decimal)).toBe(true);
      expect(typeof hit._sum.big).toBe("bigint");
      expect(hit._min.at).toBeInstanceOf(Date);
    });

    it("returns groupBy results with Decimal and BigInt aggregates and their types", async () => {
      const truth = await bed.base.prisma.sample.groupBy({
        where: summable,
        by: ["role", "flag"],
        _sum: { decimal: true, big: true },
        _avg: { decimal: true },
        _min: { at: true },
        _count: { _all: true },
        orderBy: [{ role: "asc" }, { flag: "asc" }],
      });
      const hit = await expectMissThenHit(() =>
        bed.prisma.sample.groupBy({
          where: summable,
          by: ["role", "flag"],
          _sum: { decimal: true, big: true },
          _avg: { decimal: true },
          _min: { at: true },
          _count: { _all: true },
          orderBy: [{ role: "asc" }, { flag: "asc" }],
        }),
      );
      expect(hit).toStrictEqual(truth);
      expect(shapeOf(hit)).toBe(shapeOf(truth));
      for (const group of hit) {
        expect(Prisma.Decimal.isDecimal(group._sum.decimal)).toBe(true);
        expect(typeof group._sum.big).toBe("bigint");
        expect(group._min.at).toBeInstanceOf(Date);
      }
    });
  });

  describe("results are the caller's own", () => {
    const readAlice = () => bed.prisma.user.findUniqueOrThrow({ where: { id: seed.alice }, include: { posts: { orderBy: { id: "asc" } }, profile: true } });

    function vandalize(user: Awaited<ReturnType<typeof readAlice>>): void {
      user.name = "vandalized";
      user.createdAt.setTime(0);
      user.posts[0]!.title = "vandalized";
      user.posts.push({ ...user.posts[0]!, id: -1 });
      user.profile = null;
    }

    it("keeps a result mutated after a miss out of the cache", async () => {
      const truth = await uncached().user.findUniqueOrThrow({ where: { id: seed.alice }, include: { posts: { orderBy: { id: "asc" } }, profile: true } });
      const miss = await selectsOf(readAlice);
      expect(miss.selects).toBeGreaterThanOrEqual(1);
      vandalize(miss.result);
      const hit = await selectsOf(readAlice);
      expect(hit.selects).toBe(0);
      expect(hit.result).toStrictEqual(truth);
    });

    it("keeps a result mutated after a hit out of the cache", async () => {
      const truth = await uncached().user.findUniqueOrThrow({ where: { id: seed.alice }, include: { posts: { orderBy: { id: "asc" } }, profile: true } });
      await readAlice();
      const first = await selectsOf(readAlice);
      expect(first.selects).toBe(0);
      vandalize(first.result);
      const second = await selectsOf(readAlice);
      expect(second.selects).toBe(0);
      expect(second.result).toStrictEqual(truth);
      expect(second.result).not.toBe(first.result);
    });

    it("gives concurrent callers of one miss their own copies", async () => {
      const truth = await uncached().user.findUniqueOrThrow({ where: { id: seed.alice }, include: { posts: { orderBy: { id: "asc" } }, profile: true } });
      bed.resetSql();
      const [a, b] = await Promise.all([readAlice(), readAlice()]);
      expect(a).not.toBe(b);
      vandalize(a);
      expect(b).toStrictEqual(truth);
      expect(await readAlice()).toStrictEqual(truth);
    });

    it("keeps mutated Bytes, Json and scalar lists out of the cache", async () => {
      const read = () => bed.prisma.sample.findUniqueOrThrow({ where: { id: "s1" } });
      const truth = await bed.base.prisma.sample.findUniqueOrThrow({ where: { id: "s1" } });
      for (let i = 0; i < 2; i++) {
        const result = await read();
        result.bytes[0] = 99;
        if (provider === "postgresql") {
          result.words.push("extra");
          result.numbers[0] = 123;
        }
        (result.json as Record<string, unknown>).nested = "changed";
        result.at.setFullYear(1999);
      }
      const again = await selectsOf(read);
      expect(again.selects).toBe(0);
      expect(again.result).toStrictEqual(truth);
    });
  });

  describe("cache keys", () => {
    it("ignores the order of keys in the args", async () => {
      await expectMiss(() => bed.prisma.user.findUnique({ where: { id: seed.bob }, select: { id: true, email: true, posts: { where: { published: true, views: { gte: 0 } } } } }));
      // Arguments and filters in another order: one entry. A selection's order is the order of the result's fields,
      // so it stays part of the key (issue 8, item 10; test/integration/keys.test.ts).
      await expectHit(() => bed.prisma.user.findUnique({ select: { id: true, email: true, posts: { where: { views: { gte: 0 }, published: true } } }, where: { id: seed.bob } }));
      await expectMiss(() => bed.prisma.user.findUnique({ where: { id: seed.bob }, select: { email: true, id: true, posts: { where: { published: true, views: { gte: 0 } } } } }));
    });

    it("serves a repeated read that reuses the same args object from the cache", async () => {
      // The plugin marks args it passes down (so its own layers let them through): it must mark a copy, or the
      // caller's object would skip the cache from then on. A later extension makes the plugin run twice per call.
      const client = bed.cached(storeTimeout).prisma.$extends({ name: "later", query: {} });
      const args = { where: { id: seed.alice } };
      const miss = await selectsOf(() => client.user.findUnique(args));
      const hit = await selectsOf(() => client.user.findUnique(args));
      expect([miss.selects, hit.selects]).toStrictEqual([1, 0]);
      expect(hit.result).toStrictEqual(miss.result);
    });

    it("ignores members that are undefined", async () => {
      await expectMiss(() => bed.prisma.post.findMany({ where: { published: true }, orderBy: { id: "asc" } }));
      await expectHit(() => bed.prisma.post.findMany({ where: { published: true, title: undefined }, orderBy: { id: "asc" }, take: undefined }));
    });

    it("keeps different args in different entries", async () => {
      const byId = (id: number) => () => bed.prisma.user.findUnique({ where: { id } });
      await expectMiss(byId(seed.alice));
      await expectMiss(byId(seed.bob));
      const alice = await selectsOf(byId(seed.alice));
      const bob = await selectsOf(byId(seed.bob));
      expect([alice.selects, bob.selects]).toStrictEqual([0, 0]);
      expect(alice.result?.id).toBe(seed.alice);
      expect(bob.result?.id).toBe(seed.bob);

      await expectMiss(() => bed.prisma.user.findUnique({ where: { id: seed.alice }, select: { email: true } }));
      await expectMiss(() => bed.prisma.user.findMany({ where: { id: seed.alice } }));
      await expectMiss(() => bed.prisma.user.findFirst({ where: { id: seed.alice } }));
      await expectMiss(() => bed.prisma.user.findMany({ where: { id: seed.alice }, take: 1 }));
      await expectMiss(() => bed.prisma.post.findMany({ where: { id: seed.alice } }));
      expect(await bed.prisma.user.findUnique({ where: { id: seed.alice }, select: { email: true } })).toStrictEqual({ email: "alice@example.com" });
    });

    it("tells Prisma's null markers apart in Json filters", async () => {
      const filters = [Prisma.DbNull, Prisma.JsonNull, Prisma.AnyNull] as const;
      for (const marker of filters) {
        const truth = await bed.base.prisma.sample.findMany({ where: { maybeJson: { equals: marker } }, select: { id: true }, orderBy: { id: "asc" } });
        const cached = await bed.prisma.sample.findMany({ where: { maybeJson: { equals: marker } }, select: { id: true }, orderBy: { id: "asc" } });
        expect(cached, `filter on ${String(marker)}`).toStrictEqual(truth);
      }
      expect(bed.prisma.$cache.stats()).toMatchObject({ misses: 3, hits: 0 });
    });

    it("tells a number and a string with the same text apart in args", async () => {
      const asNumber = () => bed.prisma.sample.findMany({ where: { json: { equals: 42.5 } }, select: { id: true } });
      const asString = () => bed.prisma.sample.findMany({ where: { json: { equals: "42.5" } }, select: { id: true } });
      expect(await expectMissThenHit(asNumber)).toStrictEqual([{ id: "s4" }]);
      expect((await selectsOf(asString)).result).toStrictEqual([]);
      expect(await asNumber()).toStrictEqual([{ id: "s4" }]);
      expect(await asString()).toStrictEqual([]);
    });

    it("does not make cacheStrategy part of the key", async () => {
      const read = (cacheStrategy?: { ttl: number }) => () => bed.prisma.tag.findMany({ orderBy: { id: "asc" }, cacheStrategy });
      await expectMiss(read({ ttl: 30 }));
      await expectHit(read({ ttl: 60 }));
      await expectHit(read());
    });
  });

  describe("bypassing the cache", () => {
    it("neither looks up nor fills on cacheStrategy: false", async () => {
      const read = (cacheStrategy?: false) => () => bed.prisma.category.findMany({ orderBy: { id: "asc" }, cacheStrategy });
      await expectMiss(read(false));
      await expectMiss(read()); // the bypass did not fill
      await expectHit(read());
      await expectMiss(read(false)); // the bypass did not look up the entry that exists
      await expectHit(read()); // nor remove it
      expect(bed.prisma.$cache.stats()).toMatchObject({ bypasses: 2, misses: 1, hits: 2, fills: 1 });
    });

    it("never caches a model configured false, even when a call asks for it", async () => {
      const client = bed.cached({ ...storeTimeout, models: { AuditLog: false } }).prisma;
      for (let i = 0; i < 2; i++) {
        await expectMiss(() => client.auditLog.findMany({ orderBy: { id: "asc" }, cacheStrategy: { ttl: 60 } }));
        await expectMiss(() => client.auditLog.count());
      }
      await expectMissThenHit(() => client.user.count());
      expect(client.$cache.stats()).toMatchObject({ bypasses: 4, hits: 1, misses: 1, fills: 1 });
      expect(client.$cache.stats().byModel.AuditLog ?? { hits: 0, misses: 0 }).toStrictEqual({ hits: 0, misses: 0 });
    });

    it("with a global ttl of 0, caches only calls that pass a cacheStrategy", async () => {
      const client = bed.cached({ ...storeTimeout, ttl: 0 }).prisma;
      await expectMiss(() => client.post.findMany({ orderBy: { id: "asc" } }));
      await expectMiss(() => client.post.findMany({ orderBy: { id: "asc" } }));
      await expectMissThenHit(() => client.post.findMany({ orderBy: { id: "asc" }, cacheStrategy: { ttl: 60 } }));
      await expectMissThenHit(() => client.post.count({ cacheStrategy: { ttl: 60 } }));
      // Without a ttl of its own the call is refused, not cached for a guessed lifetime (issue 8, item 11).
      await expect(client.post.count({ cacheStrategy: { tags: ["t"] } })).rejects.toMatchObject({ field: "cacheStrategy.ttl" });
      await expectMiss(() => client.tag.count({ cacheStrategy: { ttl: 0 } }));
      await expectMiss(() => client.tag.count({ cacheStrategy: { ttl: 0 } }));
      expect(client.$cache.stats()).toMatchObject({ bypasses: 4, hits: 2, misses: 2, fills: 2 });
    });

    it("counts hits, misses, fills and bypasses, in total and per model", async () => {
      const user = () => bed.prisma.user.findUnique({ where: { id: seed.carol } });
      await user();
      await user();
      await user();
      await bed.prisma.post.findMany({ where: { published: false } });
      await bed.prisma.post.findMany({ where: { published: false }, cacheStrategy: false });
      await bed.prisma.comment.count();
      // Fills are counted when the store answers them, after their reads returned.
      await bed.prisma.$cache.settled();
      const stats = bed.prisma.$cache.stats();
      expect(stats).toMatchObject({ hits: 2, misses: 3, stale: 0, fills: 3, fillsRefused: 0, oversize: 0, bypasses: 1, invalidations: 0, errors: 0 });
      expect(stats.byModel).toStrictEqual({ User: { hits: 2, misses: 1 }, Post: { hits: 0, misses: 1 }, Comment: { hits: 0, misses: 1 } });
      bed.prisma.$cache.resetStats();
      expect(bed.prisma.$cache.stats()).toMatchObject({ hits: 0, misses: 0, fills: 0, bypasses: 0, byModel: {} });
    });
  });

  describe("expiry", () => {
    it("expires an entry after its ttl", async () => {
      // Without refresh-ahead: near expiry a hit may start a background reload, whose SELECT the counter would count.
      const { prisma } = bed.cached({ earlyRefresh: 0 });
      const read = () => prisma.profile.findMany({ cacheStrategy: { ttl: 1 } });
      await expectMissThenHit(read);
      await waitFor(
        async () => {
          expect((await selectsOf(read)).selects, "the entry has expired").toBeGreaterThanOrEqual(1);
        },
        "the entry has expired",
        3_000,
        20,
      );
      await expectHit(read); // the read after expiry filled it again
    });
  });

  describe("invalidation by tag and model", () => {
    it("drops tagged entries and keeps untagged ones on invalidate({ tags })", async () => {
      const tagged = () => bed.prisma.post.findMany({ where: { published: true }, orderBy: { id: "asc" }, cacheStrategy: { tags: ["feed"] } });
      const otherTag = () => bed.prisma.post.count({ cacheStrategy: { tags: ["other"] } });
      const untagged = () => bed.prisma.post.findMany({ where: { published: false }, orderBy: { id: "asc" } });
      for (const read of [tagged, otherTag, untagged] as Read[]) await expectMissThenHit(read);
      await bed.prisma.$cache.invalidate({ tags: ["feed"] });
      await expectMiss(tagged);
      await expectHit(tagged);
      await expectHit(otherTag);
      await expectHit(untagged);
    });

    it("drops reads of a model and reads that reach it on invalidate({ models })", async () => {
      const reads: Record<string, Read> = {
        posts: () => bed.prisma.post.findMany({ orderBy: { id: "asc" } }),
        post: () => bed.prisma.post.findUnique({ where: { id: seed.p1 } }),
        usersWithPosts: () => bed.prisma.user.findMany({ orderBy: { id: "asc" }, include: { posts: true } }),
        postCounts: () => bed.prisma.user.findUnique({ where: { id: seed.alice }, select: { _count: { select: { posts: true } } } }),
        userFilteredByPosts: () => bed.prisma.user.count({ where: { posts: { some: { published: true } } } }),
        tags: () => bed.prisma.tag.findMany({ orderBy: { id: "asc" } }),
        user: () => bed.prisma.user.findUnique({ where: { id: seed.alice } }),
      };
      for (const read of Object.values(reads)) await expectMissThenHit(read);
      await bed.prisma.$cache.invalidate({ models: ["Post"] });
      for (const name of ["posts", "post", "usersWithPosts", "postCounts", "userFilteredByPosts"]) await expectMiss(reads[name]!);
      await expectHit(reads.tags!);
      await expectHit(reads.user!);
    });

    it("drops everything on invalidateAll()", async () => {
      const reads: Read[] = [
        () => bed.prisma.tag.findMany({ orderBy: { id: "asc" }, cacheStrategy: { tags: ["t"] } }),
        () => bed.prisma.user.findUnique({ where: { id: seed.dave } }),
        () => bed.prisma.sample.aggregate({ _max: { int: true } }),
      ];
      for (const read of reads) await expectMissThenHit(read);
      await bed.prisma.$cache.invalidateAll();
      for (const read of reads) await expectMiss(read);
      for (const read of reads) await expectHit(read);
    });
  });

  describe("transactions", () => {
    it("reads inside a batch $transaction from the database, without using or filling the cache", async () => {
      const cachedRead = () => bed.prisma.user.findUnique({ where: { id: seed.bob } });
      const freshRead = () => bed.prisma.category.count();
      const cachedTruth = await expectMissThenHit(cachedRead);
      const freshTruth = await uncached().category.count();
      const statsBefore = bed.prisma.$cache.stats();

      const batch = await selectsOf(() => bed.prisma.$transaction([cachedRead(), freshRead()]));
      expect(batch.result).toStrictEqual([cachedTruth, freshTruth]);
      expect(batch.selects, "both reads of the batch reached the database").toBeGreaterThanOrEqual(2);
      expect(bed.prisma.$cache.stats()).toMatchObject({ hits: statsBefore.hits, fills: statsBefore.fills });

      const alone = await selectsOf(() => bed.prisma.$transaction([cachedRead()]));
      expect(alone.result).toStrictEqual([cachedTruth]);
      expect(alone.selects, "a cached entry is not used inside the batch").toBe(1);

      const withStrategy = await selectsOf(() => bed.prisma.$transaction([bed.prisma.user.findUnique({ where: { id: seed.bob }, cacheStrategy: { ttl: 60 } })]));
      expect(withStrategy.result).toStrictEqual([cachedTruth]);
      expect(withStrategy.selects).toBe(1);

      await expectMiss(freshRead); // the batch did not fill it
      await expectHit(cachedRead); // nor drop the entry that was there
    });

    it("reads an interactive transaction's own uncommitted write and keeps it out of the cache after a rollback", async () => {
      const outside = () => bed.prisma.user.findUniqueOrThrow({ where: { id: seed.dave } });
      const committed = await expectMissThenHit(outside);
      const rollback = new Error("roll back");

      await expect(
        bed.prisma.$transaction(async (tx) => {
          await tx.user.update({ where: { id: seed.dave }, data: { name: "Uncommitted" } });
          for (let i = 0; i < 2; i++) {
            const inside = await selectsOf(() => tx.user.findUniqueOrThrow({ where: { id: seed.dave } }));
            expect(inside.result.name).toBe("Uncommitted");
            expect(inside.selects, "a read inside the transaction reads the database").toBe(1);
          }
          const list = await tx.user.findMany({ where: { name: "Uncommitted" } });
          expect(list.map((user) => user.id)).toStrictEqual([seed.dave]);
          // Meanwhile, outside the transaction, the committed row is still what others see.
          expect((await outside()).name).toBe(committed.name);
          throw rollback;
        }),
      ).rejects.toBe(rollback);

      expect(await outside()).toStrictEqual(committed);
      expect(await uncached().user.findUniqueOrThrow({ where: { id: seed.dave } })).toStrictEqual(committed);
      await expectHit(outside);
      expect(await outside()).toStrictEqual(committed);
      expect(await bed.prisma.user.findMany({ where: { name: "Uncommitted" } })).toStrictEqual([]);
    });

    it("does not fill the cache from reads inside an interactive transaction", async () => {
      const read = (db: Pick<CachedClient, "tag">) => db.tag.findMany({ where: { namespace: "topic" }, orderBy: { id: "asc" } });
      const inside = await bed.prisma.$transaction(async (tx) => {
        await read(tx);
        return read(tx);
      });
      expect(inside).toStrictEqual(await read(uncached()));
      expect(bed.prisma.$cache.stats()).toMatchObject({ bypasses: 2, fills: 0, hits: 0 });
      await expectMiss(() => read(bed.prisma));
      await expectHit(() => read(bed.prisma));
    });

    it("serves the committed value after an interactive transaction commits a write", async () => {
      const read = () => bed.prisma.profile.findUniqueOrThrow({ where: { id: seed.profile } });
      const before = await expectMissThenHit(read);
      await bed.prisma.$transaction(async (tx) => {
        await tx.profile.update({ where: { id: seed.profile }, data: { bio: `${before.bio} (edited)` } });
      });
      expect((await read()).bio).toBe(`${before.bio} (edited)`);
      await bed.base.prisma.profile.update({ where: { id: seed.profile }, data: { bio: before.bio } });
    });
  });

  describe("fluent relation API", () => {
    it("returns a relation through findUnique(...).posts(), from the database", async () => {
      const truth = await bed.base.prisma.user.findUnique({ where: { id: seed.alice } }).posts({ orderBy: { id: "asc" } });
      expect(truth).toHaveLength(2);
      for (let i = 0; i < 2; i++) {
        const posts = await selectsOf(() => bed.prisma.user.findUnique({ where: { id: seed.alice } }).posts({ orderBy: { id: "asc" } }));
        expect(posts.result).toStrictEqual(truth);
        expect(posts.selects, "the fluent read bypasses the cache").toBeGreaterThanOrEqual(1);
      }
      const withStrategy = await bed.prisma.user.findUnique({ where: { id: seed.alice }, cacheStrategy: { ttl: 60 } }).posts({ orderBy: { id: "asc" } });
      expect(withStrategy).toStrictEqual(truth);
      const profile = await bed.prisma.user.findUniqueOrThrow({ where: { id: seed.alice } }).profile();
      expect(profile).toStrictEqual(await bed.base.prisma.user.findUniqueOrThrow({ where: { id: seed.alice } }).profile());
      // Chained through a to-one relation, and from findFirst.
      const chained = await bed.prisma.profile
        .findUniqueOrThrow({ where: { userId: seed.alice } })
        .user()
        .posts({ orderBy: { id: "asc" } });
      expect(chained).toStrictEqual(truth);
      const author = await bed.prisma.post.findFirst({ where: { id: seed.p1 } }).author({ select: { email: true } });
      expect(author).toStrictEqual(await bed.base.prisma.post.findFirst({ where: { id: seed.p1 } }).author({ select: { email: true } }));
    });
  });

  describe("extensions added after the cache", () => {
    it("caches reads of a client extended with a query extension after the plugin, reading the database once per miss", async () => {
      // Query hooks added after the plugin do not see cached reads (see cachePlugin's doc comment): a pass-through
      // hook must not make a miss read the database twice, nor stop hits.
      const client = bed
        .cached(storeTimeout)
        .prisma.$extends({ name: "later", query: {} })
        .$extends({ name: "pass-through", query: { user: { findMany: ({ args, query }) => query(args) } } });
      const read = () => client.user.findMany({ where: { role: "USER" }, orderBy: { id: "asc" } });
      const truth = await uncached().user.findMany({ where: { role: "USER" }, orderBy: { id: "asc" } });
      const miss = await selectsOf(read);
      expect(miss.selects, "one database read on a miss").toBe(1);
      expect(miss.result).toStrictEqual(truth);
      const hit = await selectsOf(read);
      expect(hit.selects).toBe(0);
      expect(hit.result).toStrictEqual(truth);
      expect(client.$cache.stats()).toMatchObject({ misses: 1, hits: 1, fills: 1 });
    });

    it("caches reads made by a model method added after the plugin", async () => {
      const client = bed.cached(storeTimeout).prisma.$extends({
        name: "later",
        model: {
          user: {
            byEmail(email: string) {
              return Prisma.getExtensionContext(this).findUnique({ where: { email }, include: { profile: true } });
            },
          },
        },
      });
      const truth = await selectsOf(() => uncached().user.findUnique({ where: { email: "alice@example.com" }, include: { profile: true } }));
      const miss = await selectsOf(() => client.user.byEmail("alice@example.com"));
      expect(miss.selects, "the same statements as one uncached read").toBe(truth.selects);
      expect(miss.result).toStrictEqual(truth.result);
      const hit = await selectsOf(() => client.user.byEmail("alice@example.com"));
      expect(hit.selects).toBe(0);
      expect(hit.result).toStrictEqual(truth.result);
      await expectHit(() => client.user.findUnique({ where: { email: "alice@example.com" }, include: { profile: true } }));
      expect(client.$cache.stats()).toMatchObject({ misses: 1, hits: 2, fills: 1 });
    });
  });

  describe.runIf(kind === "redis")("Redis keys", () => {
    async function keysMatching(pattern: string): Promise<string[]> {
      const keys: string[] = [];
      let cursor = "0";
      do {
        const [next, batch] = await bed.redis!.scan(cursor, "MATCH", pattern, "COUNT", 1000);
        keys.push(...batch);
        cursor = next;
      } while (cursor !== "0");
      return keys;
    }

    it("stores entries and stamps under the prefix and the schema's fingerprint, each with its own hash tag, and every key expires", async () => {
      const { prisma, prefix } = bed.cached(storeTimeout);
      await prisma.user.findUnique({ where: { id: seed.alice }, include: { posts: true } });
      await expectHit(() => prisma.user.findUnique({ where: { id: seed.alice }, include: { posts: true } }));
      await prisma.post.findMany({ where: { published: true } });
      await prisma.$cache.settled();

      const keys = await keysMatching(`*${prefix}*`);
      // Keys live under the schema's fingerprint (issue 8, item 8), then their own hash tag (docs/cluster.md).
      const ns = `${prefix}:${CACHE_SCHEMAS[bed.provider].fingerprint}:`;
      expect(keys.length).toBeGreaterThan(0);
      for (const key of keys) expect(key.startsWith(ns), `${key} starts with ${ns}`).toBe(true);
      const kindOf = (key: string) => /^\{[0-9a-z]+\}:(e|s):/.exec(key.slice(ns.length))?.[1];
      const entries = keys.filter((key) => kindOf(key) === "e");
      const stamps = keys.filter((key) => kindOf(key) === "s");
      expect(entries.length + stamps.length).toBe(keys.length);
      expect(entries.filter((key) => key.includes("}:e:User:findUnique:"))).toHaveLength(1);
      expect(entries.filter((key) => key.includes("}:e:Post:findMany:"))).toHaveLength(1);
      expect(stamps.length).toBeGreaterThan(0);
      for (const key of keys) {
        const ttl = await bed.redis!.pttl(key);
        expect(ttl, `${key} has a ttl`).toBeGreaterThan(0);
      }
    });

    it("leaves stamps with a ttl after writes and invalidations", async () => {
      const { prisma, prefix } = bed.cached(storeTimeout);
      await prisma.tag.findMany({ cacheStrategy: { tags: ["x"] } });
      await prisma.$cache.invalidate({ tags: ["x"] });
      await prisma.tag.findMany({ cacheStrategy: { tags: ["x"] } });
      await prisma.auditLog.create({ data: { action: "keys" } });
      await prisma.auditLog.findMany();
      const stamps = await keysMatching(`${prefix}:*}:s:*`);
      expect(stamps.length).toBeGreaterThan(0);
      for (const key of stamps) expect(await bed.redis!.pttl(key), `${key} has a ttl`).toBeGreaterThan(0);
    });
  });
});

/** Users, posts, categories, tags, comments, samples and audit logs with every relation shape filled in. */
async function seedRows(bed: CacheBed): Promise<Seed> {
  const db = bed.base.prisma;
  const alice = await db.user.create({ data: { email: "alice@example.com", name: "Alice", role: "ADMIN", profile: { create: { bio: "graph theory fan" } } } });
  const bob = await db.user.create({ data: { email: "bob@example.com", name: "Bob", role: "EDITOR" } });
  const carol = await db.user.create({ data: { email: "carol@example.com", name: "Carol", invitedById: alice.id } });
  const dave = await db.user.create({ data: { email: "dave@example.com", name: "Dave", invitedById: alice.id } });
  const profile = await db.profile.findUniqueOrThrow({ where: { userId: alice.id } });

  const tech = await db.category.create({ data: { name: "tech" } });
  const ts = await db.category.create({ data: { name: "ts", parentId: tech.id } });
  const cooking = await db.category.create({ data: { name: "cooking" } });

  const dbTag = await db.tag.create({ data: { namespace: "topic", name: "db" } });
  const cacheTag = await db.tag.create({ data: { namespace: "topic", name: "cache" } });
  const langTag = await db.tag.create({ data: { namespace: "lang", name: "ts" } });

  const p1 = await db.post.create({
    data: {
      title: "Caching Prisma",
      slug: "p1",
      published: true,
      views: 120,
      authorId: alice.id,
      categories: { connect: [{ id: tech.id }, { id: ts.id }] },
      tags: { create: [{ tagId: dbTag.id }, { tagId: cacheTag.id }] },
    },
  });
  const p2 = await db.post.create({ data: { title: "Draft", slug: "p2", views: 0, authorId: alice.id } });
  const p3 = await db.post.create({
    data: { title: "Soup", slug: "p3", published: true, views: 30, authorId: bob.id, categories: { connect: [{ id: cooking.id }] }, tags: { create: [{ tagId: langTag.id }] } },
  });
  const p4 = await db.post.create({ data: { title: "Anonymous", slug: "p4", published: true, views: 5 } });

  const c1 = await db.comment.create({ data: { body: "Nice", postId: p1.id, authorId: bob.id } });
  const c2 = await db.comment.create({ data: { body: "spam spam", postId: p1.id, authorId: carol.id } });
  const c3 = await db.comment.create({ data: { body: "Tasty", postId: p3.id, authorId: alice.id } });

  for (const data of PROVIDER_SAMPLES) await db.sample.create({ data });
  await db.auditLog.createMany({ data: [{ action: "seed" }, { action: "check" }] });

  return {
    alice: alice.id,
    bob: bob.id,
    carol: carol.id,
    dave: dave.id,
    profile: profile.id,
    p1: p1.id,
    p2: p2.id,
    p3: p3.id,
    p4: p4.id,
    tech: tech.id,
    ts: ts.id,
    cooking: cooking.id,
    db: dbTag.id,
    cache: cacheTag.id,
    lang: langTag.id,
    c1: c1.id,
    c2: c2.id,
    c3: c3.id,
  };
}
