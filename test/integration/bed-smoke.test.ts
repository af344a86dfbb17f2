import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCacheBed, STORE_KINDS, type CacheBed } from "../support/cache-bed.ts";

describe.each(STORE_KINDS)("%s store: cache bed", (kind) => {
  let bed: CacheBed;
  beforeAll(async () => {
    bed = await createCacheBed(kind);
  });
  afterAll(() => bed?.close());

  it("serves a repeated findUnique from the cache", async () => {
    const user = await bed.base.prisma.user.create({ data: { email: "a@x" } });
    bed.resetSql();
    const first = await bed.prisma.user.findUnique({ where: { id: user.id } });
    const second = await bed.prisma.user.findUnique({ where: { id: user.id } });
    expect(second).toStrictEqual(first);
    expect(bed.selects()).toBe(1);
  });
});
