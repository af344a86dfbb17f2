/**
 * Issue 8, item 1. Equivalent spellings of a unique value: the database matches
 * a lookup to a row although the lookup's value is not the row's stored spelling (Postgres folds `@db.Uuid` to
 * lower case, compares `citext` case-insensitively and pads `Char(n)`; MariaDB's utf8mb4_unicode_ci ignores case,
 * accents and trailing spaces; SQLite's COLLATE NOCASE ignores ASCII case). The plugin keys such a lookup's row
 * stamp by the spelling in the args, while a write naming the row by its stored value advances the stored
 * spelling's stamp only, so the other spelling's cached answer outlives the write until its TTL.
 *
 * Fixed by giving such lookups a loose entry (docs/stamps-and-fences.md, "Spellings"). Repro, on Postgres:
 *   await prisma.session.findUnique({ where: { id: ID.toUpperCase() } });          // fills
 *   await prisma.session.update({ where: { id: ID }, data: { os: "after" } });
 *   await prisma.session.findUnique({ where: { id: ID.toUpperCase() } });          // cached "before"; Prisma: "after"
 *
 * Every expectation compares with a plain Prisma client on the same database: the ORM is the oracle.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { createCacheBed, STORE_KINDS, type CacheBed } from "../support/cache-bed.ts";

const provider = inject("provider");

/** A unique lookup of Session by a value the database matches to `stored` without being it. */
interface Spelling {
  name: string;
  /** The stored row's values of the unique fields, from its key `n` (distinct rows per test). */
  where: (row: StoredSession) => { id: string } | { email: string } | { code: string };
}

interface StoredSession {
  id: string;
  email: string;
  code: string;
}

/** A row whose unique values are all lower case ASCII (so every provider stores them as given). */
function storedSession(n: number, kind: string): StoredSession {
  const hex = (n + (kind === "redis" ? 0x8000 : 0)).toString(16).padStart(12, "0");
  return { id: `6f1c2a4e-9b3d-4c5e-8f7a-${hex}`, email: `ada${n}${kind}@x.test`, code: `c${n}${kind[0]}`.slice(0, 8) };
}

const upper = (value: string) => value.toUpperCase();

const SPELLINGS: Record<string, Spelling[]> = {
  postgresql: [
    { name: "@db.Uuid id in upper case", where: (row) => ({ id: upper(row.id) }) },
    { name: "citext email in upper case", where: (row) => ({ email: upper(row.email) }) },
    // Char(8) returns the value padded to 8; the unpadded value matches it.
    { name: "Char(8) code without its padding", where: (row) => ({ code: row.code }) },
  ],
  mysql: [
    { name: "email in upper case", where: (row) => ({ email: upper(row.email) }) },
    { name: "email with a trailing space", where: (row) => ({ email: `${row.email} ` }) },
    { name: "email with accents", where: (row) => ({ email: row.email.replace("ada", "ádà") }) },
    { name: "Char(36) id in upper case", where: (row) => ({ id: upper(row.id) }) },
  ],
  sqlite: [
    { name: "COLLATE NOCASE email in upper case", where: (row) => ({ email: upper(row.email) }) },
    { name: "COLLATE NOCASE code in upper case", where: (row) => ({ code: upper(row.code) }) },
  ],
};

describe.each(STORE_KINDS)("%s store: another spelling of a unique value", (kind) => {
  let bed: CacheBed;
  let n = 0;

  beforeAll(async () => {
    bed = await createCacheBed(kind, { timeoutMs: 5_000 });
  });
  afterAll(() => bed?.close());

  async function create(row: StoredSession) {
    return bed.base.prisma.session.create({ data: { ...row, os: "before" } });
  }

  describe.each(SPELLINGS[provider]!)("$name", ({ where }) => {
    it("matches the stored row in the database (the premise)", async () => {
      const row = storedSession(++n, kind);
      const created = await create(row);
      expect(await bed.base.prisma.session.findUnique({ where: where(row) })).toStrictEqual(created);
    });

    it("is served from the cache while nothing is written (its loose entry)", async () => {
      const row = storedSession(++n, kind);
      const created = await create(row);
      const lookup = () => bed.prisma.session.findUnique({ where: where(row) });
      expect(await lookup()).toStrictEqual(created); // fills
      bed.resetSql();
      expect(await lookup()).toStrictEqual(created);
      expect(bed.selects()).toBe(0);
    });

    it("is not served from the cache after an update names the row by its stored value", async () => {
      const row = storedSession(++n, kind);
      const created = await create(row);
      const lookup = () => bed.prisma.session.findUnique({ where: where(row) });
      expect(await lookup()).toStrictEqual(created); // fills

      await bed.prisma.session.update({ where: { id: created.id }, data: { os: "after" } });

      const truth = await bed.base.prisma.session.findUnique({ where: where(row) });
      expect(truth).toMatchObject({ os: "after" });
      expect(await lookup()).toStrictEqual(truth);
    });

    it("is not served from the cache after a delete names the row by its stored value", async () => {
      const row = storedSession(++n, kind);
      const created = await create(row);
      const lookup = () => bed.prisma.session.findUnique({ where: where(row) });
      expect(await lookup()).toStrictEqual(created);

      await bed.prisma.session.delete({ where: { id: created.id } });

      expect(await bed.base.prisma.session.findUnique({ where: where(row) })).toBeNull();
      expect(await lookup()).toBeNull();
    });

    it("does not keep a cached null after the insert of a row it matches", async () => {
      const row = storedSession(++n, kind);
      const lookup = () => bed.prisma.session.findUnique({ where: where(row) });
      expect(await lookup()).toBeNull(); // fills a null

      await bed.prisma.session.create({ data: { ...row, os: "created" } });

      const truth = await bed.base.prisma.session.findUnique({ where: where(row) });
      expect(truth).toMatchObject({ os: "created" });
      expect(await lookup()).toStrictEqual(truth);
    });

    // Fuzz F5: Prisma merges the findUnique calls of a tick and matches rows back by value in JavaScript, so a burst
    // of this spelling gets null from Prisma itself (P1); that null must not be what a later lone read is served.
    it("does not cache the null Prisma's merge of a burst gives it (fuzz F5)", async () => {
      const row = storedSession(++n, kind);
      const created = await create(row);
      const selectA = { id: true, os: true, email: true };
      const selectB = { email: true, id: true, os: true };
      const burst = (client: typeof bed.base.prisma) =>
        Promise.all([client.session.findUnique({ where: where(row), select: selectA }), client.session.findUnique({ where: where(row), select: selectB })]);
      const plain = await bed.base.prisma.session.findUnique({ where: where(row), select: selectA });
      expect(plain).toStrictEqual({ id: created.id, os: "before", email: created.email });

      const truthOfBurst = await burst(bed.base.prisma);
      expect(await burst(bed.prisma as unknown as typeof bed.base.prisma)).toStrictEqual(truthOfBurst);

      expect(await bed.prisma.session.findUnique({ where: where(row), select: selectA })).toStrictEqual(plain);
      expect(await bed.prisma.session.findUnique({ where: where(row), select: selectB })).toStrictEqual({ email: created.email, id: created.id, os: "before" });
    });
  });
});
