import { Decimal as RuntimeDecimal } from "@prisma/client/runtime/client";
import { describe, expect, it } from "vitest";
import { Prisma } from "../../generated/prisma/client.ts";
import { Serializer } from "../../src/read/serializer.ts";

const serializer = new Serializer();
const encode = (value: unknown): string => serializer.encode(value);
const decode = (text: string): unknown => serializer.decode(text);

const roundTrip = <T>(value: T): T => decode(encode(value)) as T;

/** A row of the test bed's Sample model, with every scalar type Prisma returns. */
function sample() {
  return {
    id: "7b0c3c1e-0000-4000-8000-000000000001",
    text: 'héllo \u0000 \ud83d\ude00 "quoted" \\ backslash',
    int: -2147483648,
    big: 9007199254740993n,
    float: 0.1 + 0.2,
    decimal: new Prisma.Decimal("12345678901234567890.0123456789"),
    flag: false,
    at: new Date("2024-02-29T23:59:59.999Z"),
    json: { nested: [1, "two", null, true, { deep: 1.5 }] },
    maybeJson: null,
    bytes: new Uint8Array([0, 1, 254, 255]),
    role: "ADMIN",
    words: ["a", "", "c"],
    numbers: [1, -2, 3],
    optional: null,
  };
}

describe("encode / decode", () => {
  it("round-trips every scalar type exactly, with the same types", () => {
    const row = sample();
    const back = roundTrip(row);
    expect(back).toStrictEqual(row);
    expect(back.at).toBeInstanceOf(Date);
    expect(back.at.getTime()).toBe(row.at.getTime());
    expect(typeof back.big).toBe("bigint");
    expect(back.big).toBe(9007199254740993n);
    expect(Prisma.Decimal.isDecimal(back.decimal)).toBe(true);
    expect(back.decimal.constructor).toBe(row.decimal.constructor);
    expect(back.decimal.toFixed(10)).toBe("12345678901234567890.0123456789");
    expect(back.bytes).toBeInstanceOf(Uint8Array);
    expect([...back.bytes]).toEqual([0, 1, 254, 255]);
    expect(back.text).toBe(row.text);
    expect(back.float).toBe(0.30000000000000004);
  });

  it("revives Decimals with the class its own client's Decimals have, each instance its own", () => {
    // Another copy of decimal.js, as a second Prisma runtime (CJS beside ESM) would bring.
    class OtherDecimal {
      readonly toStringTag = "[object Decimal]";
      constructor(private readonly text: string) {}
      toString(): string {
        return this.text;
      }
    }
    const learning = new Serializer();
    const encoded = learning.encode({ d: new OtherDecimal("1.5") });
    expect((learning.decode(encoded) as { d: unknown }).d).toBeInstanceOf(OtherDecimal);
    // A serializer that never saw that class (another plugin instance) keeps the runtime's.
    expect((new Serializer().decode(encoded) as { d: unknown }).d).toBeInstanceOf(RuntimeDecimal);
  });

  it("revives Decimals with the runtime's Decimal class", () => {
    const back = roundTrip({ d: new RuntimeDecimal("-0.5") });
    expect(back.d).toBeInstanceOf(RuntimeDecimal);
    expect(back.d.equals(new RuntimeDecimal("-0.5"))).toBe(true);
  });

  it("keeps nulls, nested relations and arrays of relations", () => {
    const user = {
      id: 1,
      name: null,
      createdAt: new Date(1_700_000_000_000),
      profile: null,
      posts: [
        { id: 10, title: "a", comments: [{ id: 100n, body: "x", createdAt: new Date(1) }] },
        { id: 11, title: "b", comments: [] },
      ],
      _count: { posts: 2, comments: 1 },
    };
    const back = roundTrip(user);
    expect(back).toStrictEqual(user);
    expect(typeof back.posts[0]!.comments[0]!.id).toBe("bigint");
    expect(back.posts[0]!.comments[0]!.createdAt).toBeInstanceOf(Date);
  });

  it("revives values inside arrays of scalars", () => {
    const value = { dates: [new Date(1), new Date(2)], bigs: [1n, 2n], decimals: [new Prisma.Decimal("0.1")] };
    const back = roundTrip(value);
    expect(back).toStrictEqual(value);
    expect(back.dates[1]).toBeInstanceOf(Date);
    expect(typeof back.bigs[0]).toBe("bigint");
    expect(Prisma.Decimal.isDecimal(back.decimals[0])).toBe(true);
  });

  it("never reinterprets Json content that looks like its own encoding", () => {
    const json = {
      v: 1,
      r: [["D"], ["B", "v"]],
      marker: "\u0000",
      date: "2024-01-01T00:00:00.000Z",
      big: "123",
      list: [{ v: 2, r: [["U"]] }],
    };
    const row = { id: 1, json, text: '{"v":1,"r":[["D"]]}', at: new Date(5) };
    const back = roundTrip(row);
    expect(back).toStrictEqual(row);
    expect(back.json.r).toEqual([["D"], ["B", "v"]]);
    expect(typeof back.json.big).toBe("string");
    expect(typeof back.json.date).toBe("string");
  });

  it("round-trips a Json value that is itself an encoding", () => {
    const inner = encode({ at: new Date(1) });
    const row = { json: JSON.parse(inner) as unknown, text: inner };
    expect(roundTrip(row)).toStrictEqual(row);
  });

  it("keeps __proto__ keys of Json values as data, without touching prototypes", () => {
    const json = JSON.parse('{"__proto__":{"polluted":true},"constructor":{"prototype":{"x":1}},"a":1}') as Record<string, unknown>;
    const row = { id: 1, json, at: new Date(3) };
    const back = roundTrip(row);
    expect(Object.keys(back.json)).toEqual(["__proto__", "constructor", "a"]);
    expect(Object.getPrototypeOf(back.json)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(back.json, "__proto__")?.value).toEqual({ polluted: true });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(back.at).toBeInstanceOf(Date);
  });

  // Decimals are recognised by shape (a `toStringTag` member equal to "[object Decimal]"), which a Json value can
  // have too: it is then encoded as a Decimal, decoded as `new Object("[object Object]")` (a String wrapper), and the
  // Decimal class used by later decodes becomes `Object`.
  it("round-trips a Json object that has a toStringTag member", () => {
    const row = { json: { toStringTag: "[object Decimal]", a: 1 } };
    try {
      expect(roundTrip(row)).toStrictEqual(row);
    } finally {
      encode(new Prisma.Decimal(0)); // restores the Decimal class for the other tests
    }
  });

  it("keeps decoding Decimals as Decimals after encoding a Json object with a toStringTag member", () => {
    const text = encode({ price: new Prisma.Decimal("1.5") });
    try {
      encode({ json: { toStringTag: "[object Decimal]" } });
      expect(Prisma.Decimal.isDecimal((decode(text) as { price: unknown }).price)).toBe(true);
    } finally {
      encode(new Prisma.Decimal(0));
    }
  });

  it("round-trips NaN, Infinity, -Infinity and -0 floats", () => {
    const row = { nan: NaN, inf: Infinity, ninf: -Infinity, nzero: -0, zero: 0, list: [NaN, -0] };
    const back = roundTrip(row);
    expect(back).toStrictEqual(row);
    expect(Number.isNaN(back.nan)).toBe(true);
    expect(back.inf).toBe(Infinity);
    expect(back.ninf).toBe(-Infinity);
    expect(Object.is(back.nzero, -0)).toBe(true);
    expect(Object.is(back.zero, 0)).toBe(true);
    expect(Object.is(back.list[1], -0)).toBe(true);
  });

  it("round-trips empty arrays and objects", () => {
    for (const value of [[], {}, { a: [], b: {} }, [[], {}]]) expect(roundTrip(value)).toStrictEqual(value);
  });

  it("round-trips top-level numbers (count), null, arrays, strings and booleans", () => {
    expect(roundTrip(42)).toBe(42);
    expect(roundTrip(0)).toBe(0);
    expect(roundTrip(null)).toBeNull();
    expect(roundTrip("x")).toBe("x");
    expect(roundTrip(true)).toBe(true);
    expect(roundTrip([])).toStrictEqual([]);
    expect(roundTrip([{ id: 1 }, { id: 2 }])).toStrictEqual([{ id: 1 }, { id: 2 }]);
  });

  it("round-trips top-level revived values", () => {
    expect(roundTrip(new Date(7))).toStrictEqual(new Date(7));
    expect(roundTrip(7n)).toBe(7n);
    expect(Object.is(roundTrip(-0), -0)).toBe(true);
    expect(Number.isNaN(roundTrip(NaN))).toBe(true);
    const decimal = roundTrip(new Prisma.Decimal("3.25"));
    expect(Prisma.Decimal.isDecimal(decimal)).toBe(true);
    expect(decimal.toString()).toBe("3.25");
  });

  it("round-trips aggregate and groupBy shapes", () => {
    const aggregate = { _count: { _all: 3 }, _avg: { views: 1.5 }, _sum: { big: 6n }, _min: { at: new Date(1), decimal: null }, _max: { decimal: new Prisma.Decimal("9.9") } };
    expect(roundTrip(aggregate)).toStrictEqual(aggregate);
    const groups = [
      { role: "USER", _count: { _all: 2 } },
      { role: "ADMIN", _count: { _all: 1 } },
    ];
    expect(roundTrip(groups)).toStrictEqual(groups);
  });

  it("returns a fresh object graph on every decode", () => {
    const text = encode({ id: 1, at: new Date(1), tags: ["a"], nested: { n: 1 } });
    const first = decode(text) as { id: number; at: Date; tags: string[]; nested: { n: number } };
    first.id = 2;
    first.at.setTime(99);
    first.tags.push("b");
    first.nested.n = 2;
    expect(decode(text)).toStrictEqual({ id: 1, at: new Date(1), tags: ["a"], nested: { n: 1 } });
    expect(decode(text)).not.toBe(decode(text));
  });

  it("is not affected by mutating the value after encoding", () => {
    const row = { id: 1, at: new Date(1) };
    const text = encode(row);
    row.id = 2;
    row.at.setTime(2);
    expect(decode(text)).toStrictEqual({ id: 1, at: new Date(1) });
  });

  it("skips undefined members", () => {
    expect(roundTrip({ a: 1, b: undefined })).toStrictEqual({ a: 1 });
  });

  it("refuses values no query result can contain", () => {
    expect(() => encode({ fn: () => 1 })).toThrow(TypeError);
    expect(() => encode({ nested: [Symbol("s")] })).toThrow(/nested\.0/);
  });
});
