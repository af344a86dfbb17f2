/**
 * A randomized checker of the cache's promise: once a write has returned, no read that starts afterwards returns
 * data older than that write.
 *
 * Several clients (separate PrismaClient instances, each with its own plugin, sharing Postgres and the store) run
 * random reads and writes concurrently over a few rows whose `views` column is a version counter that only grows,
 * through deletes and re-creates too (a delete's tombstone takes the next version, a re-create the one after). Each
 * operation records when it started and ended (one clock: all clients run in this process) and what versions it saw
 * or produced. A read of row X that started after a write of X had returned must see that write's version or a
 * later one; a read that saw X absent needs a delete of X whose tombstone is at least that version and which began
 * before the read ended.
 */
import pg from "pg";
import { cachePlugin, type CachePluginOptions, type CacheStore } from "../../src/index.ts";
import { CACHE_SCHEMAS } from "./cache-bed.ts";
import { dialect } from "./dialect.ts";
import { createTestClient, providerOfUrl, type TestClient } from "./prisma.ts";

export interface CheckerOptions {
  databaseUrl: string;
  /** A store per client; clients must share what the store holds (e.g. one Redis, one prefix). */
  store: (client: number) => CacheStore;
  /** Extra plugin options for every client. */
  plugin?: Omit<CachePluginOptions, "store" | "schema">;
  clients?: number;
  workersPerClient?: number;
  rows?: number;
  /** Stop after this long, in milliseconds... */
  durationMs?: number;
  /** ...or after this many operations in all, whichever comes first. */
  maxOperations?: number;
  /** Seed of the random choices. */
  seed?: number;
  /** Resolves when the stores are ready (e.g. L1 subscriptions live), before the workload starts. */
  waitUntilReady?: () => Promise<unknown>;
  /**
   * Workers that write only through a plain `pg` pool, which no plugin sees (`oob update(row)`): only a change feed
   * invalidates what they write, within its lag, so their violations carry `afterMs` to compare with that bound.
   * @default 0
   */
  outOfBandWriters?: number;
}

export interface Violation {
  row: number;
  read: string;
  saw: number | "absent";
  required: number;
  byWrite: string;
  /** Milliseconds between the write's return and the read's start. */
  afterMs: number;
}

export interface CheckerReport {
  operations: number;
  reads: number;
  writes: number;
  /** Row observations checked (a list read checks several rows). */
  observationsChecked: number;
  violations: Violation[];
  hits: number;
  /** Hits answered by an in-process tier without a store round trip. */
  l1Hits: number;
  misses: number;
  errors: number;
  durationMs: number;
}

const ABSENT = "absent" as const;

interface Operation {
  name: string;
  start: number;
  end: number;
  /** Reads: what each row was seen as. */
  saw?: Map<number, number | typeof ABSENT>;
  /** Writes: the version each row reached (a delete: its tombstone). */
  wrote?: Map<number, { version: number; deleted: boolean }>;
}

type Client = ReturnType<typeof makeClient>;

/** A client of its own (pool and plugin instance) on the database at `url`, on Postgres or MySQL. */
function makeClient(url: string, store: CacheStore, plugin: CheckerOptions["plugin"]) {
  const base = createTestClient({ url });
  const prisma = base.prisma.$extends(cachePlugin({ ...plugin, schema: CACHE_SCHEMAS[base.provider], store }));
  return { base, prisma, close: () => base.close() };
}

/** Runs the workload and checks the history. */
export async function runCoherenceChecker(options: CheckerOptions): Promise<CheckerReport> {
  const clientsCount = options.clients ?? 4;
  const workers = options.workersPerClient ?? 4;
  const rowCount = options.rows ?? 12;
  const durationMs = options.durationMs ?? 5_000;
  const maxOperations = options.maxOperations ?? Infinity;
  const random = mulberry32(options.seed ?? 1);

  const adminClient = createTestClient({ url: options.databaseUrl });
  const admin = adminClient.prisma;
  const provider = providerOfUrl(options.databaseUrl);
  const sql = dialect(provider);
  await admin.comment.deleteMany();
  await admin.post.deleteMany();
  await admin.user.deleteMany();
  const authors = [await admin.user.create({ data: { email: "author0@check" } }), await admin.user.create({ data: { email: "author1@check" } })];
  const rows = Array.from({ length: rowCount }, (_, i) => i + 1);
  const authorOf = (row: number) => authors[row % authors.length]!.id;
  for (const row of rows) await admin.post.create({ data: { id: row, title: `p${row}`, slug: `p${row}`, views: 1, authorId: authorOf(row) } });

  const clients: Client[] = Array.from({ length: clientsCount }, (_, i) => makeClient(options.databaseUrl, options.store(i), options.plugin));
  await options.waitUntilReady?.();
  const history: Operation[] = [{ name: "seed", start: -Infinity, end: -Infinity, wrote: new Map(rows.map((row) => [row, { version: 1, deleted: false }])) }];
  // Deletes and re-creates of one row are serialized so each knows the version it must continue from.
  const rowLocks = new Map<number, Promise<void>>();
  const lastTombstone = new Map<number, number>();
  let started = 0;
  const deadline = performance.now() + durationMs;
  const startedAt = performance.now();

  const pickRow = () => rows[Math.floor(random() * rows.length)]!;
  const record = async (name: string, body: () => Promise<Partial<Operation>>) => {
    const start = performance.now();
    try {
      const result = await body();
      history.push({ name, start, end: performance.now(), ...result });
    } catch (error) {
      // A write on a row deleted meanwhile fails with a Prisma known-request error (P20xx): it changed nothing.
      if (!/^P20\d\d$/.test((error as { code?: string }).code ?? "")) throw error;
    }
  };

  const operations: ((client: Client) => Promise<void>)[] = [
    // Reads.
    (c) => {
      const row = pickRow();
      return record(`findUnique(${row})`, async () => ({ saw: seen([row], [await c.prisma.post.findUnique({ where: { id: row } })]) }));
    },
    (c) => {
      const row = pickRow();
      return record(`findUnique(slug p${row})`, async () => ({ saw: seen([row], [await c.prisma.post.findUnique({ where: { slug: `p${row}` } })]) }));
    },
    (c) =>
      record("findMany(all)", async () => {
        const found = await c.prisma.post.findMany({ where: { id: { in: rows } }, orderBy: { id: "asc" } });
        return {
          saw: seen(
            rows,
            rows.map((row) => found.find((post) => post.id === row) ?? null),
          ),
        };
      }),
    (c) => {
      const author = authors[Math.floor(random() * authors.length)]!.id;
      return record(`user(${author}).include(posts)`, async () => {
        const user = await c.prisma.user.findUnique({ where: { id: author }, include: { posts: true } });
        const mine = rows.filter((row) => authorOf(row) === author);
        return {
          saw: seen(
            mine,
            mine.map((row) => user?.posts.find((post) => post.id === row) ?? null),
          ),
        };
      });
    },
    (c) => {
      const row = pickRow();
      return record(`findFirst(${row})`, async () => ({ saw: seen([row], [await c.prisma.post.findFirst({ where: { id: row, title: { startsWith: "p" } } })]) }));
    },
    // Writes.
    (c) => {
      const row = pickRow();
      return record(`update(${row})`, async () => {
        const post = await c.prisma.post.update({ where: { id: row }, data: { views: { increment: 1 } } });
        return { wrote: wrote([post]) };
      });
    },
    (c) => {
      // Rows locked in id order: two transactions locking in opposite orders would deadlock (and wait a second).
      const pair = [pickRow(), pickRow()].sort((a, b) => a - b);
      if (provider === "mysql") {
        // No updateManyAndReturn on MySQL: updateMany, and the versions it wrote read under its row locks.
        return record(`updateMany(${pair})`, async () => ({
          wrote: wrote(
            await c.prisma.$transaction(async (tx) => {
              await tx.post.updateMany({ where: { id: { in: pair } }, data: { views: { increment: 1 } } });
              return tx.post.findMany({ where: { id: { in: pair } }, select: { id: true, views: true } });
            }),
          ),
        }));
      }
      return record(`updateManyAndReturn(${pair})`, async () => ({
        wrote: wrote(await c.prisma.post.updateManyAndReturn({ where: { id: { in: pair } }, data: { views: { increment: 1 } } })),
      }));
    },
    (c) => {
      const row = pickRow();
      return record(`nested update(${row})`, async () => {
        const user = await c.prisma.user.update({
          where: { id: authorOf(row) },
          data: { posts: { update: { where: { id: row }, data: { views: { increment: 1 } } } } },
          include: { posts: { where: { id: row } } },
        });
        return { wrote: wrote(user.posts) };
      });
    },
    (c) => {
      const [a, b] = [pickRow(), pickRow()].sort((x, y) => x - y) as [number, number];
      return record(`batch(${a},${b})`, async () => {
        const posts = await c.prisma.$transaction([
          c.prisma.post.update({ where: { id: a }, data: { views: { increment: 1 } } }),
          c.prisma.post.update({ where: { id: b }, data: { views: { increment: 1 } } }),
        ]);
        return { wrote: wrote(a === b ? [posts[1]] : posts) };
      });
    },
    (c) => {
      const row = pickRow();
      return record(`interactive(${row})`, async () => {
        const post = await c.prisma.$transaction(async (tx) => tx.post.update({ where: { id: row }, data: { views: { increment: 1 } } }));
        return { wrote: wrote([post]) };
      });
    },
    (c) => {
      const row = pickRow();
      return record(`raw update(${row})`, async () => {
        if (sql.updateReturning) {
          const posts = await c.prisma.$queryRaw<{ id: number; views: number }[]>(sql.sql`UPDATE "Post" SET views = views + 1 WHERE id = ${row} RETURNING id, views`);
          return { wrote: wrote(posts) };
        }
        // MariaDB has no UPDATE ... RETURNING: the raw update and the read of its version share a transaction, whose
        // row lock keeps other writers out until it commits.
        const posts = await c.prisma.$transaction(async (tx) => {
          await tx.$executeRaw(sql.sql`UPDATE "Post" SET views = views + 1 WHERE id = ${row}`);
          return tx.post.findMany({ where: { id: row }, select: { id: true, views: true } });
        });
        return { wrote: wrote(posts) };
      });
    },
    (c) => {
      const row = pickRow();
      return withRowLock(rowLocks, row, async () => {
        await record(`delete(${row})`, async () => {
          // Through the cached client (typed as the plain one: the extension changes no write's signature).
          const tombstone = (await deleteReportingVersion(c.prisma as unknown as TestClient["prisma"], provider, row)) + 1;
          lastTombstone.set(row, tombstone);
          return { wrote: new Map([[row, { version: tombstone, deleted: true }]]) };
        });
        const tombstone = lastTombstone.get(row);
        if (tombstone === undefined) return;
        await record(`recreate(${row})`, async () => {
          const post = await c.prisma.post.create({ data: { id: row, title: `p${row}`, slug: `p${row}`, views: tombstone + 1, authorId: authorOf(row) } });
          return { wrote: wrote([post]) };
        });
      });
    },
  ];
  // Reads outnumber writes, as in most apps.
  const weights = [12, 4, 4, 4, 3, 2, 1, 1, 1, 1, 1, 1];
  const totalWeight = weights.reduce((a, b) => a + b, 0);
  const choose = () => {
    let r = random() * totalWeight;
    for (let i = 0; i < weights.length; i++) if ((r -= weights[i]!) < 0) return operations[i]!;
    return operations[0]!;
  };

  const loops = clients.flatMap((client) =>
    Array.from({ length: workers }, async () => {
      while (performance.now() < deadline && started < maxOperations) {
        started++;
        await choose()(client);
      }
    }),
  );
  const outOfBand = new pg.Pool({ connectionString: options.databaseUrl, max: 2 });
  outOfBand.on("error", () => {});
  for (let i = 0; i < (options.outOfBandWriters ?? 0); i++) {
    loops.push(
      (async () => {
        while (performance.now() < deadline && started < maxOperations) {
          started++;
          const row = pickRow();
          await record(`oob update(${row})`, async () => {
            const { rows } = await outOfBand.query<{ id: number; views: number }>(`UPDATE "Post" SET views = views + 1 WHERE id = $1 RETURNING id, views`, [row]);
            return { wrote: wrote(rows) };
          });
        }
      })(),
    );
  }
  try {
    await Promise.all(loops);
  } finally {
    const stats = clients.map((c) => c.prisma.$cache.stats());
    // The extended client's $disconnect also stops a change feed.
    await Promise.all(clients.map(async (c) => (await c.prisma.$disconnect(), await c.close())));
    await outOfBand.end();
    await adminClient.close();
    const violations = check(history);
    const reads = history.filter((op) => op.saw);
    return {
      operations: history.length - 1,
      reads: reads.length,
      writes: history.length - 1 - reads.length,
      observationsChecked: reads.reduce((n, op) => n + op.saw!.size, 0),
      violations,
      hits: stats.reduce((n, s) => n + s.hits, 0),
      l1Hits: stats.reduce((n, s) => n + s.l1Hits, 0),
      misses: stats.reduce((n, s) => n + s.misses, 0),
      errors: stats.reduce((n, s) => n + s.errors, 0),
      durationMs: performance.now() - startedAt,
    };
  }
}

/** Every violation in the history, as defined at the top of this file. */
export function check(history: readonly Operation[]): Violation[] {
  const writesByRow = new Map<number, Operation[]>();
  for (const op of history) for (const row of op.wrote?.keys() ?? []) (writesByRow.get(row) ?? writesByRow.set(row, []).get(row)!).push(op);
  const violations: Violation[] = [];
  for (const read of history) {
    for (const [row, saw] of read.saw ?? []) {
      let required = 0;
      let by: Operation | undefined;
      for (const write of writesByRow.get(row) ?? []) {
        const version = write.wrote!.get(row)!.version;
        if (write.end < read.start && version > required) {
          required = version;
          by = write;
        }
      }
      const ok =
        saw === ABSENT ? (writesByRow.get(row) ?? []).some((w) => w.wrote!.get(row)!.deleted && w.wrote!.get(row)!.version >= required && w.start < read.end) : saw >= required;
      if (!ok) violations.push({ row, read: read.name, saw, required, byWrite: by?.name ?? "?", afterMs: read.start - (by?.end ?? 0) });
    }
  }
  return violations;
}

/**
 * Deletes post `row` and returns the version (`views`) it deleted, which a tombstone must exceed.
 *
 * On Postgres, `DELETE ... RETURNING` returns the row it deleted: if an update held the row, the delete waited for
 * it and returns the row as that update left it. Prisma on MySQL has no RETURNING: a delete is `BEGIN; SELECT;
 * DELETE; COMMIT`, and the SELECT is a plain consistent read that takes no lock. An update that holds the row then
 * makes the DELETE wait, and commits first: the DELETE removes the updated row while Prisma returns the one the
 * SELECT saw, a version older than the update's (which had returned to its caller). A tombstone built from it is
 * older than that update, so a read that rightly found the row gone would be flagged. So on MySQL the version is
 * read with `SELECT ... FOR UPDATE` in the delete's transaction: the row lock keeps other writers out until the
 * delete commits, so the version read is the version deleted.
 */
export async function deleteReportingVersion(prisma: TestClient["prisma"], provider: string, row: number): Promise<number> {
  if (provider !== "mysql") return (await prisma.post.delete({ where: { id: row } })).views;
  const sql = dialect(provider);
  return prisma.$transaction(async (tx) => {
    const locked = await tx.$queryRaw<{ views: number }[]>(sql.sql`SELECT views FROM "Post" WHERE id = ${row} FOR UPDATE`);
    // When the row is gone already, the delete fails with P2025, as a plain delete would.
    await tx.post.delete({ where: { id: row } });
    return locked[0]!.views;
  });
}

function seen(rows: number[], posts: ({ views: number } | null)[]): Map<number, number | typeof ABSENT> {
  return new Map(rows.map((row, i) => [row, posts[i]?.views ?? ABSENT]));
}

function wrote(posts: { id: number; views: number }[]): Map<number, { version: number; deleted: boolean }> {
  return new Map(posts.map((post) => [post.id, { version: post.views, deleted: false }]));
}

async function withRowLock(locks: Map<number, Promise<void>>, row: number, body: () => Promise<void>): Promise<void> {
  const previous = locks.get(row) ?? Promise.resolve();
  const next = previous.then(body, body);
  locks.set(
    row,
    next.catch(() => {}),
  );
  await next;
}

/** A small seeded PRNG, so a failing run can be replayed with its seed. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
