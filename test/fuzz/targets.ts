/**
 * Fuzz targets on Postgres: one database per target, cloned from a template built from the schema's committed
 * migrations (the test bed's own, or test/fuzz/schemas/<name>/migrations). Other providers plug in by building a
 * `FuzzTarget` the same way (a client factory and a reset).
 */
import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import type { CacheSchema } from "../../src/index.ts";
import { createTestDatabase } from "../support/database.ts";
import { ensureTemplateDatabase } from "../support/global-setup.ts";
import { loadDatamodel } from "./datamodel.ts";
import type { AnyClient, FuzzTarget } from "./runner.ts";

export interface PostgresTargetOptions {
  name: string;
  /** `generated/.../dmmf.json` of the schema. */
  dmmfPath: string;
  migrationsDir: string;
  cacheSchema: CacheSchema;
  /** The generated `PrismaClient` class. */
  PrismaClient: new (options: {
    adapter: PrismaPg;
  }) => AnyClient;
  nullValues: FuzzTarget["nullValues"];
  serverUrl: string;
}

export async function postgresTarget(options: PostgresTargetOptions): Promise<FuzzTarget & { drop(): Promise<void> }> {
  const template = await ensureTemplateDatabase(options.serverUrl, options.migrationsDir);
  const database = await createTestDatabase({ template });
  const admin = new pg.Pool({ connectionString: database.url, max: 1 });
  admin.on("error", () => {});
  const tables = (await admin.query<{ name: string }>("SELECT quote_ident(tablename) AS name FROM pg_tables WHERE schemaname = 'public'")).rows.map((row) => row.name);
  const pools: pg.Pool[] = [];
  return {
    name: options.name,
    provider: "postgresql",
    datamodel: loadDatamodel(options.dmmfPath),
    cacheSchema: options.cacheSchema,
    nullValues: options.nullValues,
    createClient: () => {
      const pool = new pg.Pool({ connectionString: database.url, max: 4 });
      pool.on("error", () => {});
      pools.push(pool);
      const prisma = new options.PrismaClient({ adapter: new PrismaPg(pool) });
      return {
        prisma,
        close: async () => {
          await prisma.$disconnect();
          if (!pool.ended) await pool.end();
        },
      };
    },
    reset: async () => {
      if (tables.length > 0) await admin.query(`TRUNCATE ${tables.join(", ")} RESTART IDENTITY CASCADE`);
    },
    drop: async () => {
      await admin.end();
      for (const pool of pools) if (!pool.ended) await pool.end();
      await database.drop();
    },
  };
}
