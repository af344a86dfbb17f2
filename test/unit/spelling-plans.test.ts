/**
 * Plans of unique lookups whose key may have other spellings (issue 8 item 1) and of findFirst with a cursor
 * (item 2): which entries they have and which stamps each depends on.
 */
import { describe, expect, it } from "vitest";
import { cacheSchema } from "../../generated/cache/index.ts";
import type { ResolvedPolicy } from "../../src/options.ts";
import { PlanCache } from "../../src/read/plans.ts";
import { stampKey } from "../../src/stamps/names.ts";
import { Prisma } from "../../generated/prisma/client.ts";
import { readDependencies } from "../../src/stamps/read-stamps.ts";
import { isSpellingSensitive, storesSpelling } from "../../src/stamps/row-stamps.ts";
import { graphFromSchema, type ModelInfo } from "../../src/schema/model-graph.ts";

const graph = graphFromSchema(cacheSchema);
const policy = { ttlMs: 60_000, swrMs: 0, tags: [], batch: true } as unknown as ResolvedPolicy;
const plans = () => new PlanCache(graph, "p", 100);
const keyed = (...stamps: string[]) => stamps.map((stamp) => stampKey("p", stamp));

describe("plans of unique lookups", () => {
  it("keep one entry, on the row's stamp, for a unique of one-spelling types (Int id)", () => {
    const plan = plans().plan("User", "findUnique", { where: { id: 1 } }, policy);
    expect(plan.stamps).toStrictEqual(keyed("*", "u:User", "r:User:id=#1"));
    expect(plan.spelling).toBeUndefined();
  });

  it("give a String unique a loose entry on the model's stamp beside the exact one", () => {
    const plan = plans().plan("User", "findUnique", { where: { email: "ada@x.test" } }, policy);
    expect(plan.stamps).toStrictEqual(keyed("*", "u:User", 'r:User:email="ada@x.test"'));
    const loose = plan.spelling!.loose;
    expect(loose.key).toBe(`${plan.key}~loose`);
    expect(loose.stamps).toStrictEqual(keyed("*", "m:User"));
    expect(loose).toMatchObject({ model: "User", operation: "findUnique", stampLifeMs: plan.stampLifeMs, policy });
    expect(loose.spelling).toBeUndefined();
  });

  it("give the loose entry the models the read reaches and its tags too", () => {
    const tagged = { ...policy, tags: ["t1"] } as ResolvedPolicy;
    const plan = plans().plan("User", "findUnique", { where: { email: "ada@x.test" }, include: { posts: true } }, tagged);
    expect(plan.spelling!.loose.stamps).toStrictEqual(keyed("*", "m:User", "m:Post", "t:t1"));
    expect(plan.stamps).toStrictEqual(keyed("*", "u:User", 'r:User:email="ada@x.test"', "m:Post", "t:t1"));
  });

  it("make a compound unique of Strings spelling-sensitive", () => {
    const deps = readDependencies(graph, "Tag", "findUnique", { where: { namespace_name: { namespace: "a", name: "b" } } }, []);
    expect(deps.spelling?.looseStamps).toStrictEqual(["*", "m:Tag"]);
  });

  it("fill the exact entry only for a row that stores the lookup's own spelling", () => {
    const { storesSpelling } = plans().plan("User", "findUnique", { where: { email: "ada@x.test" } }, policy).spelling!;
    expect(storesSpelling({ id: 1, email: "ada@x.test" })).toBe(true);
    expect(storesSpelling({ id: 1, email: "ADA@x.test" })).toBe(false);
    expect(storesSpelling({ id: 1, email: "ada@x.test " })).toBe(false);
    expect(storesSpelling(null)).toBe(false);
    expect(storesSpelling({ id: 1 })).toBe(false); // the key not in a narrowed select
  });

  it("compare DateTime and Decimal keys by value, as row stamps do", () => {
    const info = {
      name: "X",
      fieldTypes: new Map([
        ["at", "DateTime"],
        ["amount", "Decimal"],
      ]),
    } as unknown as ModelInfo;
    const at = { unique: { name: "at", fields: ["at"] }, values: ["2020-01-01T00:00:00.000Z"] };
    expect(storesSpelling(info, at, { at: new Date("2020-01-01T00:00:00.000Z") })).toBe(true);
    expect(storesSpelling(info, at, { at: new Date("2020-01-01T00:00:00.001Z") })).toBe(false);
    const amount = { unique: { name: "amount", fields: ["amount"] }, values: ["1.50"] };
    expect(storesSpelling(info, amount, { amount: new Prisma.Decimal("1.5") })).toBe(true);
  });

  it("treat Int, BigInt, Boolean and enum fields as one-spelling, every other type as sensitive", () => {
    const info = graph.models.get("User")!;
    const types = new Map([
      ["i", "Int"],
      ["b", "BigInt"],
      ["f", "Boolean"],
      ["e", "Role"],
      ["s", "String"],
      ["d", "DateTime"],
      ["x", "Bytes"],
      ["n", "Float"],
    ]);
    const with_ = { ...info, fieldTypes: types } as ModelInfo;
    const sensitive = (fields: string[]) => isSpellingSensitive(with_, { name: fields.join("_"), fields });
    expect(sensitive(["i", "b", "f", "e"])).toBe(false);
    for (const field of ["s", "d", "x", "n"]) expect(sensitive(["i", field])).toBe(true);
  });
});

describe("plans of findFirst with a cursor", () => {
  for (const operation of ["findFirst", "findFirstOrThrow"]) {
    it(`${operation}: pinning a row but with a cursor, depends on the model, not the row`, () => {
      const stamps = readDependencies(graph, "User", operation, { where: { id: 2 }, cursor: { id: 1 } }, []).stamps;
      expect(stamps).toStrictEqual(["*", "m:User"]);
    });
  }

  it("without a cursor, findFirst by id stays a row lookup", () => {
    expect(readDependencies(graph, "User", "findFirst", { where: { id: 2 } }, []).stamps).toStrictEqual(["*", "u:User", "r:User:id=#2"]);
  });
});

describe("plan memo bound (issue 8, item 12)", () => {
  it("remembers long args by their digest: 400 reads with distinct 1 MiB filters hold a few kB of keys", () => {
    const cache = new PlanCache(graph, "p", 10_000);
    const big = "x".repeat(1024 * 1024);
    for (let i = 0; i < 400; i++) cache.plan("Post", "findMany", { where: { title: { contains: `${i}${big}` } } }, policy);
    expect(cache.keyChars).toBeLessThan(400 * 64);
  }, 60_000); // 400 MiB of args to encode and digest: seconds on a busy 2-core machine
});

describe("scalar plan memo (issue 13: the L1 hit's plan lookup)", () => {
  it("gives a lookup by one scalar the plan the canonical text gives, per value, type and policy", () => {
    const cache = plans();
    const first = cache.plan("User", "findUnique", { where: { id: 1 } }, policy);
    expect(cache.plan("User", "findUnique", { where: { id: 1 } }, policy)).toBe(first);
    expect(plans().plan("User", "findUnique", { where: { id: 1 } }, policy)).toStrictEqual(first);
    // Another value, another type of the same digits, another field, another operation, another policy: other plans.
    expect(cache.plan("User", "findUnique", { where: { id: 2 } }, policy).key).not.toBe(first.key);
    expect(cache.plan("User", "findUnique", { where: { email: "1" } }, policy).key).not.toBe(first.key);
    expect(cache.plan("User", "findFirst", { where: { id: 1 } }, policy).key).not.toBe(first.key);
    const other = { ...policy } as ResolvedPolicy;
    expect(cache.plan("User", "findUnique", { where: { id: 1 } }, other).policy).toBe(other);
    // Args of any other shape take the canonical text, and agree with a fresh cache.
    const shaped = cache.plan("User", "findUnique", { where: { id: 1 }, select: { id: true } }, policy);
    expect(shaped.key).not.toBe(first.key);
    expect(shaped).toStrictEqual(plans().plan("User", "findUnique", { where: { id: 1 }, select: { id: true } }, policy));
  });

  it("holds at most maxEntries plans", () => {
    const cache = new PlanCache(graph, "p", 100);
    for (let id = 0; id < 1_000; id++) cache.plan("User", "findUnique", { where: { id } }, policy);
    expect(cache.scalarEntries).toBeLessThanOrEqual(100);
  });
});
