/**
 * Nested writes (`data: { posts: { create, connect, ... } }`) change rows of other models than the one written:
 * after the write resolves, cached reads of every model they touch are evicted.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCacheBed, STORE_KINDS, type CacheBed } from "../support/cache-bed.ts";
import { writeProbe, type CachedRead, type Read, type WriteProbe } from "../support/write-probe.ts";

describe.each(STORE_KINDS)("%s store: nested writes", (kind) => {
  let bed: CacheBed;
  let probe: WriteProbe;
  let seq = 0;
  const scope = () => `n${kind}${++seq}`;

  beforeAll(async () => {
    // A generous store timeout: a lookup that times out under load goes to the database and would read as a miss.
    bed = await createCacheBed(kind, { timeoutMs: 5_000 });
    probe = writeProbe(bed);
  });
  afterAll(() => bed?.close());

  /** A user of `s` with two posts (`p1` with one comment, `p2`), and a post of `s` with no author (`loose`). */
  async function seed(s: string) {
    const user = await bed.base.prisma.user.create({ data: { email: `${s}@x`, name: "Author" } });
    const p1 = await bed.base.prisma.post.create({ data: { title: `${s}-1`, slug: `${s}-1`, authorId: user.id } });
    const p2 = await bed.base.prisma.post.create({ data: { title: `${s}-2`, slug: `${s}-2`, authorId: user.id } });
    const loose = await bed.base.prisma.post.create({ data: { title: `${s}-loose`, slug: `${s}-loose` } });
    const comment = await bed.base.prisma.comment.create({ data: { body: `${s}-c`, postId: p1.id } });
    return { user, p1, p2, loose, comment };
  }
  type Seeded = Awaited<ReturnType<typeof seed>>;

  const postsOf =
    (s: string): Read<unknown> =>
    (db) =>
      db.post.findMany({ where: { slug: { startsWith: s } }, orderBy: { id: "asc" } });
  const postCount =
    (s: string): Read<unknown> =>
    (db) =>
      db.post.count({ where: { slug: { startsWith: s }, authorId: { not: null } } });
  const commentsOf =
    (s: string): Read<unknown> =>
    (db) =>
      db.comment.findMany({ where: { body: { startsWith: s } }, orderBy: { id: "asc" } });
  const userWithPosts =
    (id: number): Read<unknown> =>
    (db) =>
      db.user.findUnique({ where: { id }, include: { posts: { orderBy: { id: "asc" } } } });
  const postById =
    (id: number): Read<unknown> =>
    (db) =>
      db.post.findUnique({ where: { id } });

  interface NestedCase {
    name: string;
    /** `user.update({ where: { id: user.id }, data: { posts: <this> } })`. */
    posts: (s: string, seeded: Seeded) => Record<string, unknown>;
    /** The post row whose unique lookup the nested write changes (or makes exist). */
    row: (s: string, seeded: Seeded) => Read<unknown>;
  }

  const cases: NestedCase[] = [
    { name: "create", posts: (s) => ({ create: { title: `${s}-new`, slug: `${s}-new` } }), row: (s) => (db) => db.post.findUnique({ where: { slug: `${s}-new` } }) },
    {
      name: "createMany",
      posts: (s) => ({
        createMany: {
          data: [
            { title: `${s}-new`, slug: `${s}-new` },
            { title: `${s}-new2`, slug: `${s}-new2` },
          ],
        },
      }),
      row: (s) => (db) => db.post.findUnique({ where: { slug: `${s}-new2` } }),
    },
    { name: "update", posts: (_s, { p1 }) => ({ update: { where: { id: p1.id }, data: { title: "edited" } } }), row: (_s, { p1 }) => postById(p1.id) },
    { name: "updateMany", posts: () => ({ updateMany: { where: { published: false }, data: { published: true } } }), row: (_s, { p2 }) => postById(p2.id) },
    {
      name: "upsert (update branch)",
      posts: (s, { p2 }) => ({ upsert: { where: { id: p2.id }, update: { views: 7 }, create: { title: `${s}-x`, slug: `${s}-x` } } }),
      row: (_s, { p2 }) => postById(p2.id),
    },
    {
      name: "upsert (create branch)",
      posts: (s) => ({ upsert: { where: { slug: `${s}-new` }, update: { views: 7 }, create: { title: `${s}-new`, slug: `${s}-new` } } }),
      row: (s) => (db) => db.post.findUnique({ where: { slug: `${s}-new` } }),
    },
    { name: "delete", posts: (_s, { p2 }) => ({ delete: { id: p2.id } }), row: (_s, { p2 }) => postById(p2.id) },
    { name: "deleteMany", posts: (_s, { p2 }) => ({ deleteMany: { id: p2.id } }), row: (_s, { p2 }) => postById(p2.id) },
    { name: "connect", posts: (_s, { loose }) => ({ connect: { id: loose.id } }), row: (_s, { loose }) => postById(loose.id) },
    {
      name: "connectOrCreate (connect)",
      posts: (s, { loose }) => ({ connectOrCreate: { where: { slug: loose.slug }, create: { title: `${s}-x`, slug: `${s}-x` } } }),
      row: (_s, { loose }) => postById(loose.id),
    },
    {
      name: "connectOrCreate (create)",
      posts: (s) => ({ connectOrCreate: { where: { slug: `${s}-new` }, create: { title: `${s}-new`, slug: `${s}-new` } } }),
      row: (s) => (db) => db.post.findUnique({ where: { slug: `${s}-new` } }),
    },
    { name: "disconnect", posts: (_s, { p2 }) => ({ disconnect: { id: p2.id } }), row: (_s, { p2 }) => postById(p2.id) },
    { name: "set", posts: (_s, { loose }) => ({ set: [{ id: loose.id }] }), row: (_s, { p2 }) => postById(p2.id) },
  ];

  describe.each(cases)("user.update with posts: { $name }", ({ posts, row }) => {
    it("evicts cached post lists, counts, the changed post's lookup and the user's posts", async () => {
      const s = scope();
      const seeded = await seed(s);
      const entries: CachedRead<unknown>[] = [
        await probe.cache(postsOf(s), "post.findMany"),
        await probe.cache(postCount(s), "post.count"),
        await probe.cache(row(s, seeded), "post.findUnique of the changed post"),
        await probe.cache(userWithPosts(seeded.user.id), "user.findUnique including posts"),
      ];

      await bed.prisma.user.update({ where: { id: seeded.user.id }, data: { posts: posts(s, seeded) } });

      for (const entry of entries) {
        // A post that moves between authors or changes a non-counted field leaves the count as it was.
        await probe.expectFresh(entry, { changed: entry.label !== "post.count" });
      }
    });
  });

  it("user.update with posts: { delete } evicts cached comments of the deleted post (cascade)", async () => {
    const s = scope();
    const { user, p1, comment } = await seed(s);
    const comments = await probe.cache(commentsOf(s));
    const byId = await probe.cache((db) => db.comment.findUnique({ where: { id: comment.id } }));

    await bed.prisma.user.update({ where: { id: user.id }, data: { posts: { delete: { id: p1.id } } } });

    expect(await probe.expectFresh(comments)).toEqual([]);
    expect(await probe.expectFresh(byId)).toBeNull();
  });

  it("user.update with posts: { deleteMany } evicts cached comments of the deleted posts (cascade)", async () => {
    const s = scope();
    const { user } = await seed(s);
    const comments = await probe.cache(commentsOf(s));

    await bed.prisma.user.update({ where: { id: user.id }, data: { posts: { deleteMany: {} } } });

    expect(await probe.expectFresh(comments)).toEqual([]);
  });

  it("user.update with posts: { update: { data: { comments: { create } } } } evicts cached comments two levels down", async () => {
    const s = scope();
    const { user, p2 } = await seed(s);
    const comments = await probe.cache(commentsOf(s));
    const post = await probe.cache((db) => db.post.findUnique({ where: { id: p2.id }, include: { comments: true } }));

    await bed.prisma.user.update({
      where: { id: user.id },
      data: { posts: { update: { where: { id: p2.id }, data: { comments: { create: { body: `${s}-deep` } } } } } },
    });

    expect(await probe.expectFresh(comments)).toHaveLength(2);
    await probe.expectFresh(post);
  });

  it("user.create with profile and posts with comments evicts cached reads of all three models", async () => {
    const s = scope();
    const profile = await probe.cache((db) => db.profile.findFirst({ where: { bio: s } }));
    const posts = await probe.cache(postsOf(s));
    const comments = await probe.cache(commentsOf(s));
    const postBySlug = await probe.cache((db) => db.post.findUnique({ where: { slug: `${s}-deep` } }));

    await bed.prisma.user.create({
      data: {
        email: `${s}@x`,
        profile: { create: { bio: s } },
        posts: { create: { title: `${s}-deep`, slug: `${s}-deep`, comments: { create: [{ body: `${s}-a` }, { body: `${s}-b` }] } } },
      },
    });

    expect(await probe.expectFresh(profile)).toMatchObject({ bio: s });
    expect(await probe.expectFresh(posts)).toHaveLength(1);
    expect(await probe.expectFresh(comments)).toHaveLength(2);
    expect(await probe.expectFresh(postBySlug)).toMatchObject({ slug: `${s}-deep` });
  });

  it("user.upsert creating the user evicts cached reads of the posts its create branch creates", async () => {
    const s = scope();
    const posts = await probe.cache(postsOf(s));
    const bySlug = await probe.cache((db) => db.post.findUnique({ where: { slug: `${s}-up` } }));

    await bed.prisma.user.upsert({
      where: { email: `${s}@x` },
      create: { email: `${s}@x`, posts: { create: { title: `${s}-up`, slug: `${s}-up` } } },
      update: { name: "never" },
    });

    expect(await probe.expectFresh(posts)).toHaveLength(1);
    expect(await probe.expectFresh(bySlug)).toMatchObject({ slug: `${s}-up` });
  });

  it("user.upsert updating the user evicts cached reads of the posts its update branch changes", async () => {
    const s = scope();
    const { user, p1 } = await seed(s);
    const post = await probe.cache(postById(p1.id));
    const comments = await probe.cache(commentsOf(s));

    await bed.prisma.user.upsert({
      where: { email: user.email },
      create: { email: user.email },
      update: { posts: { delete: { id: p1.id } } },
    });

    expect(await probe.expectFresh(post)).toBeNull();
    expect(await probe.expectFresh(comments)).toEqual([]);
  });

  it("user.create with a nested profile evicts a cached null profile lookup by userId", async () => {
    const s = scope();
    const last = await bed.base.prisma.user.create({ data: { email: `${s}-last@x` } });
    const nextId = last.id + 1;
    const profile = await probe.cache((db) => db.profile.findUnique({ where: { userId: nextId } }));
    expect(profile.before).toBeNull();

    const created = await bed.prisma.user.create({ data: { email: `${s}@x`, profile: { create: { bio: "hi" } } } });
    expect(created.id).toBe(nextId);

    expect(await probe.expectFresh(profile)).toMatchObject({ userId: nextId, bio: "hi" });
  });

  it("user.update with profile: { update } evicts the cached profile lookup", async () => {
    const s = scope();
    const user = await bed.base.prisma.user.create({ data: { email: `${s}@x`, profile: { create: { bio: "before" } } } });
    await probe.expectCachedThenFresh(
      (db) => db.profile.findUnique({ where: { userId: user.id } }),
      () => bed.prisma.user.update({ where: { id: user.id }, data: { profile: { update: { bio: "after" } } } }),
    );
  });

  it("user.update with profile: { upsert } evicts a cached null profile", async () => {
    const s = scope();
    const user = await bed.base.prisma.user.create({ data: { email: `${s}@x` } });
    await probe.expectCachedThenFresh(
      (db) => db.profile.findUnique({ where: { userId: user.id } }),
      () => bed.prisma.user.update({ where: { id: user.id }, data: { profile: { upsert: { create: { bio: "new" }, update: { bio: "upd" } } } } }),
    );
  });

  it("user.update with profile: { delete } evicts the cached profile lookup", async () => {
    const s = scope();
    const user = await bed.base.prisma.user.create({ data: { email: `${s}@x`, profile: { create: { bio: "before" } } } });
    await probe.expectCachedThenFresh(
      (db) => db.profile.findUnique({ where: { userId: user.id } }),
      () => bed.prisma.user.update({ where: { id: user.id }, data: { profile: { delete: true } } }),
    );
  });

  describe("post.update with author", () => {
    it("connect evicts the new author's cached posts and the post's lookup", async () => {
      const s = scope();
      const { loose } = await seed(s);
      const other = await bed.base.prisma.user.create({ data: { email: `${s}-other@x` } });
      const otherPosts = await probe.cache(userWithPosts(other.id));
      const post = await probe.cache(postById(loose.id));

      await bed.prisma.post.update({ where: { id: loose.id }, data: { author: { connect: { id: other.id } } } });

      await probe.expectFresh(otherPosts);
      expect(await probe.expectFresh(post)).toMatchObject({ authorId: other.id });
    });

    it("connect evicts a cached read of the post including its author", async () => {
      const s = scope();
      const { p1 } = await seed(s);
      const other = await bed.base.prisma.user.create({ data: { email: `${s}-other@x`, name: "Other" } });
      await probe.expectCachedThenFresh(
        (db) => db.post.findUnique({ where: { id: p1.id }, include: { author: true } }),
        () => bed.prisma.post.update({ where: { id: p1.id }, data: { author: { connect: { id: other.id } } } }),
      );
    });

    it("disconnect evicts the old author's cached posts and the post's lookup", async () => {
      const s = scope();
      const { p1, user } = await seed(s);
      const authorPosts = await probe.cache(userWithPosts(user.id));
      const post = await probe.cache(postById(p1.id));
      const count = await probe.cache((db) => db.user.findMany({ where: { email: `${s}@x` }, include: { _count: { select: { posts: true } } } }));

      await bed.prisma.post.update({ where: { id: p1.id }, data: { author: { disconnect: true } } });

      await probe.expectFresh(authorPosts);
      expect(await probe.expectFresh(post)).toMatchObject({ authorId: null });
      await probe.expectFresh(count);
    });

    it("update evicts the author's cached lookups and lists", async () => {
      const s = scope();
      const { p1, user } = await seed(s);
      const byId = await probe.cache((db) => db.user.findUnique({ where: { id: user.id } }));
      const byEmail = await probe.cache((db) => db.user.findUnique({ where: { email: user.email } }));
      const list = await probe.cache((db) => db.user.findMany({ where: { email: { startsWith: s } } }));

      await bed.prisma.post.update({ where: { id: p1.id }, data: { author: { update: { name: "Renamed" } } } });

      await probe.expectFresh(byId);
      await probe.expectFresh(byEmail);
      await probe.expectFresh(list);
    });

    it("update changing the author's email evicts lookups by the old and the new email", async () => {
      const s = scope();
      const { p1, user } = await seed(s);
      const byOld = await probe.cache((db) => db.user.findUnique({ where: { email: user.email } }));
      const byNew = await probe.cache((db) => db.user.findUnique({ where: { email: `${s}-new@x` } }));

      await bed.prisma.post.update({ where: { id: p1.id }, data: { author: { update: { email: `${s}-new@x` } } } });

      expect(await probe.expectFresh(byOld)).toBeNull();
      expect(await probe.expectFresh(byNew)).toMatchObject({ id: user.id });
    });

    it("create evicts a cached null lookup of the created author", async () => {
      const s = scope();
      const { loose } = await seed(s);
      await probe.expectCachedThenFresh(
        (db) => db.user.findUnique({ where: { email: `${s}-made@x` } }),
        () => bed.prisma.post.update({ where: { id: loose.id }, data: { author: { create: { email: `${s}-made@x` } } } }),
      );
    });

    it("connectOrCreate in post.create evicts a cached null lookup of the created author", async () => {
      const s = scope();
      await probe.expectCachedThenFresh(
        (db) => db.user.findUnique({ where: { email: `${s}-made@x` } }),
        () =>
          bed.prisma.post.create({
            data: { title: s, slug: s, author: { connectOrCreate: { where: { email: `${s}-made@x` }, create: { email: `${s}-made@x` } } } },
          }),
      );
    });

    it("delete evicts the author's lookup and, by SetNull, the author's other posts", async () => {
      const s = scope();
      const { p1, p2, user } = await seed(s);
      const author = await probe.cache((db) => db.user.findUnique({ where: { id: user.id } }));
      const sibling = await probe.cache(postById(p2.id));

      await bed.prisma.post.update({ where: { id: p1.id }, data: { author: { delete: true } } });

      expect(await probe.expectFresh(author)).toBeNull();
      expect(await probe.expectFresh(sibling)).toMatchObject({ authorId: null });
    });
  });

  it("post.update with comments: { updateMany } evicts cached comment lookups", async () => {
    const s = scope();
    const { p1, comment } = await seed(s);
    await probe.expectCachedThenFresh(
      (db) => db.comment.findUnique({ where: { id: comment.id } }),
      () => bed.prisma.post.update({ where: { id: p1.id }, data: { comments: { updateMany: { where: {}, data: { body: `${s}-edited` } } } } }),
    );
  });

  it("post.create with tags: { create: { tag: { connectOrCreate } } } evicts cached PostTag and Tag reads", async () => {
    const s = scope();
    const tag = await probe.cache((db) => db.tag.findUnique({ where: { namespace_name: { namespace: s, name: "t" } } }));
    const links = await probe.cache((db) => db.postTag.findMany({ where: { tag: { namespace: s } } }));

    await bed.prisma.post.create({
      data: {
        title: s,
        slug: s,
        tags: { create: { tag: { connectOrCreate: { where: { namespace_name: { namespace: s, name: "t" } }, create: { namespace: s, name: "t" } } } } },
      },
    });

    expect(await probe.expectFresh(tag)).toMatchObject({ namespace: s, name: "t" });
    expect(await probe.expectFresh(links)).toHaveLength(1);
  });

  it("category.update with children: { create } evicts cached category reads", async () => {
    const s = scope();
    const root = await bed.base.prisma.category.create({ data: { name: `${s}-root` } });
    const tree = await probe.cache((db) => db.category.findUnique({ where: { id: root.id }, include: { children: true } }));
    const child = await probe.cache((db) => db.category.findUnique({ where: { name: `${s}-child` } }));

    await bed.prisma.category.update({ where: { id: root.id }, data: { children: { create: { name: `${s}-child` } } } });

    await probe.expectFresh(tree);
    expect(await probe.expectFresh(child)).toMatchObject({ parentId: root.id });
  });
});
