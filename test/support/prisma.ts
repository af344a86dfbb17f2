/**
 * A plain PrismaClient for one test database, wired to the SQL counter so tests can assert how many statements
 * reached Postgres. No cache extension: each test adds the one it is testing.
 */
import { PrismaClient } from "../../generated/prisma/client.ts";
import { type CountingAdapter, createCountingAdapter } from "./sql-counter.ts";

/** A client and the statements it sent. */
export interface TestClient {
  prisma: PrismaClient;
  /** The statements `prisma` sent to Postgres; see `createCountingAdapter`. */
  sql: CountingAdapter;
  /** Disconnects the client and ends its pool. */
  close(): Promise<void>;
}

/** Options for `createTestClient`. */
export interface CreateTestClientOptions {
  /** The database to connect to, normally `(await createTestDatabase()).url`. */
  url: string;
}

/** Creates a PrismaClient on `url` whose statements are counted. */
export function createTestClient(options: CreateTestClientOptions): TestClient {
  const sql = createCountingAdapter(options.url);
  const prisma = new PrismaClient({ adapter: sql.adapter });
  return {
    prisma,
    sql,
    close: async () => {
      try {
        await prisma.$disconnect();
      } finally {
        await sql.close();
      }
    },
  };
}
