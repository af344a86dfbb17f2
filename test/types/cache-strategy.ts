/**
 * Type-level tests of the cached client, checked by `npm run typecheck` and never run (no `.test.ts`: vitest does
 * not collect it, and nothing here is called). What they show:
 * - every read of every model accepts `cacheStrategy`, as an object or `false`;
 * - cached reads keep Prisma's result types;
 * - writes reject `cacheStrategy`, and so does a malformed strategy;
 * - the fluent relation API keeps Prisma's types; `models` and `$cache.invalidate` accept only the schema's models.
 * A line marked `@ts-expect-error` fails the typecheck if it ever compiles.
 */
import { cacheSchema } from "../../generated/cache/index.ts";
import type { PrismaClient } from "../../generated/prisma/client.ts";
import { cachePlugin, type CacheStrategy } from "../../src/index.ts";

function withCache(prisma: PrismaClient) {
  return prisma.$extends(cachePlugin({ schema: cacheSchema }));
}

type Cached = ReturnType<typeof withCache>;

/** `true` only when X and Y are the same type (not merely mutually assignable). */
type Equal<X, Y> = (<T>() => T extends X ? 1 : 2) extends <T>() => T extends Y ? 1 : 2 ? true : false;

/** Compiles only when its type argument is `true`. */
function assertType<T extends true>(): T | void {}

type ResultOf<P> = Awaited<P>;

// ---------------------------------------------------------------------------------------------------------------
// cacheStrategy on every read of every model (9 models x 8 reads), as a literal object, a literal false, and a
// variable of the exported CacheStrategy type.

const strategy: CacheStrategy = { ttl: 60, swr: 10, tags: ["feed"] };
const strategies: (CacheStrategy | false)[] = [strategy, false, {}];

function readsAcceptCacheStrategy(db: Cached): void {
  for (const cacheStrategy of strategies) {
    void db.user.findUnique({ where: { id: 1 }, cacheStrategy });
    void db.user.findUniqueOrThrow({ where: { email: "a@x" }, cacheStrategy });
    void db.user.findFirst({ cacheStrategy });
    void db.user.findFirstOrThrow({ where: { name: "a" }, cacheStrategy });
    void db.user.findMany({ include: { posts: true }, cacheStrategy });
    void db.user.count({ cacheStrategy });
    void db.user.aggregate({ _count: true, cacheStrategy });
    void db.user.groupBy({ by: ["role"], _count: { _all: true }, cacheStrategy });

    void db.profile.findUnique({ where: { userId: 1 }, cacheStrategy });
    void db.profile.findUniqueOrThrow({ where: { id: 1 }, cacheStrategy });
    void db.profile.findFirst({ cacheStrategy });
    void db.profile.findFirstOrThrow({ cacheStrategy });
    void db.profile.findMany({ cacheStrategy });
    void db.profile.count({ cacheStrategy });
    void db.profile.aggregate({ _max: { id: true }, cacheStrategy });
    void db.profile.groupBy({ by: ["userId"], cacheStrategy });

    void db.post.findUnique({ where: { slug: "s" }, cacheStrategy });
    void db.post.findUniqueOrThrow({ where: { id: 1 }, cacheStrategy });
    void db.post.findFirst({ where: { author: { is: { name: "a" } } }, cacheStrategy });
    void db.post.findFirstOrThrow({ cacheStrategy });
    void db.post.findMany({ select: { _count: { select: { comments: true } } }, cacheStrategy });
    void db.post.count({ where: { published: true }, cacheStrategy });
    void db.post.aggregate({ _sum: { views: true }, cacheStrategy });
    void db.post.groupBy({ by: ["published"], _avg: { views: true }, cacheStrategy });

    void db.category.findUnique({ where: { name: "c" }, cacheStrategy });
    void db.category.findUniqueOrThrow({ where: { id: 1 }, cacheStrategy });
    void db.category.findFirst({ cacheStrategy });
    void db.category.findFirstOrThrow({ cacheStrategy });
    void db.category.findMany({ include: { children: true }, cacheStrategy });
    void db.category.count({ cacheStrategy });
    void db.category.aggregate({ _count: { _all: true }, cacheStrategy });
    void db.category.groupBy({ by: ["parentId"], cacheStrategy });

    void db.tag.findUnique({ where: { namespace_name: { namespace: "n", name: "t" } }, cacheStrategy });
    void db.tag.findUniqueOrThrow({ where: { id: 1 }, cacheStrategy });
    void db.tag.findFirst({ cacheStrategy });
    void db.tag.findFirstOrThrow({ cacheStrategy });
    void db.tag.findMany({ cacheStrategy });
    void db.tag.count({ cacheStrategy });
    void db.tag.aggregate({ _min: { name: true }, cacheStrategy });
    void db.tag.groupBy({ by: ["namespace"], cacheStrategy });

    void db.postTag.findUnique({ where: { postId_tagId: { postId: 1, tagId: 2 } }, cacheStrategy });
    void db.postTag.findUniqueOrThrow({ where: { postId_tagId: { postId: 1, tagId: 2 } }, cacheStrategy });
    void db.postTag.findFirst({ cacheStrategy });
    void db.postTag.findFirstOrThrow({ cacheStrategy });
    void db.postTag.findMany({ include: { tag: true }, cacheStrategy });
    void db.postTag.count({ cacheStrategy });
    void db.postTag.aggregate({ _max: { assignedAt: true }, cacheStrategy });
    void db.postTag.groupBy({ by: ["tagId"], cacheStrategy });

    void db.comment.findUnique({ where: { id: 1n }, cacheStrategy });
    void db.comment.findUniqueOrThrow({ where: { id: 1n }, cacheStrategy });
    void db.comment.findFirst({ cacheStrategy });
    void db.comment.findFirstOrThrow({ cacheStrategy });
    void db.comment.findMany({ cacheStrategy });
    void db.comment.count({ cacheStrategy });
    void db.comment.aggregate({ _max: { id: true }, cacheStrategy });
    void db.comment.groupBy({ by: ["postId"], cacheStrategy });

    void db.sample.findUnique({ where: { id: "s" }, cacheStrategy });
    void db.sample.findUniqueOrThrow({ where: { id: "s" }, cacheStrategy });
    void db.sample.findFirst({ cacheStrategy });
    void db.sample.findFirstOrThrow({ cacheStrategy });
    void db.sample.findMany({ cacheStrategy });
    void db.sample.count({ cacheStrategy });
    void db.sample.aggregate({ _sum: { decimal: true }, cacheStrategy });
    void db.sample.groupBy({ by: ["role"], cacheStrategy });

    void db.auditLog.findUnique({ where: { id: 1 }, cacheStrategy });
    void db.auditLog.findUniqueOrThrow({ where: { id: 1 }, cacheStrategy });
    void db.auditLog.findFirst({ cacheStrategy });
    void db.auditLog.findFirstOrThrow({ cacheStrategy });
    void db.auditLog.findMany({ cacheStrategy });
    void db.auditLog.count({ cacheStrategy });
    void db.auditLog.aggregate({ _count: true, cacheStrategy });
    void db.auditLog.groupBy({ by: ["action"], cacheStrategy });
  }

  // Literal forms, checked without the help of a declared variable type.
  void db.user.findMany({ cacheStrategy: false });
  void db.user.findMany({ cacheStrategy: { ttl: 0 } });
  void db.user.findMany({ cacheStrategy: { ttl: 1.5, swr: 30 } });
  void db.user.findMany({ cacheStrategy: { tags: ["a", "b"] } });
  void db.user.findMany({ cacheStrategy: {} });
  void db.post.groupBy({ by: ["authorId"], _count: { _all: true }, cacheStrategy: false });
  void db.sample.aggregate({ _avg: { float: true }, cacheStrategy: { ttl: 5 } });
  void db.user.findUnique({ where: { id: 1 }, cacheStrategy: undefined });
}

// ---------------------------------------------------------------------------------------------------------------
// Result types are Prisma's own: with or without cacheStrategy, and the same as the client without the cache.

function resultTypesArePreserved(db: Cached, base: PrismaClient): void {
  const email = db.user.findUnique({ where: { id: 1 }, select: { email: true }, cacheStrategy: { ttl: 5 } });
  assertType<Equal<ResultOf<typeof email>, { email: string } | null>>();

  const emailOrThrow = db.user.findUniqueOrThrow({ where: { id: 1 }, select: { email: true, name: true } });
  assertType<Equal<ResultOf<typeof emailOrThrow>, { email: string; name: string | null }>>();

  const first = db.post.findFirst({ select: { slug: true, author: { select: { id: true } } }, cacheStrategy: false });
  assertType<Equal<ResultOf<typeof first>, { slug: string; author: { id: number } | null } | null>>();

  const firstOrThrow = db.comment.findFirstOrThrow({ select: { id: true } });
  assertType<Equal<ResultOf<typeof firstOrThrow>, { id: bigint }>>();

  const count = db.post.count({ cacheStrategy: { ttl: 1 } });
  assertType<Equal<ResultOf<typeof count>, number>>();

  const fieldCount = db.user.count({ select: { _all: true, name: true } });
  assertType<Equal<ResultOf<typeof fieldCount>, { _all: number; name: number }>>();

  const aggregate = db.post.aggregate({ _sum: { views: true }, cacheStrategy: { tags: ["x"] } });
  assertType<Equal<ResultOf<typeof aggregate>["_sum"]["views"], number | null>>();

  const groups = db.post.groupBy({ by: ["published"], _count: { _all: true }, cacheStrategy: { ttl: 1 } });
  assertType<Equal<ResultOf<typeof groups>[number]["published"], boolean>>();
  assertType<Equal<ResultOf<typeof groups>[number]["_count"], { _all: number }>>();

  // Whole results, including relations and runtime classes, match the uncached client's.
  const cachedMany = db.user.findMany({ include: { posts: { include: { categories: true } }, profile: true, _count: true }, cacheStrategy: { ttl: 1 } });
  const baseMany = base.user.findMany({ include: { posts: { include: { categories: true } }, profile: true, _count: true } });
  assertType<Equal<ResultOf<typeof cachedMany>, ResultOf<typeof baseMany>>>();

  const cachedSample = db.sample.findUniqueOrThrow({ where: { id: "s" }, cacheStrategy: false });
  const baseSample = base.sample.findUniqueOrThrow({ where: { id: "s" } });
  assertType<Equal<ResultOf<typeof cachedSample>, ResultOf<typeof baseSample>>>();

  const cachedAggregate = db.sample.aggregate({ _sum: { decimal: true, big: true }, _min: { at: true } });
  const baseAggregate = base.sample.aggregate({ _sum: { decimal: true, big: true }, _min: { at: true } });
  assertType<Equal<ResultOf<typeof cachedAggregate>, ResultOf<typeof baseAggregate>>>();

  const cachedGroups = db.sample.groupBy({ by: ["role"], _sum: { decimal: true }, cacheStrategy: { ttl: 3 } });
  const baseGroups = base.sample.groupBy({ by: ["role"], _sum: { decimal: true } });
  assertType<Equal<ResultOf<typeof cachedGroups>, ResultOf<typeof baseGroups>>>();

  // The helper itself distinguishes types: a wrong expectation must not compile.
  // @ts-expect-error the result is nullable
  assertType<Equal<ResultOf<typeof email>, { email: string }>>();
}

// ---------------------------------------------------------------------------------------------------------------
// Writes never read the cache, so they reject cacheStrategy. Each line compiles without its cacheStrategy.

function writesRejectCacheStrategy(db: Cached): void {
  // @ts-expect-error writes take no cacheStrategy
  void db.user.create({ data: { email: "a@x" }, cacheStrategy: { ttl: 1 } });
  // @ts-expect-error writes take no cacheStrategy
  void db.user.createMany({ data: [{ email: "a@x" }], cacheStrategy: { ttl: 1 } });
  // @ts-expect-error writes take no cacheStrategy
  void db.user.createManyAndReturn({ data: [{ email: "a@x" }], cacheStrategy: { ttl: 1 } });
  // @ts-expect-error writes take no cacheStrategy
  void db.user.update({ where: { id: 1 }, data: { name: "n" }, cacheStrategy: { ttl: 1 } });
  // @ts-expect-error writes take no cacheStrategy
  void db.user.updateMany({ data: { name: "n" }, cacheStrategy: { ttl: 1 } });
  // @ts-expect-error writes take no cacheStrategy
  void db.user.updateManyAndReturn({ data: { name: "n" }, cacheStrategy: { ttl: 1 } });
  // @ts-expect-error writes take no cacheStrategy
  void db.user.upsert({ where: { id: 1 }, create: { email: "a@x" }, update: {}, cacheStrategy: { ttl: 1 } });
  // @ts-expect-error writes take no cacheStrategy
  void db.user.delete({ where: { id: 1 }, cacheStrategy: { ttl: 1 } });
  // @ts-expect-error writes take no cacheStrategy
  void db.user.deleteMany({ where: { id: 1 }, cacheStrategy: { ttl: 1 } });
  // @ts-expect-error writes take no cacheStrategy, not even false
  void db.post.create({ data: { title: "t", slug: "s" }, cacheStrategy: false });
  // @ts-expect-error writes take no cacheStrategy, not even false
  void db.post.deleteMany({ cacheStrategy: false });

  // The same calls without cacheStrategy compile: the errors above come from cacheStrategy alone.
  void db.user.create({ data: { email: "a@x" } });
  void db.user.createMany({ data: [{ email: "a@x" }] });
  void db.user.createManyAndReturn({ data: [{ email: "a@x" }] });
  void db.user.update({ where: { id: 1 }, data: { name: "n" } });
  void db.user.updateMany({ data: { name: "n" } });
  void db.user.updateManyAndReturn({ data: { name: "n" } });
  void db.user.upsert({ where: { id: 1 }, create: { email: "a@x" }, update: {} });
  void db.user.delete({ where: { id: 1 } });
  void db.user.deleteMany({ where: { id: 1 } });
  void db.post.create({ data: { title: "t", slug: "s" } });
  void db.post.deleteMany();
}

// ---------------------------------------------------------------------------------------------------------------
// A malformed strategy is a type error.

function malformedStrategiesAreRejected(db: Cached): void {
  // @ts-expect-error ttl is a number of seconds, not a string
  void db.user.findMany({ cacheStrategy: { ttl: "1" } });
  // @ts-expect-error swr is a number of seconds
  void db.user.findUnique({ where: { id: 1 }, cacheStrategy: { swr: "10" } });
  // @ts-expect-error tags is an array of strings
  void db.post.count({ cacheStrategy: { tags: "feed" } });
  // @ts-expect-error tags is an array of strings
  void db.post.count({ cacheStrategy: { tags: [1] } });
  // @ts-expect-error unknown key
  void db.user.findMany({ cacheStrategy: { ttl: 1, unknown: true } });
  // @ts-expect-error unknown key
  void db.tag.aggregate({ _count: true, cacheStrategy: { maxAge: 1 } });
  // @ts-expect-error true is not a strategy; false bypasses, an object opts in
  void db.user.findMany({ cacheStrategy: true });
  // @ts-expect-error a number is not a strategy
  void db.user.findFirst({ cacheStrategy: 60 });
  // @ts-expect-error null is not a strategy
  void db.user.findMany({ cacheStrategy: null });
  // @ts-expect-error Accelerate-style misspelling
  void db.user.findMany({ cacheStrategy: { TTL: 60 } });
}

// ---------------------------------------------------------------------------------------------------------------
// The fluent relation API keeps Prisma's types on cached reads (src/read/fluent.ts; at run time see
// test/integration/reads.test.ts, "fluent relation API"): results, nullability along the chain, and the args.

function fluentRelationApiIsTyped(db: Cached, base: PrismaClient): void {
  const posts = db.user.findUnique({ where: { id: 1 } }).posts({ orderBy: { id: "asc" } });
  const basePosts = base.user.findUnique({ where: { id: 1 } }).posts({ orderBy: { id: "asc" } });
  assertType<Equal<ResultOf<typeof posts>, ResultOf<typeof basePosts>>>();

  const profile = db.user.findUniqueOrThrow({ where: { id: 1 }, cacheStrategy: { ttl: 5 } }).profile();
  assertType<Equal<ResultOf<typeof profile>, ResultOf<ReturnType<ReturnType<typeof base.user.findUniqueOrThrow>["profile"]>>>>();

  const selected = db.post.findFirst({ where: { slug: "s" } }).author({ select: { email: true } });
  assertType<Equal<ResultOf<typeof selected>, { email: string } | null>>();

  // Chained through a to-one relation, as Prisma chains it.
  const chained = db.profile
    .findUniqueOrThrow({ where: { id: 1 } })
    .user()
    .posts();
  const baseChained = base.profile
    .findUniqueOrThrow({ where: { id: 1 } })
    .user()
    .posts();
  assertType<Equal<ResultOf<typeof chained>, ResultOf<typeof baseChained>>>();

  // The cached read itself keeps its result type.
  const user = db.user.findFirstOrThrow({ select: { id: true } });
  assertType<Equal<ResultOf<typeof user>, { id: number }>>();

  // @ts-expect-error posts takes Post args: no such field
  void db.user.findUnique({ where: { id: 1 } }).posts({ where: { nope: 1 } });
  // @ts-expect-error no such relation
  void db.user.findUnique({ where: { id: 1 } }).nope();
}

// ---------------------------------------------------------------------------------------------------------------
// Model names come from the generated schema: `models` keys and `$cache.invalidate({ models })` / one-read
// invalidation accept only those (the generator declares `cacheSchema: CacheSchema<"User" | ...>`).

function modelNamesAreTyped(prisma: PrismaClient, db: Cached): void {
  void prisma.$extends(cachePlugin({ schema: cacheSchema, models: { User: { ttl: 5 }, Post: false } }));
  // @ts-expect-error not a model of the schema
  void prisma.$extends(cachePlugin({ schema: cacheSchema, models: { Usr: { ttl: 5 } } }));
  // Without a schema any name compiles (checked against the client at run time).
  void prisma.$extends(cachePlugin({ schema: false, models: { Anything: { ttl: 5 } } }));

  void db.$cache.invalidate({ models: ["User", "Post"], tags: ["t"] });
  // @ts-expect-error not a model of the schema
  void db.$cache.invalidate({ models: ["Usr"] });
  void db.$cache.invalidate({ model: "User", operation: "findUnique", args: { where: { id: 1 } } });
  // @ts-expect-error writes are not cached reads
  void db.$cache.invalidate({ model: "User", operation: "update" });
  // @ts-expect-error not a model of the schema
  void db.$cache.invalidate({ model: "Usr", operation: "findMany" });

  // Steering options and the refresh strategy.
  void prisma.$extends(cachePlugin({ schema: cacheSchema, enabled: false, mode: "allowlist", namespace: () => "tenant" }));
  // @ts-expect-error mode is "all" or "allowlist"
  void prisma.$extends(cachePlugin({ schema: cacheSchema, mode: "some" }));
  void db.user.findMany({ cacheStrategy: { refresh: true } });
  // @ts-expect-error refresh is a boolean
  void db.user.findMany({ cacheStrategy: { refresh: 1 } });
}

export type { Cached };
export { fluentRelationApiIsTyped, malformedStrategiesAreRejected, modelNamesAreTyped, readsAcceptCacheStrategy, resultTypesArePreserved, writesRejectCacheStrategy };
