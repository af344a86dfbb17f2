/**
 * HTTP caching headers from a cached read, for any framework: `Cache-Control: max-age` is what is left of the entry's
 * fresh time, the `ETag` a digest of the body, and `Surrogate-Key` the entry's tags (what a CDN purges by).
 */
import { createHash } from "node:crypto";
import type { ReadInfo } from "./cache-info.ts";

/** The body and headers of a 200 answer, or a bodiless 304 when the client already has this version. */
export interface CachedResponse {
  status: 200 | 304;
  body: string | undefined;
  headers: Record<string, string>;
}

/** Serialises `data` (BigInt as a string) and builds its caching headers, answering 304 to a matching `If-None-Match`. */
export function cachedResponse(data: unknown, info: ReadInfo, ifNoneMatch: string | undefined): CachedResponse {
  const body = toJson(data);
  const etag = `"${createHash("sha256").update(body).digest("base64url").slice(0, 27)}"`;
  // What is left of the entry's fresh time, never more: 0 for a stale hit or a read that bypassed the cache.
  const maxAge = Math.max(0, Math.floor(info.ttlMs / 1000));
  const headers: Record<string, string> = { "cache-control": `public, max-age=${maxAge}`, etag };
  if (info.tags.length > 0) headers["surrogate-key"] = info.tags.join(" ");
  if (ifNoneMatch !== undefined && matchesEtag(ifNoneMatch, etag)) return { status: 304, body: undefined, headers };
  return { status: 200, body, headers: { ...headers, "content-type": "application/json; charset=utf-8" } };
}

/** JSON with BigInt ids (Comment.id) as strings. */
export function toJson(data: unknown): string {
  return JSON.stringify(data, (_key, value) => (typeof value === "bigint" ? value.toString() : value));
}

/** `If-None-Match` is a list of tags, possibly weak (`W/"..."`), or `*`. */
function matchesEtag(header: string, etag: string): boolean {
  return header
    .split(",")
    .map((tag) => tag.trim().replace(/^W\//, ""))
    .some((tag) => tag === "*" || tag === etag);
}
