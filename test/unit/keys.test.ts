import { describe, expect, it } from "vitest";
import { Prisma } from "../../generated/prisma/client.ts";
import { currentNamespace, entryKey } from "../../src/read/keys.ts";
import { canonical, digest, isDecimal, UnkeyableArgument } from "../../src/stamps/canonical.ts";
import { slotTag, stampKey } from "../../src/stamps/names.ts";

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

  it("starts with the prefix, then its own hash tag, then e:Model:operation", () => {
    expect(entryKey("app-1", "AuditLog", "count", {})).toMatch(/^app-1:\{[0-9a-z]+\}:e:AuditLog:count:/);
  });

  it("keeps short args readable and digests long ones", () => {
    expect(key({ where: { id: 1 } }, "User", "findUnique")).toMatch(/^pc:\{[0-9a-z]+\}:e:User:findUnique:=\{"where":\{"id":#1\}\}$/);
    const long = key({ where: { email: "someone.with.a.long.address@example.com" } });
    expect(long).toMatch(/^pc:\{[0-9a-z]+\}:e:User:findMany:#[\w-]{27}$/);
  });

  it("gives each key a hash tag of its own, whatever braces the args hold (Redis Cluster spreads them)", () => {
    const tags = new Set(Array.from({ length: 200 }, (_, id) => /^pc:\{([0-9a-z]+)\}:/.exec(entryKey("pc", "User", "findUnique", { where: { id } }))![1]));
    expect(tags.size).toBe(200);
    expect(stampKey("pc", "t:{x}")).toMatch(/^pc:\{[0-9a-z]+\}:s:t:\{x\}$/);
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
        "pc:{sojde9}:e:User:findUnique:={"where":{"id":#1}}",
        "pc:{1lqnwp8}:e:Post:findMany:={"take":#10,"where":{"published":t}}",
        "pc:{j4wg4o}:e:Comment:findUnique:={"where":{"id":b5}}",
        "pc:{1dnnate}:e:Post:count:=u",
        "pc:{1lqerro}:e:User:findMany:#fwat5gGKZ5HOH2JrPOlSsUphL0M",
        "pc:{1dbmml4}:e:Sample:findFirst:#UBLDUpjD5vKlxAGvzNXjgXYezYM",
        "pc:{klwh6w}:s:r:User:id=#1",
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

describe("canonical: member order", () => {
  it("ignores the order of arguments and filters (issue 8, item 10)", () => {
    expect(canonical({ where: { id: 1, email: "a" }, take: 1 })).toBe(canonical({ take: 1, where: { email: "a", id: 1 } }));
    expect(canonical({ where: { AND: [{ b: 1, a: 2 }] } })).toBe(canonical({ where: { AND: [{ a: 2, b: 1 }] } }));
  });

  it("keys selections by their order, which is the order of the result's fields (issue 8, item 10)", () => {
    expect(canonical({ select: { email: true, name: true } })).not.toBe(canonical({ select: { name: true, email: true } }));
    expect(canonical({ include: { posts: true, profile: true } })).not.toBe(canonical({ include: { profile: true, posts: true } }));
    // A relation's own arguments are arguments again: their order does not matter, their selection's does.
    const nested = (select: object) => canonical({ include: { posts: { where: { id: 1, published: true }, select } } });
    expect(nested({ id: true, title: true })).not.toBe(nested({ title: true, id: true }));
    expect(canonical({ include: { posts: { take: 1, where: { a: 1, b: 2 } } } })).toBe(canonical({ include: { posts: { where: { b: 2, a: 1 }, take: 1 } } }));
  });

  it("keys orderBy and aggregate selections by their order", () => {
    expect(canonical({ orderBy: { a: "asc", b: "desc" } })).not.toBe(canonical({ orderBy: { b: "desc", a: "asc" } }));
    expect(canonical({ _sum: { a: true, b: true } })).not.toBe(canonical({ _sum: { b: true, a: true } }));
  });
});

describe("canonical: values it cannot tell apart (issue 8, item 4)", () => {
  it("refuses class instances it does not know, so two URLs never share a key", () => {
    expect(() => canonical({ where: { data: { equals: { v: new URL("http://a.example/") } } } })).toThrow(UnkeyableArgument);
    class Secret {
      readonly #value: string;
      constructor(value: string) {
        this.#value = value;
      }
      toJSON() {
        return this.#value;
      }
    }
    expect(() => canonical({ where: { data: { equals: new Secret("a") } } })).toThrow(UnkeyableArgument);
  });

  it("refuses plain objects with toJSON, and functions", () => {
    expect(() => canonical({ where: { data: { equals: { toJSON: () => "a" } } } })).toThrow(UnkeyableArgument);
    expect(() => canonical({ where: { id: () => 1 } })).toThrow(UnkeyableArgument);
    expect(() => canonical({ where: { id: Symbol("x") } })).toThrow(UnkeyableArgument);
  });

  it("keys field references by the field they name", () => {
    const ref = (modelName: string, name: string) =>
      Object.assign(Object.create({ constructor: class FieldRefImpl {} }), { modelName, name, typeName: "String", isList: false, isEnum: false });
    expect(canonical({ where: { name: { equals: ref("User", "email") } } })).toBe(canonical({ where: { name: { equals: ref("User", "email") } } }));
    expect(canonical({ where: { name: { equals: ref("User", "email") } } })).not.toBe(canonical({ where: { name: { equals: ref("User", "name") } } }));
  });
});

describe("namespaced entry keys", () => {
  const args = { where: { id: 1 } };
  const long = { where: { name: "x".repeat(100) } };

  it("gives each namespace its own key, apart from the shared namespace's, for short and long args", () => {
    for (const a of [args, long]) {
      const keys = [undefined, "a", "b", "", "1", "a:b", "a%3Ab", "=x", "#x", "é", "t".repeat(200), "u".repeat(200)].map((ns) => entryKey("pc", "User", "findUnique", a, ns));
      expect(new Set(keys).size).toBe(keys.length);
    }
  });

  it("keeps the key's layout: the namespace holds no ':' and long ones are bounded", () => {
    const key = entryKey("pc", "User", "findUnique", args, "tenant:1/ü");
    const name = `User:findUnique:@${encodeURIComponent("tenant:1/ü")}:=${canonical(args)}`;
    expect(key).toBe(`pc:{${slotTag(name)}}:e:${name}`);
    expect(entryKey("pc", "User", "findUnique", args, "t".repeat(10_000)).length).toBeLessThan(120);
    expect(entryKey("pc", "User", "findUnique", args, undefined)).toBe(entryKey("pc", "User", "findUnique", args));
  });
});

describe("currentNamespace", () => {
  it("returns strings as they are, numbers as decimal text and undefined as the shared namespace", () => {
    expect(currentNamespace(undefined)).toBeUndefined();
    expect(currentNamespace(() => "acme")).toBe("acme");
    expect(currentNamespace(() => 42)).toBe("42");
    expect(currentNamespace(() => undefined)).toBeUndefined();
  });

  it.each([[null], [{}], [Number.NaN], [true], [1n]])("rejects a hook returning %s with a CacheConfigError naming the option", (value) => {
    expect(() => currentNamespace(() => value)).toThrow(expect.objectContaining({ code: "CONFIG_INVALID", field: "namespace" }));
  });
});
