/**
 * After a write through the cached client resolves, every cached read whose result it could have changed is
 * evicted (the next read reaches the database and returns the new data), while reads it cannot have changed stay
 * cached. Top-level writes of every operation, unique lookups, and reads that reach the written model through
 * relations. Nested writes, referential actions, raw SQL, transactions and the schema-less mode have their own files.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { createCacheBed, STORE_KINDS, type CacheBed } from "../support/cache-bed.ts";
import { writeProbe, type Read, type WriteProbe } from "../support/write-probe.ts";

const provider = inject("provider");

describe.each(STORE_KINDS)("%s store: top-level writes", (kind) => {
  let bed: CacheBed;
  let probe: WriteProbe;
  let seq = 0;
  /** A string no other test in this bed uses, to keep each test's rows and reads apart. */
  const scope = () => `w${kind}${++seq}`;

  beforeAll(async () => {
    // A generous store timeout: a lookup that times out under load goes to the database and would read as a miss.
    bed = await createCacheBed(kind, { timeoutMs: 5_000 });
    probe = writeProbe(bed);
  });
  afterAll(() => bed?.close());

  /** Two posts of `s`: `a` unpublished with 1 view, `b` published with 2 views (so `b` leads by views). */
  async function seedPosts(s: string) {
    const a = await bed.base.prisma.post.create({ data: { title: `${s}-a`, slug: `${s}-a`, views: 1 } });
    const b = await bed.base.prisma.post.create({ data: { title: `${s}-b`, slug: `${s}-b`, views: 2, published: true } });
    return { a, b };
  }

  /** The reads of `s`'s posts a write to Post can change: list, count, aggregate, groupBy, findFirst. */
  function postReads(s: string): Record<string, Read<unknown>> {
    const where = { title: { startsWith: s } };
    return {
      findMany: (db) => db.post.findMany({ where, orderBy: { id: "asc" } }),
      count: (db) => db.post.count({ where: { ...where, published: true } }),
      aggregate: (db) => db.post.aggregate({ where, _sum: { views: true }, _count: { _all: true } }),
      groupBy: (db) => db.post.groupBy({ by: ["published"], where, _count: { _all: true }, _sum: { views: true }, orderBy: { published: "asc" } }),
      findFirst: (db) => db.post.findFirst({ where, orderBy: [{ views: "desc" }, { id: "asc" }] }),
    };
  }

  /** Reads of other models no Post write reaches (Post's author relation is not read). */
  function unrelatedReads(s: string): Read<unknown>[] {
    return [(db) => db.tag.findMany({ where: { namespace: s } }), (db) => db.user.findMany({ where: { email: { startsWith: s } } })];
  }

  async function seedUnrelated(s: string) {
    await bed.base.prisma.tag.create({ data: { namespace: s, name: "t" } });
    await bed.base.prisma.user.create({ data: { email: `${s}@x` } });
  }

  type Seeded = Awaited<ReturnType<typeof seedPosts>>;
  interface WriteCase {
    name: string;
    /** The write; every one publishes a post of the scope with 50 views, adds one, or removes `b`. */
    write: (db: CacheBed["prisma"], s: string, seeded: Seeded) => PromiseLike<unknown>;
    /** The unique lookup of the row the write changes (cached before the write). */
    lookup: (s: string, seeded: Seeded) => Read<unknown>;
  }

  const newPost = (s: string, suffix = "c") => ({ title: `${s}-${suffix}`, slug: `${s}-${suffix}`, published: true, views: 50 });
  const bySlug =
    (slug: string): Read<unknown> =>
    (db) =>
      db.post.findUnique({ where: { slug } });
  const byId =
    (id: number): Read<unknown> =>
    (db) =>
      db.post.findUnique({ where: { id } });
  const publish = { published: true, views: 50 };

  const cases: WriteCase[] = [
    { name: "create", write: (db, s) => db.post.create({ data: newPost(s) }), lookup: (s) => bySlug(`${s}-c`) },
    {
      name: "createMany",
      write: (db, s) => db.post.createMany({ data: [newPost(s), newPost(s, "d")] }),
      lookup: (s) => bySlug(`${s}-c`),
    },
    {
      name: "createManyAndReturn",
      write: (db, s) => db.post.createManyAndReturn({ data: [newPost(s), newPost(s, "d")] }),
      lookup: (s) => bySlug(`${s}-d`),
    },
    { name: "update", write: (db, _s, { a }) => db.post.update({ where: { id: a.id }, data: publish }), lookup: (_s, { a }) => byId(a.id) },
    {
      name: "updateMany",
      write: (db, s) => db.post.updateMany({ where: { title: { startsWith: s }, published: false }, data: publish }),
      lookup: (_s, { a }) => byId(a.id),
    },
    {
      name: "updateManyAndReturn",
      write: (db, s) => db.post.updateManyAndReturn({ where: { title: { startsWith: s }, published: false }, data: publish }),
      lookup: (s) => bySlug(`${s}-a`),
    },
    {
      name: "upsert (update branch)",
      write: (db, s) => db.post.upsert({ where: { slug: `${s}-a` }, update: publish, create: newPost(s) }),
      lookup: (_s, { a }) => byId(a.id),
    },
    {
      name: "upsert (create branch)",
      write: (db, s) => db.post.upsert({ where: { slug: `${s}-c` }, update: { title: "never" }, create: newPost(s) }),
      lookup: (s) => bySlug(`${s}-c`),
    },
    { name: "delete", write: (db, _s, { b }) => db.post.delete({ where: { id: b.id } }), lookup: (_s, { b }) => byId(b.id) },
    {
      name: "deleteMany",
      write: (db, s) => db.post.deleteMany({ where: { title: { startsWith: s }, published: true } }),
      lookup: (s) => bySlug(`${s}-b`),
    },
  ];

  // Prisma has no createManyAndReturn / updateManyAndReturn on MySQL.
  const supported = cases.filter((c) => provider !== "mysql" || !c.name.endsWith("AndReturn"));

  describe.each(supported)("post.$name", ({ write, lookup }) => {
    it("evicts the model's cached lists, counts, aggregates, groupBy, findFirst and the row's findUnique", async () => {
      const s = scope();
      const seeded = await seedPosts(s);
      const entries = [];
      for (const [label, read] of Object.entries(postReads(s))) entries.push(await probe.cache(read, label));
      const unique = await probe.cache(lookup(s, seeded), "findUnique of the written row");

      await write(bed.prisma, s, seeded);

      for (const entry of entries) await probe.expectFresh(entry);
      await probe.expectFresh(unique);
    });

    it("leaves cached reads of models it does not reach in the cache", async () => {
      const s = scope();
      const seeded = await seedPosts(s);
      await seedUnrelated(s);
      const list = await probe.cache(postReads(s).findMany!);
      const others = [];
      for (const read of unrelatedReads(s)) others.push(await probe.cache(read));

      await write(bed.prisma, s, seeded);

      await probe.expectFresh(list);
      for (const entry of others) await probe.expectSurvives(entry);
    });
  });

  describe("precision of unique lookups", () => {
    it("an update by id evicts that row's lookups and keeps other rows' lookups cached", async () => {
      const { a, b } = await seedPosts(scope());
      const aById = await probe.cache((db) => db.post.findUnique({ where: { id: a.id } }));
      const aBySlug = await probe.cache((db) => db.post.findUnique({ where: { slug: a.slug } }));
      const bById = await probe.cache((db) => db.post.findUnique({ where: { id: b.id } }));
      const bBySlug = await probe.cache((db) => db.post.findUniqueOrThrow({ where: { slug: b.slug } }));

      await bed.prisma.post.update({ where: { id: a.id }, data: { title: "renamed" } });

      await probe.expectFresh(aById);
      await probe.expectFresh(aBySlug);
      await probe.expectSurvives(bById);
      await probe.expectSurvives(bBySlug);
    });

    it("an update by a non-id unique field evicts that row's lookup by id and keeps other rows' lookups cached", async () => {
      const { a, b } = await seedPosts(scope());
      const aById = await probe.cache((db) => db.post.findUnique({ where: { id: a.id } }));
      const bById = await probe.cache((db) => db.post.findUnique({ where: { id: b.id } }));

      await bed.prisma.post.update({ where: { slug: a.slug }, data: { views: { increment: 10 } } });

      await probe.expectFresh(aById);
      await probe.expectSurvives(bById);
    });

    it("a delete by id keeps other rows' lookups cached", async () => {
      const { a, b } = await seedPosts(scope());
      const aById = await probe.cache((db) => db.post.findUnique({ where: { id: a.id } }));
      const bById = await probe.cache((db) => db.post.findUnique({ where: { id: b.id } }));

      await bed.prisma.post.delete({ where: { id: a.id } });

      expect(await probe.expectFresh(aById)).toBeNull();
      await probe.expectSurvives(bById);
    });

    it("an update of a BigInt-keyed row evicts its lookup and keeps its neighbour's", async () => {
      const { a } = await seedPosts(scope());
      const c1 = await bed.base.prisma.comment.create({ data: { body: "one", postId: a.id } });
      const c2 = await bed.base.prisma.comment.create({ data: { body: "two", postId: a.id } });
      const first = await probe.cache((db) => db.comment.findUnique({ where: { id: c1.id } }));
      const second = await probe.cache((db) => db.comment.findUnique({ where: { id: c2.id } }));

      await bed.prisma.comment.update({ where: { id: c1.id }, data: { body: "edited" } });

      await probe.expectFresh(first);
      await probe.expectSurvives(second);
    });
  });

  describe("lookups by other unique fields", () => {
    it("after an email change, the old email finds nothing and the new one (cached as null) finds the user", async () => {
      const s = scope();
      const user = await bed.base.prisma.user.create({ data: { email: `${s}-old@x`, name: "Old" } });
      const byOld = await probe.cache((db) => db.user.findUnique({ where: { email: `${s}-old@x` } }));
      const byNew = await probe.cache((db) => db.user.findUnique({ where: { email: `${s}-new@x` } }));
      const byId = await probe.cache((db) => db.user.findUnique({ where: { id: user.id } }));
      expect(byOld.before).not.toBeNull();
      expect(byNew.before).toBeNull();

      await bed.prisma.user.update({ where: { id: user.id }, data: { email: `${s}-new@x` } });

      expect(await probe.expectFresh(byOld)).toBeNull();
      expect(await probe.expectFresh(byNew)).toMatchObject({ id: user.id, email: `${s}-new@x` });
      expect(await probe.expectFresh(byId)).toMatchObject({ email: `${s}-new@x` });
    });

    it("an email change made through the email lookup evicts the lookup by id", async () => {
      const s = scope();
      const user = await bed.base.prisma.user.create({ data: { email: `${s}-old@x` } });
      const byId = await probe.cache((db) => db.user.findUnique({ where: { id: user.id } }));

      await bed.prisma.user.update({ where: { email: `${s}-old@x` }, data: { email: `${s}-new@x` } });

      expect(await probe.expectFresh(byId)).toMatchObject({ email: `${s}-new@x` });
    });

    it("a create evicts a cached null for the email it creates", async () => {
      const s = scope();
      const lookup = await probe.cache((db) => db.user.findUnique({ where: { email: `${s}@x` } }));
      expect(lookup.before).toBeNull();

      await bed.prisma.user.create({ data: { email: `${s}@x` } });

      expect(await probe.expectFresh(lookup)).toMatchObject({ email: `${s}@x` });
    });

    it("a create evicts a cached null for the compound unique (namespace, name) it creates", async () => {
      const s = scope();
      const lookup = await probe.cache((db) => db.tag.findUnique({ where: { namespace_name: { namespace: s, name: "new" } } }));
      const otherName = await probe.cache((db) => db.tag.findUnique({ where: { namespace_name: { namespace: s, name: "other" } } }));
      expect(lookup.before).toBeNull();

      await bed.prisma.tag.create({ data: { namespace: s, name: "new" } });

      expect(await probe.expectFresh(lookup)).toMatchObject({ namespace: s, name: "new" });
      // A String key may match rows stored under another spelling, so a cached null is a loose entry: every write
      // of the model evicts it (docs/stamps-and-fences.md, "Spellings").
      expect(await probe.expectFresh(otherName, { changed: false })).toBeNull();
    });

    it("a create evicts a cached null by id for the autoincrement id it takes", async () => {
      const s = scope();
      const last = await bed.base.prisma.user.create({ data: { email: `${s}-last@x` } });
      const nextId = last.id + 1;
      const lookup = await probe.cache((db) => db.user.findUnique({ where: { id: nextId } }));
      expect(lookup.before).toBeNull();

      const created = await bed.prisma.user.create({ data: { email: `${s}@x` } });
      expect(created.id).toBe(nextId);

      expect(await probe.expectFresh(lookup)).toMatchObject({ id: nextId, email: `${s}@x` });
    });

    it("a create evicts a cached null by BigInt id for the id it takes", async () => {
      const { a } = await seedPosts(scope());
      const last = await bed.base.prisma.comment.create({ data: { body: "last", postId: a.id } });
      const nextId = last.id + 1n;
      const lookup = await probe.cache((db) => db.comment.findUnique({ where: { id: nextId } }));
      expect(lookup.before).toBeNull();

      const created = await bed.prisma.comment.create({ data: { body: "next", postId: a.id } });
      expect(created.id).toBe(nextId);

      expect(await probe.expectFresh(lookup)).toMatchObject({ id: nextId, body: "next" });
    });

    it("a delete evicts lookups by every unique field of the row", async () => {
      const { a } = await seedPosts(scope());
      const byId = await probe.cache((db) => db.post.findUnique({ where: { id: a.id } }));
      const bySlug = await probe.cache((db) => db.post.findUnique({ where: { slug: a.slug } }));
      const byFirst = await probe.cache((db) => db.post.findFirst({ where: { slug: a.slug } }));

      await bed.prisma.post.delete({ where: { id: a.id } });

      expect(await probe.expectFresh(byId)).toBeNull();
      expect(await probe.expectFresh(bySlug)).toBeNull();
      expect(await probe.expectFresh(byFirst)).toBeNull();
    });

    it("a delete by id evicts the compound-unique lookup of the row", async () => {
      const s = scope();
      const tag = await bed.base.prisma.tag.create({ data: { namespace: s, name: "gone" } });
      const byCompound = await probe.cache((db) => db.tag.findUnique({ where: { namespace_name: { namespace: s, name: "gone" } } }));

      await bed.prisma.tag.delete({ where: { id: tag.id } });

      expect(await probe.expectFresh(byCompound)).toBeNull();
    });

    it("a delete by compound unique evicts the lookup by id", async () => {
      const s = scope();
      const tag = await bed.base.prisma.tag.create({ data: { namespace: s, name: "gone" } });
      const byId = await probe.cache((db) => db.tag.findUnique({ where: { id: tag.id } }));

      await bed.prisma.tag.delete({ where: { namespace_name: { namespace: s, name: "gone" } } });

      expect(await probe.expectFresh(byId)).toBeNull();
    });

    it("a delete by email evicts the lookup by id", async () => {
      const s = scope();
      const user = await bed.base.prisma.user.create({ data: { email: `${s}@x` } });
      const byId = await probe.cache((db) => db.user.findUnique({ where: { id: user.id } }));

      await bed.prisma.user.delete({ where: { email: `${s}@x` } });

      expect(await probe.expectFresh(byId)).toBeNull();
    });
  });

  describe("reads that reach the written model through relations", () => {
    /** A user of `s` with one published post. */
    async function seedAuthor(s: string, name = "Author") {
      const user = await bed.base.prisma.user.create({ data: { email: `${s}@x`, name } });
      const post = await bed.base.prisma.post.create({ data: { title: `${s}-p`, slug: `${s}-p`, authorId: user.id } });
      return { user, post };
    }
    const usersOf = (s: string) => ({ email: { startsWith: s } });
    const addPost = (s: string, authorId: number) => () => bed.prisma.post.create({ data: { title: `${s}-new`, slug: `${s}-new`, published: true, authorId } });

    it("user.findMany including posts is evicted by post.create", async () => {
      const s = scope();
      const { user } = await seedAuthor(s);
      await probe.expectCachedThenFresh((db) => db.user.findMany({ where: usersOf(s), include: { posts: { orderBy: { id: "asc" } } } }), addPost(s, user.id));
    });

    it("user.findUnique including posts is evicted by post.create", async () => {
      const s = scope();
      const { user } = await seedAuthor(s);
      await probe.expectCachedThenFresh((db) => db.user.findUnique({ where: { id: user.id }, include: { posts: { orderBy: { id: "asc" } } } }), addPost(s, user.id));
    });

    it("user.findMany selecting posts is evicted by post.create", async () => {
      const s = scope();
      const { user } = await seedAuthor(s);
      await probe.expectCachedThenFresh(
        (db) => db.user.findMany({ where: usersOf(s), select: { id: true, posts: { select: { title: true }, orderBy: { id: "asc" } } } }),
        addPost(s, user.id),
      );
    });

    it("user.findMany counting posts is evicted by post.create", async () => {
      const s = scope();
      const { user } = await seedAuthor(s);
      await probe.expectCachedThenFresh((db) => db.user.findMany({ where: usersOf(s), include: { _count: { select: { posts: true } } } }), addPost(s, user.id));
    });

    it("user.findMany without relations stays cached after post.create", async () => {
      const s = scope();
      const { user } = await seedAuthor(s);
      const plain = await probe.cache((db) => db.user.findMany({ where: usersOf(s) }));
      await addPost(s, user.id)();
      await probe.expectSurvives(plain);
    });

    it("user.findMany filtered by posts: { some } is evicted by publishing a post", async () => {
      const s = scope();
      const { post } = await seedAuthor(s);
      const filtered = await probe.cache((db) => db.user.findMany({ where: { ...usersOf(s), posts: { some: { published: true } } } }));
      expect(filtered.before).toEqual([]);

      await bed.prisma.post.update({ where: { id: post.id }, data: { published: true } });

      expect(await probe.expectFresh(filtered)).toHaveLength(1);
    });

    it("user.count filtered by posts: { none } is evicted by post.deleteMany", async () => {
      const s = scope();
      await seedAuthor(s);
      await probe.expectCachedThenFresh(
        (db) => db.user.count({ where: { ...usersOf(s), posts: { none: {} } } }),
        () => bed.prisma.post.deleteMany({ where: { slug: `${s}-p` } }),
      );
    });

    it("post.findMany filtered by a to-one author condition is evicted by user.update", async () => {
      const s = scope();
      const { user } = await seedAuthor(s, "before");
      const filtered = await probe.cache((db) => db.post.findMany({ where: { slug: { startsWith: s }, author: { name: `${s}-after` } } }));
      expect(filtered.before).toEqual([]);

      await bed.prisma.user.update({ where: { id: user.id }, data: { name: `${s}-after` } });

      expect(await probe.expectFresh(filtered)).toHaveLength(1);
    });

    it("post.findMany filtered by author: { is } is evicted by user.updateMany", async () => {
      const s = scope();
      await seedAuthor(s, "before");
      await probe.expectCachedThenFresh(
        (db) => db.post.findMany({ where: { slug: { startsWith: s }, author: { is: { name: "after" } } } }),
        () => bed.prisma.user.updateMany({ where: usersOf(s), data: { name: "after" } }),
      );
    });

    it("post.findMany ordered by author name is evicted by renaming an author", async () => {
      const s = scope();
      const zed = await bed.base.prisma.user.create({ data: { email: `${s}-z@x`, name: "Zed" } });
      const amy = await bed.base.prisma.user.create({ data: { email: `${s}-a@x`, name: "Amy" } });
      await bed.base.prisma.post.create({ data: { title: "by zed", slug: `${s}-z`, authorId: zed.id } });
      await bed.base.prisma.post.create({ data: { title: "by amy", slug: `${s}-a`, authorId: amy.id } });

      const ordered = await probe.expectCachedThenFresh(
        (db) => db.post.findMany({ where: { slug: { startsWith: s } }, orderBy: { author: { name: "asc" } }, select: { title: true } }),
        () => bed.prisma.user.update({ where: { id: zed.id }, data: { name: "Abe" } }),
      );
      expect(ordered).toEqual([{ title: "by zed" }, { title: "by amy" }]);
    });

    it("post.findUnique including its author is evicted by updating the author", async () => {
      const s = scope();
      const { user, post } = await seedAuthor(s);
      await probe.expectCachedThenFresh(
        (db) => db.post.findUnique({ where: { id: post.id }, include: { author: true } }),
        () => bed.prisma.user.update({ where: { id: user.id }, data: { name: "Renamed" } }),
      );
    });

    describe("implicit many-to-many (Category <-> Post)", () => {
      async function seedCategories(s: string) {
        const one = await bed.base.prisma.category.create({ data: { name: `${s}-one` } });
        const two = await bed.base.prisma.category.create({ data: { name: `${s}-two` } });
        const post = await bed.base.prisma.post.create({ data: { title: s, slug: s, categories: { connect: { id: one.id } } } });
        return { one, two, post };
      }
      const categoriesWithPosts: (s: string) => Read<unknown> = (s) => (db) =>
        db.category.findMany({ where: { name: { startsWith: s } }, orderBy: { id: "asc" }, include: { posts: { select: { id: true } } } });

      it("category.findMany including posts is evicted by post.update connecting a category", async () => {
        const s = scope();
        const { two, post } = await seedCategories(s);
        await probe.expectCachedThenFresh(categoriesWithPosts(s), () => bed.prisma.post.update({ where: { id: post.id }, data: { categories: { connect: { id: two.id } } } }));
      });

      it("category.findMany including posts is evicted by post.update disconnecting a category", async () => {
        const s = scope();
        const { one, post } = await seedCategories(s);
        await probe.expectCachedThenFresh(categoriesWithPosts(s), () => bed.prisma.post.update({ where: { id: post.id }, data: { categories: { disconnect: { id: one.id } } } }));
      });

      it("category.findMany including posts is evicted by post.update setting the categories", async () => {
        const s = scope();
        const { two, post } = await seedCategories(s);
        await probe.expectCachedThenFresh(categoriesWithPosts(s), () => bed.prisma.post.update({ where: { id: post.id }, data: { categories: { set: [{ id: two.id }] } } }));
      });

      it("post.findUnique including categories is evicted by category.update connecting the post", async () => {
        const s = scope();
        const { two, post } = await seedCategories(s);
        await probe.expectCachedThenFresh(
          (db) => db.post.findUnique({ where: { id: post.id }, include: { categories: { orderBy: { id: "asc" } } } }),
          () => bed.prisma.category.update({ where: { id: two.id }, data: { posts: { connect: { id: post.id } } } }),
        );
      });

      it("category.findUnique counting posts is evicted by post.update connecting that category", async () => {
        const s = scope();
        const { two, post } = await seedCategories(s);
        await probe.expectCachedThenFresh(
          (db) => db.category.findUnique({ where: { id: two.id }, include: { _count: true } }),
          () => bed.prisma.post.update({ where: { id: post.id }, data: { categories: { connect: { id: two.id } } } }),
        );
      });
    });

    describe("explicit many-to-many (PostTag)", () => {
      async function seedTagged(s: string) {
        const post = await bed.base.prisma.post.create({ data: { title: s, slug: s } });
        const tag = await bed.base.prisma.tag.create({ data: { namespace: s, name: "one" } });
        const other = await bed.base.prisma.tag.create({ data: { namespace: s, name: "two" } });
        await bed.base.prisma.postTag.create({ data: { postId: post.id, tagId: tag.id } });
        return { post, tag, other };
      }
      const postWithTags =
        (postId: number): Read<unknown> =>
        (db) =>
          db.post.findUnique({ where: { id: postId }, include: { tags: { orderBy: { tagId: "asc" }, include: { tag: true } } } });

      it("post including tags is evicted by postTag.create", async () => {
        const s = scope();
        const { post, other } = await seedTagged(s);
        await probe.expectCachedThenFresh(postWithTags(post.id), () => bed.prisma.postTag.create({ data: { postId: post.id, tagId: other.id } }));
      });

      it("post including tags is evicted by postTag.delete", async () => {
        const s = scope();
        const { post, tag } = await seedTagged(s);
        await probe.expectCachedThenFresh(postWithTags(post.id), () => bed.prisma.postTag.delete({ where: { postId_tagId: { postId: post.id, tagId: tag.id } } }));
      });

      it("post including tags through PostTag is evicted by renaming the tag", async () => {
        const s = scope();
        const { post, tag } = await seedTagged(s);
        await probe.expectCachedThenFresh(postWithTags(post.id), () => bed.prisma.tag.update({ where: { id: tag.id }, data: { name: "renamed" } }));
      });

      it("tag.findMany filtered by posts: { some: { post } } is evicted by post.update", async () => {
        const s = scope();
        const { post } = await seedTagged(s);
        await probe.expectCachedThenFresh(
          (db) => db.tag.findMany({ where: { namespace: s, posts: { some: { post: { published: true } } } } }),
          () => bed.prisma.post.update({ where: { id: post.id }, data: { published: true } }),
        );
      });

      it("postTag.findUnique by composite id is evicted by its delete and a cached null by its create", async () => {
        const s = scope();
        const { post, tag, other } = await seedTagged(s);
        const existing = await probe.cache((db) => db.postTag.findUnique({ where: { postId_tagId: { postId: post.id, tagId: tag.id } } }));
        const missing = await probe.cache((db) => db.postTag.findUnique({ where: { postId_tagId: { postId: post.id, tagId: other.id } } }));
        expect(missing.before).toBeNull();

        await bed.prisma.postTag.delete({ where: { postId_tagId: { postId: post.id, tagId: tag.id } } });
        await bed.prisma.postTag.create({ data: { postId: post.id, tagId: other.id } });

        expect(await probe.expectFresh(existing)).toBeNull();
        expect(await probe.expectFresh(missing)).toMatchObject({ postId: post.id, tagId: other.id });
      });
    });

    describe("self relation (User.invitedBy / invitees)", () => {
      async function seedInvite(s: string) {
        const inviter = await bed.base.prisma.user.create({ data: { email: `${s}-inviter@x`, name: "Inviter" } });
        const invitee = await bed.base.prisma.user.create({ data: { email: `${s}-invitee@x`, name: "Invitee", invitedById: inviter.id } });
        return { inviter, invitee };
      }

      it("a user including invitees is evicted by updating an invitee", async () => {
        const { inviter, invitee } = await seedInvite(scope());
        await probe.expectCachedThenFresh(
          (db) => db.user.findUnique({ where: { id: inviter.id }, include: { invitees: true } }),
          () => bed.prisma.user.update({ where: { id: invitee.id }, data: { name: "Renamed invitee" } }),
        );
      });

      it("a user including invitedBy is evicted by updating the inviter", async () => {
        const { inviter, invitee } = await seedInvite(scope());
        await probe.expectCachedThenFresh(
          (db) => db.user.findUnique({ where: { id: invitee.id }, include: { invitedBy: true } }),
          () => bed.prisma.user.update({ where: { id: inviter.id }, data: { name: "Renamed inviter" } }),
        );
      });

      it("users filtered by invitedBy is evicted by updating another user", async () => {
        const s = scope();
        const { inviter } = await seedInvite(s);
        await probe.expectCachedThenFresh(
          (db) => db.user.findMany({ where: { email: { startsWith: s }, invitedBy: { name: "Boss" } } }),
          () => bed.prisma.user.update({ where: { id: inviter.id }, data: { name: "Boss" } }),
        );
      });

      it("a user including invitees is evicted by a create that names it as inviter", async () => {
        const s = scope();
        const { inviter } = await seedInvite(s);
        await probe.expectCachedThenFresh(
          (db) => db.user.findUnique({ where: { id: inviter.id }, include: { invitees: { orderBy: { id: "asc" } } } }),
          () => bed.prisma.user.create({ data: { email: `${s}-second@x`, invitedById: inviter.id } }),
        );
      });
    });
  });
});
