/**
 * The `onInvalidate` hook (issue 12, "bridge to the HTTP tier"): told the models and tags of every invalidation, so
 * an app can purge a CDN by surrogate key; a failing hook never fails the write.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CacheError, InvalidatedGroups } from "../../src/index.ts";
import { createCacheBed, type CacheBed } from "../support/cache-bed.ts";
import { waitFor } from "../support/poll.ts";
import { uniquePrefix } from "../support/redis.ts";

describe("onInvalidate", () => {
  let bed: CacheBed;
  let authorId: number;

  beforeAll(async () => {
    bed = await createCacheBed("redis");
    authorId = (await bed.base.prisma.user.create({ data: { email: "hook@example.com", name: "Hook" } })).id;
  });
  afterAll(() => bed?.close());

  function client(onInvalidate: (event: InvalidatedGroups) => unknown) {
    const errors: CacheError[] = [];
    const { prisma } = bed.cached({ prefix: uniquePrefix("hook"), onInvalidate, onError: (error) => errors.push(error), models: { Post: { tags: ["posts"] } } });
    return { prisma, errors };
  }

  it("tells the models a write changes, and the tags of explicit invalidations", async () => {
    const events: InvalidatedGroups[] = [];
    const { prisma } = client((event) => events.push(event));
    const post = await prisma.post.create({ data: { title: "t", slug: `hook-${Date.now()}`, authorId } });
    expect(events.at(-1)?.models).toContain("Post");
    expect(events.at(-1)?.all).toBe(false);

    await prisma.post.update({ where: { id: post.id }, data: { title: "u" } });
    expect(events.at(-1)?.models).toContain("Post");

    await prisma.$cache.invalidate({ tags: ["feed"] });
    expect(events.at(-1)).toEqual({ models: [], tags: ["feed"], all: false });

    await prisma.$cache.invalidateAll();
    expect(events.at(-1)?.all).toBe(true);
  });

  it("a throwing or rejecting hook goes to onError as HOOK_FAILED; the write succeeds and still invalidates", async () => {
    const thrower = client(() => {
      throw new Error("purge down");
    });
    const read = () => thrower.prisma.user.findUnique({ where: { id: authorId } });
    await read();
    await thrower.prisma.user.update({ where: { id: authorId }, data: { name: "After" } });
    expect(thrower.errors.map((error) => error.code)).toEqual(["HOOK_FAILED"]);
    bed.resetSql();
    expect(await read()).toMatchObject({ name: "After" });
    expect(bed.selects(), "the write invalidated the cached read").toBe(1);

    const rejecter = client(() => Promise.reject(new Error("purge timed out")));
    await rejecter.prisma.user.update({ where: { id: authorId }, data: { name: "Again" } });
    await waitFor(() => expect(rejecter.errors.map((error) => error.code)).toEqual(["HOOK_FAILED"]), "the rejection is reported");
  });
});
