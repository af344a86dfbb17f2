/**
 * Issue 8, item 2: a `findFirst` whose `where` pins one row by a unique key but that also has a `cursor` on another
 * row depends on that other row too (the cursor row's position decides whether the pinned row is in the window).
 * Planned as a row lookup, it depended only on the pinned row's stamp, so a delete of the cursor row left it cached
 * although Prisma then returns `null`. It now depends on `m:<Model>`, which every write of the model advances.
 *
 * Every expectation compares with a plain Prisma client on the same database: the ORM is the oracle.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCacheBed, STORE_KINDS, type CacheBed } from "../support/cache-bed.ts";

describe.each(STORE_KINDS)("%s store: findFirst by a unique key with a cursor on another row", (kind) => {
  let bed: CacheBed;
  let n = 0;

  beforeAll(async () => {
    bed = await createCacheBed(kind, { timeoutMs: 5_000 });
  });
  afterAll(() => bed?.close());

  /** Two tags (no relation whose deletion would touch every unique lookup of Tag), `first` the cursor row. */
  async function tags() {
    n += 1;
    const first = await bed.base.prisma.tag.create({ data: { namespace: `cursor${kind}`, name: `a${n}` } });
    const second = await bed.base.prisma.tag.create({ data: { namespace: `cursor${kind}`, name: `b${n}` } });
    return { first, second };
  }

  for (const operation of ["findFirst", "findFirstOrThrow"] as const) {
    it(`${operation}: is not served after a delete of the cursor row`, async () => {
      const { first, second } = await tags();
      const args = { where: { id: second.id }, cursor: { id: first.id } };
      const lookup = () => bed.prisma.tag[operation](args);
      expect(await lookup()).toStrictEqual(second); // fills
      bed.resetSql();
      expect(await lookup()).toStrictEqual(second);
      expect(bed.selects()).toBe(0); // a hit while nothing changed

      await bed.prisma.tag.delete({ where: { id: first.id } });

      expect(await bed.base.prisma.tag.findFirst(args)).toBeNull();
      if (operation === "findFirst") expect(await lookup()).toBeNull();
      else await expect(lookup()).rejects.toMatchObject({ code: "P2025" });
    });
  }
});
