/**
 * Assertions for "a write invalidates exactly what it changed": prime a read through the cached client (proving the
 * second read costs no SQL), run a write, then check the read is either fresh (it reaches the database and equals
 * what the uncached client reads now) or survived (no SQL, the primed value).
 */
import { expect } from "vitest";
import type { PrismaClient } from "../../generated/prisma/client.ts";
import type { CacheBed, CachedClient } from "./cache-bed.ts";

/** A read written once and run against either client: the cached one under test, or the uncached base for the truth. */
export type Read<T> = (db: PrismaClient) => PromiseLike<T>;

/** A read whose result is in the cache. */
export interface CachedRead<T> {
  label: string;
  read: Read<T>;
  /** The result when it was cached. */
  before: T;
}

export interface FreshOptions {
  /** Also assert the result differs from the cached one, i.e. the write did change it. @default true */
  changed?: boolean;
}

export interface WriteProbe {
  /** Runs `read` through the cache twice; the second run must cost no SQL and return the same result. */
  cache<T>(read: Read<T>, label?: string): Promise<CachedRead<T>>;
  /** The read reaches the database and returns what the uncached client reads now. */
  expectFresh<T>(entry: CachedRead<T>, options?: FreshOptions): Promise<T>;
  /** The read is still served from the cache: no SQL, the value it was cached with. */
  expectSurvives<T>(entry: CachedRead<T>): Promise<void>;
  /** Runs the read through the cached client, asserting nothing about SQL (where the cache may or may not answer). */
  current<T>(entry: CachedRead<T>): Promise<T>;
  /** Caches `read`, runs `write`, and expects the read to be fresh afterwards. */
  expectCachedThenFresh<T>(read: Read<T>, write: () => PromiseLike<unknown>, options?: FreshOptions): Promise<T>;
}

/** A probe on `bed`'s SQL counter, reading through `client` (the bed's main cached client by default). */
export function writeProbe(bed: CacheBed, client: CachedClient = bed.prisma): WriteProbe {
  // The cached client has the same read methods as PrismaClient (plus `cacheStrategy`), so one read function serves both.
  const cachedDb = client as unknown as PrismaClient;

  const probe: WriteProbe = {
    async cache(read, label = read.toString()) {
      const before = await read(cachedDb);
      bed.resetSql();
      const again = await read(cachedDb);
      expect(bed.selects(), `${label}: the second read is served from the cache`).toBe(0);
      expect(again, label).toEqual(before);
      return { label, read, before };
    },

    async expectFresh(entry, { changed = true } = {}) {
      const truth = await entry.read(bed.base.prisma);
      bed.resetSql();
      const now = await entry.read(cachedDb);
      expect(bed.selects(), `${entry.label}: the read after the write reaches the database`).toBeGreaterThan(0);
      expect(now, `${entry.label}: the read after the write returns the current data`).toEqual(truth);
      if (changed) expect(now, `${entry.label}: the write changed this result`).not.toEqual(entry.before);
      return now;
    },

    async expectSurvives(entry) {
      bed.resetSql();
      const now = await entry.read(cachedDb);
      expect(bed.selects(), `${entry.label}: still served from the cache`).toBe(0);
      expect(now, entry.label).toEqual(entry.before);
    },

    async current(entry) {
      return entry.read(cachedDb);
    },

    async expectCachedThenFresh(read, write, options) {
      const entry = await probe.cache(read);
      await write();
      return probe.expectFresh(entry, options);
    },
  };
  return probe;
}
