/**
 * `npm run demo`: the plugin on embedded defaults, no servers. Postgres runs in-process (PGlite), the cache is the
 * in-process memory store. Prints hits, misses, database queries saved, and the time per query cached vs uncached.
 */
import { cacheSchema } from "../generated/cache/index.ts";
import { cachePlugin } from "../src/index.ts";
import { embeddedPostgres } from "./embedded-postgres.ts";

const USERS = 50;
const READS = 300;

async function main(): Promise<void> {
  const { base, sql, close } = await embeddedPostgres();
  const prisma = base.$extends(cachePlugin({ schema: cacheSchema, ttl: 60 }));

  for (let i = 1; i <= USERS; i++) {
    await base.user.create({
      data: { email: `user${i}@example.com`, name: `User ${i}`, posts: { create: [{ title: `Hello ${i}`, slug: `hello-${i}`, published: true }] } },
    });
  }
  const ids = (await base.user.findMany({ select: { id: true } })).map((u) => u.id);
  // Skewed popularity, as in most apps: a few users are read most of the time.
  const pick = () => ids[Math.floor(ids.length * Math.random() ** 3)]!;

  console.log(`prisma-cache-plugin demo: ${USERS} users in in-process Postgres (PGlite), memory store\n`);
  const read = (client: typeof base) => client.user.findUnique({ where: { id: pick() }, include: { posts: true } });

  sql.reset();
  const uncached = await time(() => read(base));
  const uncachedQueries = sql.count;

  sql.reset();
  const coldAndWarm = await time(() => read(prisma as unknown as typeof base));
  const cachedQueries = sql.count;
  const stats = prisma.$cache.stats();
  // Every user is cached now: the time of a hit alone.
  const hit = await time(() => read(prisma as unknown as typeof base));

  console.log(`${READS} x user.findUnique({ where: { id }, include: { posts: true } }), popular users read most`);
  console.log(`  uncached:          ${uncached.toFixed(1)} µs/query, ${uncachedQueries} SQL statements`);
  console.log(`  cached, from cold: ${coldAndWarm.toFixed(1)} µs/query, ${cachedQueries} SQL statements (hits ${stats.hits}, misses ${stats.misses})`);
  console.log(`  cache hit alone:   ${hit.toFixed(1)} µs/query, ${(uncached / hit).toFixed(0)}x faster than uncached`);
  console.log(`  database queries saved: ${uncachedQueries - cachedQueries} of ${uncachedQueries}\n`);

  // Writes invalidate exactly what they change, before they return.
  const id = ids[0]!;
  await prisma.user.findUnique({ where: { id } });
  await prisma.user.update({ where: { id }, data: { name: "Renamed" } });
  sql.reset();
  const after = await prisma.user.findUnique({ where: { id } });
  console.log(`after user.update, the next read returns "${after?.name}" (${sql.count} SQL: the stale entry was invalidated)`);
  const other = ids[1]!;
  await prisma.user.findUnique({ where: { id: other } });
  sql.reset();
  await prisma.user.findUnique({ where: { id: other } });
  console.log(`an unrelated cached user is still served from the cache (${sql.count} SQL)`);

  // Relation-aware: a cached read that includes posts does not survive a new post.
  await prisma.user.findMany({ where: { id }, include: { posts: true } });
  await prisma.post.create({ data: { title: "New", slug: "new-post", authorId: id } });
  const withPosts = await prisma.user.findMany({ where: { id }, include: { posts: true } });
  console.log(`after post.create, user.findMany({ include: { posts } }) shows ${withPosts[0]?.posts.length} posts`);

  // Tags drop groups of entries at once.
  await prisma.post.findMany({ where: { published: true }, cacheStrategy: { ttl: 30, tags: ["feed"] } });
  await prisma.$cache.invalidate({ tags: ["feed"] });
  sql.reset();
  await prisma.post.findMany({ where: { published: true }, cacheStrategy: { ttl: 30, tags: ["feed"] } });
  console.log(`after $cache.invalidate({ tags: ["feed"] }) the feed is read again (${sql.count} SQL)`);

  await close();
}

/** Average microseconds per call over READS sequential calls. */
async function time(call: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < READS; i++) await call();
  return ((performance.now() - started) * 1000) / READS;
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
