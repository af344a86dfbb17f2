/**
 * A Next.js App Router route handler on a cached Prisma client, as plain Web `Request` -> `Response` functions
 * (what `app/users/[id]/route.ts` exports). The factory takes the client so tests can pass one whose SQL they count.
 */
import { readWithInfo, type ReadPolicy } from "../shared/cache-info.ts";
import { cachedResponse } from "../shared/http-cache.ts";
import type { CachedPrisma } from "../shared/prisma.ts";

/** What Next.js passes a dynamic route's handler (Next 15+: `params` is a promise). */
export interface RouteContext {
  params: Promise<{ id: string }>;
}

const policy = (id: number): ReadPolicy => ({ ttl: 60, tags: [`user:${id}`] });

/** `GET /users/:id` and `PATCH /users/:id`. */
export function userRoute(prisma: CachedPrisma) {
  return {
    async GET(request: Request, { params }: RouteContext): Promise<Response> {
      const id = Number((await params).id);
      if (!Number.isSafeInteger(id)) return Response.json({ error: "id must be an integer" }, { status: 400 });
      const { data, info } = await readWithInfo(prisma.user.findUnique({ where: { id }, cacheStrategy: policy(id) }));
      if (data === null) return Response.json({ error: "no such user" }, { status: 404 });
      const response = cachedResponse(data, info, request.headers.get("if-none-match") ?? undefined);
      return new Response(response.body ?? null, { status: response.status, headers: response.headers });
    },
    async PATCH(request: Request, { params }: RouteContext): Promise<Response> {
      const id = Number((await params).id);
      const { name } = (await request.json()) as { name: string };
      // Invalidates the cached read before it returns; call your CDN's purge with policy(id).tags here.
      return Response.json(await prisma.user.update({ where: { id }, data: { name } }));
    },
  };
}
