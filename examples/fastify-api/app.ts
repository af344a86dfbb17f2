/**
 * A Fastify JSON API on a cached Prisma client: reads served from the cache with `Cache-Control`, `ETag` and
 * `Surrogate-Key` headers, writes that invalidate before they answer (and purge a CDN by surrogate key), and a
 * Prometheus `/metrics` route. Run it with `examples/fastify-api/server.ts`.
 */
import Fastify, { type FastifyInstance, type FastifyReply } from "fastify";
import { readWithInfo, type ReadPolicy } from "../shared/cache-info.ts";
import { cachedResponse } from "../shared/http-cache.ts";
import type { CachedPrisma } from "../shared/prisma.ts";
import { PROMETHEUS_CONTENT_TYPE, prometheusText } from "../shared/prometheus.ts";

export interface ApiOptions {
  prisma: CachedPrisma;
  /**
   * Called after a write returned (the plugin has already invalidated what it changed) with the surrogate keys of the
   * HTTP responses it made stale, to purge them from a CDN. The plugin has no `onInvalidate` hook yet, so the app
   * names the keys: they are the tags its reads carry.
   */
  purge?: (surrogateKeys: string[]) => Promise<void> | void;
}

/** The policy of each route's read: its `cacheStrategy`, and the `max-age` and surrogate keys of its response. */
export const POLICIES = {
  user: (id: number): ReadPolicy => ({ ttl: 60, tags: [`user:${id}`] }),
  feed: { ttl: 30, tags: ["feed"] } satisfies ReadPolicy,
};

export function buildApi({ prisma, purge = () => {} }: ApiOptions): FastifyInstance {
  const app = Fastify();

  app.get<{ Params: { id: string } }>("/users/:id", async (request, reply) => {
    const id = Number(request.params.id);
    if (!Number.isSafeInteger(id)) return reply.code(400).send({ error: "id must be an integer" });
    const policy = POLICIES.user(id);
    const { data, info } = await readWithInfo(
      prisma.user.findUnique({
        where: { id },
        include: { posts: { where: { published: true }, orderBy: { id: "asc" } } },
        cacheStrategy: policy,
      }),
    );
    if (data === null) return reply.code(404).send({ error: "no such user" });
    return send(reply, cachedResponse(data, info, request.headers["if-none-match"]));
  });

  app.get("/posts", async (request, reply) => {
    const { data, info } = await readWithInfo(prisma.post.findMany({ where: { published: true }, orderBy: { id: "desc" }, take: 20, cacheStrategy: POLICIES.feed }));
    return send(reply, cachedResponse(data, info, request.headers["if-none-match"]));
  });

  app.patch<{ Params: { id: string }; Body: { name: string } }>("/users/:id", async (request) => {
    const id = Number(request.params.id);
    const user = await prisma.user.update({ where: { id }, data: { name: request.body.name } });
    // The cached read of this user is already invalidated; what a CDN holds is not.
    await purge(POLICIES.user(id).tags ?? []);
    return user;
  });

  app.post<{ Body: { title: string; slug: string; authorId: number } }>("/posts", async (request, reply) => {
    const { title, slug, authorId } = request.body;
    const post = await prisma.post.create({ data: { title, slug, authorId, published: true } });
    await purge([...POLICIES.feed.tags, ...(POLICIES.user(authorId).tags ?? [])]);
    return reply.code(201).send(post);
  });

  app.get("/metrics", async (_request, reply) => reply.type(PROMETHEUS_CONTENT_TYPE).send(prometheusText(prisma.$cache.stats())));

  return app;
}

function send(reply: FastifyReply, response: ReturnType<typeof cachedResponse>): FastifyReply {
  return reply.code(response.status).headers(response.headers).send(response.body);
}
