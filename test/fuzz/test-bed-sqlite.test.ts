/**
 * The differential fuzzer on the test bed's SQLite variant (prisma/sqlite/schema.prisma), in the fuzz-sqlite vitest
 * project, in every configuration of the Postgres suite.
 */
import { cacheSchema } from "../../generated/sqlite/cache/index.ts";
import { Prisma, PrismaClient } from "../../generated/sqlite/prisma/client.ts";
import { defineFuzzSuite } from "./suite.ts";
import { providerTarget } from "./targets.ts";

defineFuzzSuite("test bed (SQLite)", {
  seed: 5000,
  // Floors below what the first program of each configuration alone gives (42 hits, 11 changed answers), which
  // is what runs when the machine is slow: the seeds are fixed, so that minimum is deterministic.
  minHits: 30,
  minChanged: 4,
  features: {},
  target: () =>
    providerTarget("sqlite", {
      name: "test-bed-sqlite",
      dmmfPath: new URL("../../generated/sqlite/dmmf/dmmf.json", import.meta.url).pathname,
      cacheSchema,
      PrismaClient,
      nullValues: Prisma,
    }),
});
