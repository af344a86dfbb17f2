import { describe, expect, it } from "vitest";
import { Prisma } from "../../generated/prisma/client.ts";
import { entryKey } from "../../src/read/keys.ts";
import { canonical, digest, isDecimal } from "../../src/stamps/canonical.ts";
import { stampKey } from "../../src/stamps/names.ts";

const key = (args: unknown, model = "User", operation = "findMany") => entryKey("pc", model, operation, args);

describe("entryKey", () => {
  it("ignores the order of object keys, at every depth", () => {
    const a = key({ where: { id: 1, email: "a@x", profile: { is: { bio: "b", id: 2 } } }, take: 5 });
    const b = key({ take: 5, where: { profile: { is: { id: 2, bio: "b" } }, email: "a@x", id: 1 } });
    expect(a).toBe(b);
  });

  it("drops undefined members, as Prisma does", () => {
    expect(key({ where: { id: 1, name: undefined }, skip: undefined })).toBe(key({ where: { id: 1 } }));
  });

  it("keeps the order of array items", () => {
    expect(key({ orderBy: [{ id: "asc" }, { email: "asc" }] })).not.toBe(key({ orderBy: [{ email: "asc" }, { id: "asc" }] }));
    expect(key({ where: { id: { in: [1, 2] } } })).not.toBe(key({ where: { id: { in: [2, 1] } } }));
  });

  it("gives different keys to different values and types", () => {
    const values: unknown[] = [
      1,
      "1",
      1n,
      true,
      "t",
      null,
      "n",
      [],
      {},
      [1],
      "#1",
      new Date(1),
      new Prisma.Decimal(1),
      new Uint8Array([1]),
      Prisma.DbNull,
      Prisma.JsonNull,
      Prisma.AnyNull,
    ];
    const keys = values.map((value) => key({ where: { v: value } }));
    expect(new Set(keys).size).toBe(values.length);
  });

  it("gives different keys to different models and operations with the same args", () => {
    const args = { where: { id: 1 } };
    const keys = [entryKey("pc", "User", "findUnique", args), entryKey("pc", "Post", "findUnique", args), entryKey("pc", "User", "findFirst", args)];
    expect(new Set(keys).size).toBe(3);
  });

  it("hashes a Date by its instant", () => {
    expect(key({ where: { createdAt: new Date("2024-01-01T00:00:00Z") } })).toBe(key({ where: { createdAt: new Date(Date.UTC(2024, 0, 1)) } }));
    expect(key({ where: { createdAt: new Date(0) } })).not.toBe(key({ where: { createdAt: new Date(1) } }));
  });

  it("hashes a BigInt by value", () => {
    expect(key({ where: { id: 12345678901234567890n } })).toBe(key({ where: { id: BigInt("12345678901234567890") } }));
    expect(key({ where: { id: 1n } })).not.toBe(key({ where: { id: 2n } }));
  });

  it("hashes a Decimal by value, whatever its spelling", () => {
    expect(key({ where: { price: new Prisma.Decimal("1.50") } })).toBe(key({ where: { price: new Prisma.Decimal(1.5) } }));
    expect(key({ where: { price: new Prisma.Decimal("1.5") } })).not.toBe(key({ where: { price: new Prisma.Decimal("1.51") } }));
  });

  it("hashes bytes by content, not by identity", () => {
    expect(key({ where: { bytes: new Uint8Array([1, 2, 3]) } })).toBe(key({ where: { bytes: new Uint8Array([1, 2, 3]) } }));
    expect(key({ where: { bytes: new Uint8Array([1, 2, 3]) } })).not.toBe(key({ where: { bytes: new Uint8Array([1, 2, 4]) } }));
  });

  it("hashes only the viewed bytes of a Uint8Array over a larger buffer", () => {
    const whole = new Uint8Array([9, 1, 2, 3, 9]);
    expect(key({ where: { bytes: whole.subarray(1, 4) } })).toBe(key({ where: { bytes: new Uint8Array([1, 2, 3]) } }));
  });

  it("tells Prisma.DbNull, Prisma.JsonNull, Prisma.AnyNull and null apart", () => {
    const keys = [Prisma.DbNull, Prisma.JsonNull, Prisma.AnyNull, null, {}].map((value) => key({ where: { json: { equals: value } } }));
    expect(new Set(keys).size).toBe(5);
    expect(key({ where: { json: Prisma.DbNull } })).toBe(key({ where: { json: Prisma.DbNull } }));
  });

  // isDecimal() recognises a Decimal by its `toStringTag` member, so a Json filter value that has one is hashed as
  // `m[object Object]` whatever its other members: two different queries share one key and one cached result.
  it("gives different keys to Json filters that differ beside a toStringTag member", () => {
    const filter = (a: number) => ({ where: { json: { equals: { toStringTag: "[object Decimal]", a } } } });
    expect(key(filter(1))).not.toBe(key(filter(2)));
  });

  it("starts with the {prefix} hash tag, then e:Model:operation", () => {
    expect(entryKey("app-1", "AuditLog", "count", {})).toMatch(/^\{app-1\}:e:AuditLog:count:/);
  });

  it("keeps short args readable and digests long ones", () => {
    expect(key({ where: { id: 1 } }, "User", "findUnique")).toBe('{pc}:e:User:findUnique:={"where":{"id":#1}}');
    const long = key({ where: { email: "someone.with.a.long.address@example.com" } });
    expect(long).toMatch(/^\{pc\}:e:User:findMany:#[\w-]{27}$/);
  });

  it("keeps its key format stable (a change would orphan every stored entry)", () => {
    expect([
      entryKey("pc", "User", "findUnique", { where: { id: 1 } }),
      entryKey("pc", "Post", "findMany", { where: { published: true }, take: 10 }),
      entryKey("pc", "Comment", "findUnique", { where: { id: 5n } }),
      entryKey("pc", "Post", "count", undefined),
      entryKey("pc", "User", "findMany", { where: { createdAt: { gte: new Date("2024-01-01T00:00:00Z") } }, orderBy: [{ id: "desc" }] }),
      entryKey("pc", "Sample", "findFirst", { where: { json: { equals: Prisma.JsonNull }, decimal: new Prisma.Decimal("2.5") } }),
      stampKey("pc", "r:User:id=#1"),
    ]).toMatchInlineSnapshot(`
      [
        "{pc}:e:User:findUnique:={"where":{"id":#1}}",
        "{pc}:e:Post:findMany:={"take":#10,"where":{"published":t}}",
        "{pc}:e:Comment:findUnique:={"where":{"id":b5}}",
        "{pc}:e:Post:count:=u",
        "{pc}:e:User:findMany:#fwat5gGKZ5HOH2JrPOlSsUphL0M",
        "{pc}:e:Sample:findFirst:#UBLDUpjD5vKlxAGvzNXjgXYezYM",
        "{pc}:s:r:User:id=#1",
      ]
    `);
  });
});

describe("canonical", () => {
  it("quotes strings so that no string can pass for another type", () => {
    expect(canonical("#1")).not.toBe(canonical(1));
    expect(canonical("u")).not.toBe(canonical(undefined));
    expect(canonical('a","b')).toBe(JSON.stringify('a","b'));
  });

  it("names Prisma's null markers", () => {
    expect(canonical(Prisma.DbNull)).toBe("<DbNull>{}");
    expect(canonical(Prisma.JsonNull)).toBe("<JsonNull>{}");
  });
});

describe("isDecimal", () => {
  it("recognises Prisma.Decimal and nothing that merely looks numeric", () => {
    expect(isDecimal(new Prisma.Decimal("1.5"))).toBe(true);
    expect(isDecimal(1.5)).toBe(false);
    expect(isDecimal("1.5")).toBe(false);
    expect(isDecimal({ d: [1], e: 0, s: 1 })).toBe(false);
    expect(isDecimal(null)).toBe(false);
  });
});

describe("digest", () => {
  it("is deterministic, 27 base64url characters, and differs for different text", () => {
    expect(digest("abc")).toBe(digest("abc"));
    expect(digest("abc")).toMatch(/^[\w-]{27}$/);
    expect(digest("abc")).not.toBe(digest("abd"));
  });
});
