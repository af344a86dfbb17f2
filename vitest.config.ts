import { defineConfig } from "vitest/config";

/**
 * The integration files that run on every provider: they talk to the database only through Prisma (or raw SQL
 * quoted per provider), so each one runs once per provider project below. The others (the test bed's own Postgres
 * machinery, the package smoke test, store behaviour that no database changes) run on Postgres only.
 */
const PROVIDER_NEUTRAL = [
  "bed-smoke",
  "reads",
  "writes",
  "writes-nested",
  "writes-cascade",
  "writes-transactions",
  "writes-raw",
  "writes-coarse",
  "batching",
  "write-through",
  "key-spellings",
  "cursor-lookups",
].map((name) => `test/integration/${name}.test.ts`);

/**
 * The coherence checker runs several clients with interactive transactions at once. On SQLite that cannot work
 * with Prisma's better-sqlite3 adapter: separate connections wait for each other's locks synchronously (the event
 * loop the lock holder needs stalls for the busy timeout), and a shared connection runs other callers' statements
 * inside an open transaction (its rollback undoes writes that had returned). So it runs on Postgres and MySQL.
 */
const MULTI_CONNECTION = ["coherence"].map((name) => `test/integration/${name}.test.ts`);

const integration = {
  globalSetup: ["test/support/global-setup.ts"],
  testTimeout: 30_000,
  hookTimeout: 60_000,
};

/** The fuzzer's files for the other providers, each in its own project (the provider decides the test database). */
const FUZZ_OTHER_PROVIDERS = ["test/fuzz/test-bed-mysql.test.ts", "test/fuzz/test-bed-sqlite.test.ts"];

const fuzz = {
  globalSetup: ["test/support/global-setup.ts"],
  testTimeout: 300_000,
  hookTimeout: 120_000,
};

export default defineConfig({
  test: {
    projects: [
      { test: { name: "unit", include: ["test/unit/**/*.test.ts"], globalSetup: ["test/support/generated.ts"] } },
      { test: { name: "integration", include: ["test/integration/**/*.test.ts"], provide: { provider: "postgresql" }, ...integration } },
      { test: { name: "integration-mysql", include: [...PROVIDER_NEUTRAL, ...MULTI_CONNECTION], provide: { provider: "mysql" }, ...integration } },
      { test: { name: "integration-sqlite", include: PROVIDER_NEUTRAL, provide: { provider: "sqlite" }, ...integration } },
      {
        test: {
          name: "fuzz",
          include: ["test/fuzz/**/*.test.ts"],
          exclude: FUZZ_OTHER_PROVIDERS,
          provide: { provider: "postgresql" },
          ...fuzz,
        },
      },
      { test: { name: "fuzz-mysql", include: ["test/fuzz/test-bed-mysql.test.ts"], provide: { provider: "mysql" }, ...fuzz } },
      { test: { name: "fuzz-sqlite", include: ["test/fuzz/test-bed-sqlite.test.ts"], provide: { provider: "sqlite" }, ...fuzz } },
    ],
  },
});
