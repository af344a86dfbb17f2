/**
 * The differential fuzzer on the test bed's MariaDB variant (prisma/mysql/schema.prisma), in the fuzz-mysql vitest
 * project, in every configuration of the Postgres suite.
 */
import { cacheSchema } from "../../generated/mysql/cache/index.ts";
import { Prisma, PrismaClient } from "../../generated/mysql/prisma/client.ts";
import { defineFuzzSuite } from "./suite.ts";
import { providerTarget } from "./targets.ts";

defineFuzzSuite("test bed (MariaDB)", {
  seed: 3000,
  // Floors below what the first program of each configuration alone gives (56 hits, 8 changed answers), which
  // is what runs when the machine is slow: the seeds are fixed, so that minimum is deterministic.
  minHits: 30,
  minChanged: 4,
  features: {
    // P2 (not a plugin defect): after Prisma's engine panics on invalid lookups in one tick, the plain client's next
    // query on MariaDB fails with "attempted to take ownership of Rust value while it was borrowed".
    invalidArgsInBursts: false,
  },
  target: () =>
    providerTarget("mysql", {
      name: "test-bed-mysql",
      dmmfPath: new URL("../../generated/mysql/dmmf/dmmf.json", import.meta.url).pathname,
      cacheSchema,
      PrismaClient,
      nullValues: Prisma,
    }),
});
