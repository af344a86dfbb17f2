/**
 * Issue 8 item 9: a write in an interactive transaction that was not opened through the plugin's `$transaction`
 * must not be invalidated only before its commit. It arises when an extension added after the plugin overrides
 * `$transaction` by calling Prisma's own method on its client (say, to add default options): the callback's `tx`
 * still carries the plugin's write hooks, but the plugin never sees the transaction begin or end. Before the fix the
 * write advanced its stamps at once, a read while the transaction was open refilled the old row, and that row was
 * served after the commit until its TTL.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import type { CacheError } from "../../src/index.ts";
import { DEFAULTS } from "../../src/defaults.ts";
import { createCacheBed, type CacheBed } from "../support/cache-bed.ts";
import { waitFor } from "../support/poll.ts";

let bed: CacheBed;
const errors: CacheError[] = [];

beforeAll(async () => {
  bed = await createCacheBed("memory", { timeoutMs: 5_000, onError: (error) => errors.push(error) });
});
afterAll(() => bed?.close());

/** An extension after the cache that gives every interactive transaction a default isolation level. */
function withTransactionDefaults<C extends object>(client: C): C {
  const prismaTransaction = (bed.base.prisma as unknown as { $transaction: (...args: unknown[]) => Promise<unknown> }).$transaction;
  return (client as unknown as { $extends: (extension: object) => C }).$extends({
    client: {
      $transaction(this: object, input: unknown, options?: object) {
        return prismaTransaction.call(this, input, typeof input === "function" ? { isolationLevel: "ReadCommitted", ...options } : options);
      },
    },
  });
}

it("re-invalidates after the transaction must have ended, bypasses this process's cache until then, and reports it", async () => {
  const user = await bed.base.prisma.user.create({ data: { email: "unobserved@x", name: "Before" } });
  const app = withTransactionDefaults(bed.prisma);
  // Another process on the same store: it does not know of the transaction, so it may refill the old row.
  const other = bed.cached({ prefix: bed.prefix, store: bed.store }).prisma;
  const read = (client: typeof bed.prisma) => client.user.findUnique({ where: { id: user.id } });
  expect(await read(app)).toMatchObject({ name: "Before" });
  bed.resetSql();
  expect(await read(other)).toMatchObject({ name: "Before" });
  expect(bed.selects(), "the other process reads the shared entry").toBe(0);

  await app.$transaction(async (tx) => {
    await tx.user.update({ where: { id: user.id }, data: { name: "After" } });
    // The write's stamps were advanced already; outside the transaction the committed row is still the old one.
    expect(await read(other)).toMatchObject({ name: "Before" });
    expect(await read(app)).toMatchObject({ name: "Before" });
  });

  // This process bypasses the cache until the re-invalidation: it reads the committed row.
  bed.resetSql();
  expect(await read(app)).toMatchObject({ name: "After" });
  expect(bed.selects(), "the read after the commit reaches the database").toBeGreaterThan(0);
  expect(errors.map((error) => error.code)).toContain("TRANSACTION_UNOBSERVED");
  // The other process still has the old row it refilled while the transaction was open (the documented bound)...
  expect(await read(other)).toMatchObject({ name: "Before" });
  // ...and it is dropped once the transaction must have ended.
  const boundMs = DEFAULTS.limits.transactionTimeoutMs + DEFAULTS.limits.transactionMarginMs;
  await waitFor(async () => (await read(other))?.name === "After", "the other process reads the committed row", boundMs + 10_000, 50);
  // After the re-invalidation the cache serves again.
  await waitFor(
    async () => {
      await read(app);
      bed.resetSql();
      await read(app);
      return bed.selects() === 0;
    },
    "reads are cached again after the re-invalidation",
    10_000,
    50,
  );
  expect(await read(app)).toMatchObject({ name: "After" });
}, 60_000);
