/** The differential fuzzer on the "saas" schema (test/fuzz/schemas/saas): uuid (@db.Uuid) ids, citext and Char(n) uniques, enums, lists, Json, @map/@@map, implicit m-n, self relation. */
import { inject } from "vitest";
import { cacheSchema } from "../../generated/fuzz/saas/cache/index.ts";
import { Prisma, PrismaClient } from "../../generated/fuzz/saas/prisma/client.ts";
import { defineFuzzSuite } from "./suite.ts";
import { postgresTarget } from "./targets.ts";

defineFuzzSuite("saas (Postgres)", {
  seed: 2000,
  // Floors below what the first program of each configuration alone gives (51 hits, 56 changed answers), which
  // is what runs when the machine is slow: the seeds are fixed, so that minimum is deterministic.
  minHits: 40,
  minChanged: 20,
  target: () =>
    postgresTarget({
      name: "saas",
      dmmfPath: new URL("../../generated/fuzz/saas/dmmf/dmmf.json", import.meta.url).pathname,
      migrationsDir: new URL("./schemas/saas/migrations", import.meta.url).pathname,
      cacheSchema,
      PrismaClient,
      nullValues: Prisma,
      serverUrl: inject("databaseUrl"),
    }),
});
