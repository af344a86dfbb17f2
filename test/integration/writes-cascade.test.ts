/**
 * Referential actions: the database changes rows of other models by itself (onDelete Cascade / SetNull, onUpdate
 * Cascade). After the write resolves, cached reads of those rows are evicted too, transitively through cascades,
 * while reads of models no action reaches stay cached.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { createCacheBed, STORE_KINDS, type CacheBed } from "../support/cache-bed.ts";
import { writeProbe, type WriteProbe } from "../support/write-probe.ts";

const provider = inject("provider");

describe.each(STORE_KINDS)("%s store: referential actions", (kind) => {
  let bed: CacheBed;
  let probe: WriteProbe;
  let seq = 0;
  const scope = () => `c${kind}${++seq}`;

  beforeAll(async () => {
    // A generous store timeout: a lookup that times out under load goes to the database and would read as a miss.
    bed = await createCacheBed(kind, { timeoutMs: 5_000 });
    probe = writeProbe(bed);
  });
  afterAll(() => bed?.close());

  /**
   * A user of `s` with a profile, a post (commented by the user, tagged, in a category), and an invitee; plus a
   * tag and a user no delete of the first user reaches.
   */
  async function seed(s: string) {
    const db = bed.base.prisma;
    const user = await db.user.create({ data: { email: `${s}@x`, name: "Main", profile: { create: { bio: s } } } });
    const invitee = await db.user.create({ data: { email: `${s}-invitee@x`, invitedById: user.id } });
    const category = await db.category.create({ data: { name: `${s}-cat` } });
    const tag = await db.tag.create({ data: { namespace: s, name: "t" } });
    const post = await db.post.create({
      data: { title: s, slug: s, authorId: user.id, categories: { connect: { id: category.id } }, tags: { create: { tagId: tag.id } } },
    });
    const comment = await db.comment.create({ data: { body: s, postId: post.id, authorId: user.id } });
    const otherPost = await db.post.create({ data: { title: `${s}-other`, slug: `${s}-other` } });
    const otherComment = await db.comment.create({ data: { body: `${s}-other`, postId: otherPost.id, authorId: invitee.id } });
    return { user, invitee, category, tag, post, comment, otherPost, otherComment };
  }

  describe("deleting a user", () => {
    it("cascades to its profile: cached profile lookups return null", async () => {
      const { user } = await seed(scope());
      const byUserId = await probe.cache((db) => db.profile.findUnique({ where: { userId: user.id } }));
      const list = await probe.cache((db) => db.profile.findMany({ where: { userId: user.id } }));

      await bed.prisma.user.delete({ where: { id: user.id } });

      expect(await probe.expectFresh(byUserId)).toBeNull();
      expect(await probe.expectFresh(list)).toEqual([]);
    });

    it("sets Post.authorId null: a cached post lookup shows authorId null", async () => {
      const { user, post } = await seed(scope());
      const byId = await probe.cache((db) => db.post.findUnique({ where: { id: post.id } }));
      const bySlug = await probe.cache((db) => db.post.findUnique({ where: { slug: post.slug } }));
      const byAuthor = await probe.cache((db) => db.post.findMany({ where: { authorId: user.id } }));

      await bed.prisma.user.delete({ where: { id: user.id } });

      expect(await probe.expectFresh(byId)).toMatchObject({ id: post.id, authorId: null });
      expect(await probe.expectFresh(bySlug)).toMatchObject({ id: post.id, authorId: null });
      expect(await probe.expectFresh(byAuthor)).toEqual([]);
    });

    it("sets Comment.authorId null: a cached comment lookup shows authorId null", async () => {
      const { user, comment } = await seed(scope());
      const byId = await probe.cache((db) => db.comment.findUnique({ where: { id: comment.id } }));

      await bed.prisma.user.delete({ where: { id: user.id } });

      expect(await probe.expectFresh(byId)).toMatchObject({ id: comment.id, authorId: null });
    });

    it("sets User.invitedById null on its invitees: a cached invitee lookup shows invitedById null", async () => {
      const { user, invitee } = await seed(scope());
      const byId = await probe.cache((db) => db.user.findUnique({ where: { id: invitee.id } }));
      const byEmail = await probe.cache((db) => db.user.findUnique({ where: { email: invitee.email } }));

      await bed.prisma.user.delete({ where: { id: user.id } });

      expect(await probe.expectFresh(byId)).toMatchObject({ id: invitee.id, invitedById: null });
      expect(await probe.expectFresh(byEmail)).toMatchObject({ id: invitee.id, invitedById: null });
    });

    it("leaves cached reads of models no referential action reaches in the cache", async () => {
      const s = scope();
      const { user, tag } = await seed(s);
      const tagById = await probe.cache((db) => db.tag.findUnique({ where: { id: tag.id } }));
      const categories = await probe.cache((db) => db.category.findMany({ where: { name: { startsWith: s } } }));

      await bed.prisma.user.delete({ where: { id: user.id } });

      await probe.expectSurvives(tagById);
      await probe.expectSurvives(categories);
    });

    it("through deleteMany cascades and sets null the same way", async () => {
      const s = scope();
      const { user, post, comment, invitee } = await seed(s);
      const profile = await probe.cache((db) => db.profile.findUnique({ where: { userId: user.id } }));
      const postById = await probe.cache((db) => db.post.findUnique({ where: { id: post.id } }));
      const commentById = await probe.cache((db) => db.comment.findUnique({ where: { id: comment.id } }));
      const inviteeById = await probe.cache((db) => db.user.findUnique({ where: { id: invitee.id } }));

      await bed.prisma.user.deleteMany({ where: { email: `${s}@x` } });

      expect(await probe.expectFresh(profile)).toBeNull();
      expect(await probe.expectFresh(postById)).toMatchObject({ authorId: null });
      expect(await probe.expectFresh(commentById)).toMatchObject({ authorId: null });
      expect(await probe.expectFresh(inviteeById)).toMatchObject({ invitedById: null });
    });
  });

  describe("deleting a post", () => {
    it("cascades to its comments: cached comment reads lose them", async () => {
      const s = scope();
      const { post, comment, otherComment } = await seed(s);
      const byId = await probe.cache((db) => db.comment.findUnique({ where: { id: comment.id } }));
      const byPost = await probe.cache((db) => db.comment.findMany({ where: { postId: post.id } }));
      const count = await probe.cache((db) => db.comment.count({ where: { body: { startsWith: s } } }));
      const other = await probe.cache((db) => db.comment.findUnique({ where: { id: otherComment.id } }));

      await bed.prisma.post.delete({ where: { id: post.id } });

      expect(await probe.expectFresh(byId)).toBeNull();
      expect(await probe.expectFresh(byPost)).toEqual([]);
      expect(await probe.expectFresh(count)).toBe(1);
      // A cascade may name no rows, so the other comment's lookup may be evicted too; it must still be right.
      await probe.expectFresh(other, { changed: false });
    });

    it("cascades to PostTag: cached tag links and tags including posts lose it", async () => {
      const { post, tag } = await seed(scope());
      const link = await probe.cache((db) => db.postTag.findUnique({ where: { postId_tagId: { postId: post.id, tagId: tag.id } } }));
      const tagWithPosts = await probe.cache((db) => db.tag.findUnique({ where: { id: tag.id }, include: { posts: true } }));
      const tagCount = await probe.cache((db) => db.tag.findUnique({ where: { id: tag.id }, include: { _count: { select: { posts: true } } } }));

      await bed.prisma.post.delete({ where: { id: post.id } });

      expect(await probe.expectFresh(link)).toBeNull();
      expect(await probe.expectFresh(tagWithPosts)).toMatchObject({ posts: [] });
      expect(await probe.expectFresh(tagCount)).toMatchObject({ _count: { posts: 0 } });
    });

    it("removes it from the implicit Category m-n: cached categories including posts lose it", async () => {
      const s = scope();
      const { post, category } = await seed(s);
      const list = await probe.cache((db) => db.category.findMany({ where: { name: { startsWith: s } }, include: { posts: true } }));
      const one = await probe.cache((db) => db.category.findUnique({ where: { id: category.id }, include: { _count: true } }));
      const filtered = await probe.cache((db) => db.category.findMany({ where: { name: { startsWith: s }, posts: { some: {} } } }));

      await bed.prisma.post.delete({ where: { id: post.id } });

      expect(await probe.expectFresh(list)).toMatchObject([{ posts: [] }]);
      expect(await probe.expectFresh(one)).toMatchObject({ _count: { posts: 0 } });
      expect(await probe.expectFresh(filtered)).toEqual([]);
    });

    it("leaves cached reads of the tag itself and of users in the cache", async () => {
      const { post, tag, user } = await seed(scope());
      const tagById = await probe.cache((db) => db.tag.findUnique({ where: { id: tag.id } }));
      const userById = await probe.cache((db) => db.user.findUnique({ where: { id: user.id } }));

      await bed.prisma.post.delete({ where: { id: post.id } });

      await probe.expectSurvives(tagById);
      await probe.expectSurvives(userById);
    });

    it("through deleteMany cascades to comments, tag links and category links", async () => {
      const s = scope();
      const { post, comment, tag, category } = await seed(s);
      const commentById = await probe.cache((db) => db.comment.findUnique({ where: { id: comment.id } }));
      const link = await probe.cache((db) => db.postTag.findUnique({ where: { postId_tagId: { postId: post.id, tagId: tag.id } } }));
      const categoryPosts = await probe.cache((db) => db.category.findUnique({ where: { id: category.id }, include: { posts: true } }));

      await bed.prisma.post.deleteMany({ where: { slug: s } });

      expect(await probe.expectFresh(commentById)).toBeNull();
      expect(await probe.expectFresh(link)).toBeNull();
      expect(await probe.expectFresh(categoryPosts)).toMatchObject({ posts: [] });
    });
  });

  it("deleting a tag cascades to PostTag: a cached post including tags loses it", async () => {
    const { post, tag } = await seed(scope());
    await probe.expectCachedThenFresh(
      (db) => db.post.findUnique({ where: { id: post.id }, include: { tags: true } }),
      () => bed.prisma.tag.delete({ where: { id: tag.id } }),
    );
  });

  describe("deleting a category", () => {
    /** root → child → grandchild, the grandchild holding a post. */
    async function seedTree(s: string) {
      const db = bed.base.prisma;
      const root = await db.category.create({ data: { name: `${s}-root` } });
      const child = await db.category.create({ data: { name: `${s}-child`, parentId: root.id } });
      const grandchild = await db.category.create({ data: { name: `${s}-grandchild`, parentId: child.id } });
      const post = await db.post.create({ data: { title: s, slug: s, categories: { connect: { id: grandchild.id } } } });
      return { root, child, grandchild, post };
    }

    it("cascades two levels down the tree: cached lookups of the descendants return null", async () => {
      const s = scope();
      const { root, child, grandchild, post } = await seedTree(s);
      const childById = await probe.cache((db) => db.category.findUnique({ where: { id: child.id } }));
      const grandchildByName = await probe.cache((db) => db.category.findUnique({ where: { name: grandchild.name } }));
      const list = await probe.cache((db) => db.category.findMany({ where: { name: { startsWith: s } } }));
      const postCategories = await probe.cache((db) => db.post.findUnique({ where: { id: post.id }, include: { categories: true } }));

      await bed.prisma.category.delete({ where: { id: root.id } });

      expect(await probe.expectFresh(childById)).toBeNull();
      expect(await probe.expectFresh(grandchildByName)).toBeNull();
      expect(await probe.expectFresh(list)).toEqual([]);
      expect(await probe.expectFresh(postCategories)).toMatchObject({ categories: [] });
    });

    it("through deleteMany cascades two levels down the tree", async () => {
      const s = scope();
      const { grandchild } = await seedTree(s);
      const grandchildById = await probe.cache((db) => db.category.findUnique({ where: { id: grandchild.id } }));

      await bed.prisma.category.deleteMany({ where: { name: `${s}-root` } });

      expect(await probe.expectFresh(grandchildById)).toBeNull();
    });
  });

  describe("changing a referenced key (onUpdate Cascade)", () => {
    // Negative keys: an explicit key above the sequence moves MySQL's AUTO_INCREMENT and SQLite's AUTOINCREMENT
    // past it, so the next seeded row would take the key the following test picks.
    let nextKey = 1_000_000;
    const freshKey = () => -(++nextKey + (kind === "redis" ? 500_000 : 0));

    // InnoDB applies ON UPDATE CASCADE to a self-referencing foreign key (User.invitedById, Category.parentId) as
    // RESTRICT, so on MySQL these key changes fail in the database, with or without the cache.
    const selfCascades = provider !== "mysql";

    it.runIf(selfCascades)("a user's new id follows into Post.authorId, Comment.authorId, Profile.userId and User.invitedById", async () => {
      const { user, post, comment, invitee } = await seed(scope());
      const newId = freshKey();
      const postById = await probe.cache((db) => db.post.findUnique({ where: { id: post.id } }));
      const commentById = await probe.cache((db) => db.comment.findUnique({ where: { id: comment.id } }));
      const profileByOld = await probe.cache((db) => db.profile.findUnique({ where: { userId: user.id } }));
      const profileByNew = await probe.cache((db) => db.profile.findUnique({ where: { userId: newId } }));
      const inviteeById = await probe.cache((db) => db.user.findUnique({ where: { id: invitee.id } }));
      const userByEmail = await probe.cache((db) => db.user.findUnique({ where: { email: user.email } }));

      await bed.prisma.user.update({ where: { id: user.id }, data: { id: newId } });

      expect(await probe.expectFresh(postById)).toMatchObject({ authorId: newId });
      expect(await probe.expectFresh(commentById)).toMatchObject({ authorId: newId });
      expect(await probe.expectFresh(profileByOld)).toBeNull();
      expect(await probe.expectFresh(profileByNew)).toMatchObject({ userId: newId });
      expect(await probe.expectFresh(inviteeById)).toMatchObject({ invitedById: newId });
      expect(await probe.expectFresh(userByEmail)).toMatchObject({ id: newId });
    });

    it.runIf(selfCascades)("a user's new id set through updateMany follows into Post.authorId", async () => {
      const s = scope();
      const { post } = await seed(s);
      const newId = freshKey();
      await probe.expectCachedThenFresh(
        (db) => db.post.findUnique({ where: { id: post.id } }),
        () => bed.prisma.user.updateMany({ where: { email: `${s}@x` }, data: { id: newId } }),
      );
    });

    it("a post's new id follows into Comment.postId and PostTag.postId", async () => {
      const { post, comment, tag } = await seed(scope());
      const newId = freshKey();
      const commentById = await probe.cache((db) => db.comment.findUnique({ where: { id: comment.id } }));
      const links = await probe.cache((db) => db.postTag.findMany({ where: { tagId: tag.id } }));

      await bed.prisma.post.update({ where: { id: post.id }, data: { id: newId } });

      expect(await probe.expectFresh(commentById)).toMatchObject({ postId: newId });
      expect(await probe.expectFresh(links)).toMatchObject([{ postId: newId }]);
    });

    it.runIf(selfCascades)("a category's new id follows into its children's parentId", async () => {
      const s = scope();
      const root = await bed.base.prisma.category.create({ data: { name: `${s}-root` } });
      const child = await bed.base.prisma.category.create({ data: { name: `${s}-child`, parentId: root.id } });
      const newId = freshKey();
      const childById = await probe.cache((db) => db.category.findUnique({ where: { id: child.id } }));

      await bed.prisma.category.update({ where: { id: root.id }, data: { id: newId } });

      expect(await probe.expectFresh(childById)).toMatchObject({ parentId: newId });
    });
  });
});
