/** The differential fuzzer on the "hub" schema (test/fuzz/schemas/hub): a model with 22 relations, BigInt ids, Bytes, Float, Json. */
import { inject } from "vitest";
import { cacheSchema } from "../../generated/fuzz/hub/cache/index.ts";
import { Prisma, PrismaClient } from "../../generated/fuzz/hub/prisma/client.ts";
import { defineFuzzSuite } from "./suite.ts";
import { postgresTarget } from "./targets.ts";

defineFuzzSuite("hub (Postgres)", {
  seed: 4000,
  // Floors below what the first program of each configuration alone gives (194 hits, 6 changed answers), which
  // is what runs when the machine is slow: the seeds are fixed, so that minimum is deterministic.
  minHits: 60,
  minChanged: 2,
  target: () =>
    postgresTarget({
      name: "hub",
      dmmfPath: new URL("../../generated/fuzz/hub/dmmf/dmmf.json", import.meta.url).pathname,
      migrationsDir: new URL("./schemas/hub/migrations", import.meta.url).pathname,
      cacheSchema,
      PrismaClient,
      nullValues: Prisma,
      serverUrl: inject("databaseUrl"),
    }),
});
