/**
 * A plain PrismaClient for one test database, wired to the SQL counter so tests can assert how many statements
 * reached the database. No cache extension: each test adds the one it is testing.
 *
 * The provider follows from the URL (`postgresql://`, `mysql://`, `file:`), so the same test code gets the client
 * generated from that provider's variant of the test-bed schema. They are typed as the Postgres client: the models
 * are the same, except for the fields a provider lacks (see prisma/mysql/schema.prisma, prisma/sqlite/schema.prisma),
 * which tests use only on Postgres.
 */
import { PrismaClient } from "../../generated/prisma/client.ts";
import { PrismaClient as MysqlPrismaClient } from "../../generated/mysql/prisma/client.ts";
import { PrismaClient as SqlitePrismaClient } from "../../generated/sqlite/prisma/client.ts";
import type { Provider } from "./providers.ts";
import { createCountingAdapter, type StatementCounter } from "./sql-counter.ts";
import { createMysqlCountingAdapter } from "./sql-counter-mysql.ts";
import { createSqliteCountingAdapter } from "./sql-counter-sqlite.ts";

/** A client and the statements it sent. */
export interface TestClient {
  prisma: PrismaClient;
  /** Which provider it talks to. */
  provider: Provider;
  /** The statements `prisma` sent to the database; see `createCountingAdapter`. */
  sql: StatementCounter;
  /** Disconnects the client and ends its pool. */
  close(): Promise<void>;
}

/** Options for `createTestClient`. */
export interface CreateTestClientOptions {
  /** The database to connect to, normally `(await createTestDatabase()).url`. */
  url: string;
}

/** The provider a test database URL belongs to. */
export function providerOfUrl(url: string): Provider {
  if (url.startsWith("file:")) return "sqlite";
  if (/^(mysql|mariadb):/.test(url)) return "mysql";
  return "postgresql";
}

/** Creates a PrismaClient on `url` whose statements are counted. */
export function createTestClient(options: CreateTestClientOptions): TestClient {
  const provider = providerOfUrl(options.url);
  const { sql, prisma } = clientFor(provider, options.url);
  return {
    prisma,
    provider,
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

function clientFor(provider: Provider, url: string): { sql: StatementCounter; prisma: PrismaClient } {
  if (provider === "mysql") {
    const sql = createMysqlCountingAdapter(url);
    return { sql, prisma: new MysqlPrismaClient({ adapter: sql.adapter }) as unknown as PrismaClient };
  }
  if (provider === "sqlite") {
    const sql = createSqliteCountingAdapter(url);
    return { sql, prisma: new SqlitePrismaClient({ adapter: sql.adapter }) as unknown as PrismaClient };
  }
  const sql = createCountingAdapter(url);
  return { sql, prisma: new PrismaClient({ adapter: sql.adapter }) };
}
