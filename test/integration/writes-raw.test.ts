/**
 * Raw SQL through the cached client: Prisma cannot say what a statement changed, so the plugin reads the table
 * names in its text. A statement naming a table evicts reads of that model (and of what its referential actions
 * reach); one naming no known table evicts everything; a `$queryRaw` that only reads evicts nothing.
 */
import { Prisma } from "../../generated/prisma/client.ts";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { createCacheBed, STORE_KINDS, type CacheBed } from "../support/cache-bed.ts";
import { dialect } from "../support/dialect.ts";
import { writeProbe, type WriteProbe } from "../support/write-probe.ts";

const provider = inject("provider");
/** The statements below are written as on Postgres; `q` turns them into this provider's SQL. */
const q = dialect(provider);

/**
 * Routines that write "User" without their caller naming the table: a function on Postgres, a procedure on MySQL,
 * an INSTEAD OF trigger on a view on SQLite (which has no stored routines).
 */
const RENAME_EVERYONE = {
  postgresql: {
    create: [`CREATE FUNCTION rename_everyone(to_name text) RETURNS integer LANGUAGE sql AS $$ UPDATE "User" SET name = to_name RETURNING 1 $$`],
    call: (name: string) => Prisma.sql`SELECT rename_everyone(${name})`,
  },
  mysql: {
    create: ["CREATE PROCEDURE rename_everyone(to_name VARCHAR(191)) UPDATE `User` SET name = to_name"],
    call: (name: string) => Prisma.sql`CALL rename_everyone(${name})`,
  },
  sqlite: {
    create: [`CREATE VIEW everyone AS SELECT name FROM "User"`, `CREATE TRIGGER rename_everyone INSTEAD OF UPDATE ON everyone BEGIN UPDATE "User" SET name = NEW.name; END`],
    call: (name: string) => Prisma.sql`UPDATE everyone SET name = ${name}`,
  },
}[provider];

/** audit_logs qualified by its schema (Postgres), database (MySQL) or attached database (SQLite). */
const qualifiedAuditLogs = (database: string) => (provider === "mysql" ? `\`${database}\`.\`audit_logs\`` : provider === "sqlite" ? `main."audit_logs"` : `public."audit_logs"`);

describe.each(STORE_KINDS)("%s store: raw SQL writes", (kind) => {
  let bed: CacheBed;
  let probe: WriteProbe;
  let seq = 0;
  const scope = () => `r${kind}${++seq}`;

  beforeAll(async () => {
    // A generous store timeout: a lookup that times out under load goes to the database and would read as a miss.
    bed = await createCacheBed(kind, { timeoutMs: 5_000 });
    probe = writeProbe(bed);
    for (const statement of RENAME_EVERYONE.create) await bed.base.prisma.$executeRawUnsafe(statement);
  });
  afterAll(() => bed?.close());

  async function seed(s: string) {
    const user = await bed.base.prisma.user.create({ data: { email: `${s}@x`, name: "Before", profile: { create: { bio: s } } } });
    const tag = await bed.base.prisma.tag.create({ data: { namespace: s, name: "t" } });
    const log = await bed.base.prisma.auditLog.create({ data: { action: `${s}-before` } });
    return { user, tag, log };
  }

  it('$executeRaw updating "User" evicts cached user reads and leaves a Tag read cached', async () => {
    const s = scope();
    const { user, tag } = await seed(s);
    const byId = await probe.cache((db) => db.user.findUnique({ where: { id: user.id } }));
    const list = await probe.cache((db) => db.user.findMany({ where: { email: { startsWith: s } } }));
    const tagById = await probe.cache((db) => db.tag.findUnique({ where: { id: tag.id } }));

    const changed = await bed.prisma.$executeRaw(q.sql`UPDATE "User" SET name = ${"After"} WHERE id = ${user.id}`);
    expect(changed).toBe(1);

    expect(await probe.expectFresh(byId)).toMatchObject({ name: "After" });
    await probe.expectFresh(list);
    await probe.expectSurvives(tagById);
  });

  it('$executeRawUnsafe updating "User" evicts cached user reads', async () => {
    const s = scope();
    const { user } = await seed(s);
    await probe.expectCachedThenFresh(
      (db) => db.user.findUnique({ where: { email: user.email } }),
      () => bed.prisma.$executeRawUnsafe(q.unsafe('UPDATE "User" SET name = $1 WHERE id = $2'), "After", user.id),
    );
  });

  it('$executeRaw deleting from "User" evicts cached reads of the rows its cascades delete', async () => {
    const s = scope();
    const { user } = await seed(s);
    const profile = await probe.cache((db) => db.profile.findUnique({ where: { userId: user.id } }));

    await bed.prisma.$executeRaw(q.sql`DELETE FROM "User" WHERE id = ${user.id}`);

    expect(await probe.expectFresh(profile)).toBeNull();
  });

  it("$executeRaw updating audit_logs (AuditLog's @@map table) evicts AuditLog reads and leaves Tag and User reads cached", async () => {
    const s = scope();
    const { log, tag, user } = await seed(s);
    const logById = await probe.cache((db) => db.auditLog.findUnique({ where: { id: log.id } }));
    const logs = await probe.cache((db) => db.auditLog.findMany({ where: { action: { startsWith: s } } }));
    const tagById = await probe.cache((db) => db.tag.findUnique({ where: { id: tag.id } }));
    const userById = await probe.cache((db) => db.user.findUnique({ where: { id: user.id } }));

    await bed.prisma.$executeRaw`UPDATE audit_logs SET action_name = ${`${s}-after`} WHERE id = ${log.id}`;

    expect(await probe.expectFresh(logById)).toMatchObject({ action: `${s}-after` });
    await probe.expectFresh(logs);
    await probe.expectSurvives(tagById);
    await probe.expectSurvives(userById);
  });

  it("$executeRawUnsafe inserting into a quoted, schema-qualified audit_logs evicts AuditLog reads", async () => {
    const s = scope();
    await seed(s);
    await probe.expectCachedThenFresh(
      (db) => db.auditLog.count({ where: { action: { startsWith: s } } }),
      () => bed.prisma.$executeRawUnsafe(q.unsafe(`INSERT INTO ${qualifiedAuditLogs(bed.db.name)} (action_name) VALUES ($1)`), `${s}-inserted`),
    );
  });

  it("$executeRaw on the implicit m-n join table evicts categories including posts", async () => {
    const s = scope();
    const category = await bed.base.prisma.category.create({ data: { name: s } });
    const post = await bed.base.prisma.post.create({ data: { title: s, slug: s, categories: { connect: { id: category.id } } } });
    await probe.expectCachedThenFresh(
      (db) => db.category.findUnique({ where: { id: category.id }, include: { posts: true } }),
      () => bed.prisma.$executeRaw(q.sql`DELETE FROM "_CategoryToPost" WHERE "B" = ${post.id}`),
    );
  });

  it("a statement naming no known table evicts every cached read", async () => {
    const s = scope();
    const { user, tag, log } = await seed(s);
    const userById = await probe.cache((db) => db.user.findUnique({ where: { id: user.id } }));
    const tagById = await probe.cache((db) => db.tag.findUnique({ where: { id: tag.id } }));
    const logById = await probe.cache((db) => db.auditLog.findUnique({ where: { id: log.id } }));

    await bed.prisma.$executeRaw(RENAME_EVERYONE.call(`${s}-renamed`));

    expect(await probe.expectFresh(userById)).toMatchObject({ name: `${s}-renamed` });
    await probe.expectFresh(tagById, { changed: false });
    await probe.expectFresh(logById, { changed: false });
  });

  it("$queryRaw with UPDATE ... RETURNING evicts cached user reads", async () => {
    const s = scope();
    const { user, tag } = await seed(s);
    const byId = await probe.cache((db) => db.user.findUnique({ where: { id: user.id } }));
    const tagById = await probe.cache((db) => db.tag.findUnique({ where: { id: tag.id } }));

    if (q.updateReturning) {
      const rows = await bed.prisma.$queryRaw<{ id: number }[]>(q.sql`UPDATE "User" SET name = ${"Returned"} WHERE id = ${user.id} RETURNING id`);
      expect(rows).toEqual([{ id: user.id }]);
    } else {
      // MariaDB has no UPDATE ... RETURNING; a $queryRaw that writes must invalidate all the same.
      await bed.prisma.$queryRaw(q.sql`UPDATE "User" SET name = ${"Returned"} WHERE id = ${user.id}`);
    }

    expect(await probe.expectFresh(byId)).toMatchObject({ name: "Returned" });
    await probe.expectSurvives(tagById);
  });

  it("$queryRawUnsafe with UPDATE ... RETURNING evicts cached user reads", async () => {
    const s = scope();
    const { user } = await seed(s);
    await probe.expectCachedThenFresh(
      (db) => db.user.findUnique({ where: { id: user.id } }),
      () => bed.prisma.$queryRawUnsafe(q.unsafe(`UPDATE "User" SET name = $1 WHERE id = $2${q.updateReturning ? " RETURNING id" : ""}`), "Returned", user.id),
    );
  });

  it("$queryRaw with a Prisma.sql query that writes evicts cached user reads", async () => {
    const s = scope();
    const { user } = await seed(s);
    await probe.expectCachedThenFresh(
      (db) => db.user.findUnique({ where: { id: user.id } }),
      () =>
        bed.prisma.$queryRaw(
          q.updateReturning ? q.sql`UPDATE "User" SET name = ${"Built"} WHERE id = ${user.id} RETURNING id` : q.sql`UPDATE "User" SET name = ${"Built"} WHERE id = ${user.id}`,
        ),
    );
  });

  it("a $queryRaw that only reads leaves cached reads in the cache", async () => {
    const s = scope();
    const { user, tag } = await seed(s);
    const byId = await probe.cache((db) => db.user.findUnique({ where: { id: user.id } }));
    const list = await probe.cache((db) => db.user.findMany({ where: { email: { startsWith: s } } }));
    const tagById = await probe.cache((db) => db.tag.findUnique({ where: { id: tag.id } }));

    const rows = await bed.prisma.$queryRaw<{ id: number; createdAt: Date }[]>(q.sql`SELECT id, "createdAt" FROM "User" WHERE id = ${user.id}`);
    expect(rows).toMatchObject([{ id: user.id }]);
    const unsafeRows = await bed.prisma.$queryRawUnsafe<unknown[]>(q.unsafe('SELECT id FROM "User" WHERE email = $1'), user.email);
    expect(unsafeRows).toHaveLength(1);

    await probe.expectSurvives(byId);
    await probe.expectSurvives(list);
    await probe.expectSurvives(tagById);
  });
});
