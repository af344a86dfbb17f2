/**
 * Type-level tests of ttl functions, checked by `npm run typecheck` and never run: a per-call `cacheStrategy.ttl`
 * function receives the read's own result type (and its args); a model-wide one may annotate its result; a ttl
 * function must return a number.
 */
import { cacheSchema } from "../../generated/cache/index.ts";
import type { PrismaClient } from "../../generated/prisma/client.ts";
import { cachePlugin } from "../../src/index.ts";

type Equal<X, Y> = (<T>() => T extends X ? 1 : 2) extends <T>() => T extends Y ? 1 : 2 ? true : false;
function assertType<T extends true>(): T | void {}

function withCache(prisma: PrismaClient) {
  return prisma.$extends(
    cachePlugin({
      schema: cacheSchema,
      // Model-wide: the result of any Post read; the function may say which shape it expects.
      models: { Post: { ttl: (post: { views: number } | null) => ((post?.views ?? 0) > 100 ? 3600 : 60) } },
    }),
  );
}

function perCallTtlSeesTheResultType(db: ReturnType<typeof withCache>): void {
  void db.post.findUnique({
    where: { id: 1 },
    select: { title: true },
    cacheStrategy: {
      ttl: (post) => {
        assertType<Equal<typeof post, { title: string } | null>>();
        return post === null ? 0 : 60;
      },
    },
  });
  void db.post.findMany({
    where: { published: true },
    cacheStrategy: {
      ttl: (posts, args) => {
        assertType<Equal<(typeof posts)[number]["views"], number>>();
        void args;
        return posts.length * 10;
      },
    },
  });
  void db.post.count({
    where: { published: true },
    cacheStrategy: {
      ttl: (count) => {
        assertType<Equal<typeof count, number>>();
        return count > 1000 ? 300 : 30;
      },
    },
  });
  // Known gap: with nothing but cacheStrategy in the args, TypeScript cannot infer them before typing the function;
  // annotate the parameter then.
  void db.post.count({ cacheStrategy: { ttl: (count: number) => count } });
  // @ts-expect-error a ttl function returns a number of seconds
  void db.post.findFirst({ where: { id: 1 }, cacheStrategy: { ttl: () => "60" } });
  // @ts-expect-error the result of findFirst may be null
  void db.post.findFirst({ where: { id: 1 }, cacheStrategy: { ttl: (post) => post.views } });
}

export { perCallTtlSeesTheResultType };
