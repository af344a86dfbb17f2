/**
 * What the cache key must tell apart, seen from the outside: two calls Prisma answers differently never share an
 * entry, and a hit has the shape Prisma would return for that very call (issue 8, items 4, 10 and 11).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCacheBed, STORE_KINDS, type CacheBed } from "../support/cache-bed.ts";

const sample = (id: string, json: object) => ({
  id,
  text: id,
  int: 1,
  big: 1n,
  float: 1,
  decimal: "1",
  flag: true,
  at: new Date(0),
  json,
  bytes: new Uint8Array([1]),
  role: "USER" as const,
  words: [],
  numbers: [],
});

describe.each(STORE_KINDS)("%s store: keys", (kind) => {
  let bed: CacheBed;

  beforeAll(async () => {
    bed = await createCacheBed(kind);
    await bed.base.prisma.sample.create({ data: sample("a", { v: "http://a.example/" }) });
    await bed.base.prisma.sample.create({ data: sample("b", { v: "http://b.example/" }) });
    await bed.base.prisma.user.create({ data: { email: "ada@keys.test", name: "Ada" } });
  });

  afterAll(() => bed?.close());

  it("two class instances with the same fields but different JSON never share an entry (URL in a Json filter)", async () => {
    const read = (url: string) => bed.prisma.sample.findMany({ where: { json: { equals: { v: new URL(url) } as never } }, select: { id: true } });
    expect(await read("http://a.example/")).toEqual([{ id: "a" }]);
    expect(await read("http://b.example/")).toEqual([{ id: "b" }]);
    // Such args bypass the cache: the second read of each reached the database.
    bed.resetSql();
    expect(await read("http://b.example/")).toEqual([{ id: "b" }]);
    expect(bed.selects()).toBe(1);
  });

  it("a hit has the caller's select order, as Prisma returns it", async () => {
    const where = { email: "ada@keys.test" };
    const first = await bed.prisma.user.findUnique({ where, select: { email: true, name: true } });
    const second = await bed.prisma.user.findUnique({ where, select: { name: true, email: true } });
    const truth = await bed.base.prisma.user.findUnique({ where, select: { name: true, email: true } });
    expect(JSON.stringify(first)).toBe('{"email":"ada@keys.test","name":"Ada"}');
    expect(JSON.stringify(second)).toBe(JSON.stringify(truth));
    // And the same order again is a hit.
    bed.resetSql();
    expect(JSON.stringify(await bed.prisma.user.findUnique({ where, select: { name: true, email: true } }))).toBe(JSON.stringify(truth));
    expect(bed.selects()).toBe(0);
  });

  it("an entry filled by a call Prisma merged with another of the tick has its own select order (fuzz F4)", async () => {
    const where = { email: "ada@keys.test" };
    // Prisma merges same-tick findUnique calls, and may give the second one the first one's field order.
    await Promise.all([
      bed.prisma.user.findUniqueOrThrow({ where, select: { name: true, id: true, email: true } }),
      bed.prisma.user.findUniqueOrThrow({ where, select: { email: true, id: true, name: true } }),
    ]);
    const alone = await bed.base.prisma.user.findUniqueOrThrow({ where, select: { email: true, id: true, name: true } });
    bed.resetSql();
    const hit = await bed.prisma.user.findUniqueOrThrow({ where, select: { email: true, id: true, name: true } });
    expect(bed.selects()).toBe(0);
    expect(JSON.stringify(hit)).toBe(JSON.stringify(alone));
  });

  it("args nested too deep to key make the read reject like Prisma's, never throw synchronously", async () => {
    let where: Record<string, unknown> = { id: 1 };
    for (let i = 0; i < 5_000; i++) where = { NOT: where };
    let thrown: unknown;
    let promise: PromiseLike<unknown> | undefined;
    try {
      promise = bed.prisma.user.findMany({ where: where as never });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeUndefined();
    const settle = async (read: PromiseLike<unknown> | undefined) => {
      try {
        return { value: await read };
      } catch (error) {
        return { error: (error as Error).constructor.name };
      }
    };
    expect(await settle(promise)).toEqual(await settle(bed.base.prisma.user.findMany({ where: where as never })));
  });
});
