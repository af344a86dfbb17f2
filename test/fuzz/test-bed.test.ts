/** The differential fuzzer on the test bed's schema (prisma/schema.prisma) and Postgres. */
import { inject } from "vitest";
import { cacheSchema } from "../../generated/cache/index.ts";
import { Prisma, PrismaClient } from "../../generated/prisma/client.ts";
import { MIGRATIONS_DIR } from "../support/global-setup.ts";
import { defineFuzzSuite } from "./suite.ts";
import { postgresTarget } from "./targets.ts";

defineFuzzSuite("test bed (Postgres)", {
  seed: 1_000,
  // Floors below what the first program of each configuration alone gives (134 hits, 20 changed answers), which
  // is what runs when the machine is slow: the seeds are fixed, so that minimum is deterministic.
  minHits: 80,
  minChanged: 10,
  target: () =>
    postgresTarget({
      name: "test-bed",
      dmmfPath: new URL("../../generated/dmmf/dmmf.json", import.meta.url).pathname,
      migrationsDir: MIGRATIONS_DIR,
      cacheSchema,
      PrismaClient,
      nullValues: Prisma,
      serverUrl: inject("databaseUrl"),
    }),
});
