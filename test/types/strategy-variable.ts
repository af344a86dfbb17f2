/**
 * A `cacheStrategy` held in a variable typed `CacheStrategy` must not cost the call its `include` in the result type
 * (the ttl-function typing once made TypeScript infer the args from the strategy; found by the packed-tarball test).
 */
import type { CacheStrategy } from "../../src/index.ts";
import type { Cached } from "./cache-strategy.ts";
declare const db: Cached;
const strategy: CacheStrategy = { ttl: 10, tags: ["users"] };
export async function strategyVariableKeepsInclude(): Promise<string[]> {
  const user = await db.user.findUnique({ where: { email: "a@example.com" }, include: { posts: true }, cacheStrategy: strategy });
  const u2 = await db.user.findUnique({ where: { email: "a@example.com" }, include: { posts: true } });
  const u3 = await db.user.findUnique({ where: { email: "a@example.com" }, include: { posts: true }, cacheStrategy: { ttl: 5 } });
  return [...(user?.posts.map((post) => post.title) ?? []), ...(u2?.posts.map((p) => p.title) ?? []), ...(u3?.posts.map((p) => p.title) ?? [])];
}
