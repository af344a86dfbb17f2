/** The differential fuzzer on the "shop" schema (test/fuzz/schemas/shop): cuid ids, composite ids, compound uniques, explicit m-n, relationMode = "prisma". */
import { inject } from "vitest";
import { cacheSchema } from "../../generated/fuzz/shop/cache/index.ts";
import { Prisma, PrismaClient } from "../../generated/fuzz/shop/prisma/client.ts";
import { defineFuzzSuite } from "./suite.ts";
import { postgresTarget } from "./targets.ts";

defineFuzzSuite("shop (Postgres)", {
  seed: 3000,
  // Floors below what the first program of each configuration alone gives (85 hits, 45 changed answers), which
  // is what runs when the machine is slow: the seeds are fixed, so that minimum is deterministic.
  minHits: 60,
  minChanged: 20,
  target: () =>
    postgresTarget({
      name: "shop",
      dmmfPath: new URL("../../generated/fuzz/shop/dmmf/dmmf.json", import.meta.url).pathname,
      migrationsDir: new URL("./schemas/shop/migrations", import.meta.url).pathname,
      cacheSchema,
      PrismaClient,
      nullValues: Prisma,
      serverUrl: inject("databaseUrl"),
    }),
});
