/** The client's interactive-transaction timeout, which bounds the re-invalidation of unobserved transactions. */
import { PrismaPg } from "@prisma/adapter-pg";
import { describe, expect, it } from "vitest";
import { PrismaClient } from "../../generated/prisma/client.ts";
import { transactionTimeoutOf } from "../../src/transaction-scope.ts";

// Never connects: Prisma reads its options when constructed.
const adapter = () => new PrismaPg({ connectionString: "postgresql://127.0.0.1:1/none" });

describe("transactionTimeoutOf", () => {
  it("reads the client's transactionOptions.timeout, also through $extends", () => {
    const client = new PrismaClient({ adapter: adapter(), transactionOptions: { timeout: 1234 } });
    expect(transactionTimeoutOf(client)).toBe(1234);
    expect(transactionTimeoutOf(client.$extends({}))).toBe(1234);
  });

  it("gives Prisma's default when the client sets none, and undefined for anything else", () => {
    expect(transactionTimeoutOf(new PrismaClient({ adapter: adapter() }))).toBe(5000);
    expect(transactionTimeoutOf({})).toBeUndefined();
  });
});
