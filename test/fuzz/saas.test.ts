/** The differential fuzzer on the "saas" schema (test/fuzz/schemas/saas): uuid (@db.Uuid) ids, citext and Char(n) uniques, enums, lists, Json, @map/@@map, implicit m-n, self relation. */
import { inject } from "vitest";
import { cacheSchema } from "../../generated/fuzz/saas/cache/index.ts";
import { Prisma, PrismaClient } from "../../generated/fuzz/saas/prisma/client.ts";
import { defineFuzzSuite } from "./suite.ts";
import { postgresTarget } from "./targets.ts";

defineFuzzSuite("saas (Postgres)", {
  seed: 2000,
  // Slower programs (wider rows, more rejected writes) than the test bed's: fewer reads per budget.
  minHits: 60,
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
