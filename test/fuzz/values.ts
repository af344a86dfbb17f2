/**
 * Random values for scalar fields, within what the column accepts (native lengths, decimal scale, Int32), plus
 * "special" values that stand for things only the client under test can build (Prisma.DbNull and friends).
 */
import type { Datamodel, ScalarField } from "./datamodel.ts";
import type { Rng } from "./random.ts";

/** A placeholder for `Prisma.DbNull` / `Prisma.JsonNull` / `Prisma.AnyNull`, resolved against the client at run time. */
export interface NullKind {
  $nullKind: "DbNull" | "JsonNull" | "AnyNull";
}

export function nullKind(name: NullKind["$nullKind"]): NullKind {
  return { $nullKind: name };
}

export function isNullKind(value: unknown): value is NullKind {
  return typeof value === "object" && value !== null && "$nullKind" in value;
}

const WORDS = ["ada", "Bob", "carol", "dave", "Éve", "zoë", "x y", "", "a%b", "_u_", "O'Neil", "naïve", "ADA"];

/** A value of the field's type. `unique` makes it distinct from all others generated (a counter goes in). */
export function scalarValue(field: ScalarField, rng: Rng, dm: Datamodel, serial: number, unique: boolean): unknown {
  if (field.isList) {
    const item = { ...field, isList: false };
    return Array.from({ length: rng.int(0, 3) }, () => scalarValue(item, rng, dm, serial, false));
  }
  const native = field.nativeType?.[0];
  if (field.kind === "enum") return rng.pick(dm.enums[field.type]!);
  switch (field.type) {
    case "String": {
      if (native === "Uuid" || field.defaultName === "uuid") return uuid(rng);
      if (field.defaultName === "cuid") return cuid(rng);
      const limit = native === "Char" || native === "VarChar" ? Number(field.nativeType![1][0] ?? 8) : 24;
      const base = unique ? `${rng.pick(["k", "K", "u"])}${serial.toString(36)}` : rng.pick(WORDS);
      const text = native === "Citext" && rng.chance(0.5) ? base.toUpperCase() : base;
      // Char(n) pads; a shorter value exercises the padding.
      return text.slice(0, Math.max(1, limit));
    }
    case "Int":
      if (unique) return serial;
      return rng.pick([0, 1, -1, 2, 7, 42, 2147483647, -2147483648, rng.int(-1000, 1000)]);
    case "BigInt":
      if (unique) return BigInt(serial);
      return rng.pick([0n, 1n, -5n, 9007199254740993n, -9223372036854775808n, BigInt(rng.int(-1000, 1000))]);
    case "Float":
      return rng.pick([0, 1.5, -2.25, 1e-7, 123456.75, rng.int(-100, 100) / 4]);
    case "Decimal": {
      const scale = Number(field.nativeType?.[1][1] ?? 2);
      const digits = rng.pick(["0", "1", "-1", "12.5", "0.1", "-3.75", "99999.123", String(rng.int(-1000, 1000))]);
      return scale === 0 ? digits.split(".")[0]! : digits;
    }
    case "Boolean":
      return rng.chance(0.5);
    case "DateTime":
      if (unique) return new Date(Date.UTC(2020, 0, 1) + serial * 1000);
      return new Date(Date.UTC(2020, 0, 1) + rng.int(-5, 5) * 86_400_000 + rng.pick([0, 1, 999, 3_600_000]));
    case "Json":
      return jsonValue(rng, 2);
    case "Bytes":
      return Uint8Array.from({ length: rng.int(0, 5) }, () => rng.int(0, 255));
    default:
      throw new Error(`no value generator for ${field.type}`);
  }
}

export function jsonValue(rng: Rng, depth: number): unknown {
  const leaf = () => rng.pick<unknown>([0, 1, -2.5, "a", "B", "", true, false, null, "http://a.example/"]);
  if (depth <= 0 || rng.chance(0.4)) return leaf();
  if (rng.chance(0.5)) return Array.from({ length: rng.int(0, 3) }, () => jsonValue(rng, depth - 1));
  const object: Record<string, unknown> = {};
  for (const key of rng.some(["a", "b", "z", "k1", "long key"], 3)) object[key] = jsonValue(rng, depth - 1);
  return object;
}

export function uuid(rng: Rng): string {
  const h = rng.hex(32);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

export function cuid(rng: Rng): string {
  return `c${rng.hex(24)}`;
}

/**
 * Another spelling of a stored value that the database treats as equal: upper-case uuids, other letter case for
 * `citext`, trailing blanks for `Char(n)`. `undefined` when the column has none.
 */
export function otherSpelling(field: ScalarField, value: unknown, rng: Rng): unknown {
  if (typeof value !== "string") return undefined;
  const native = field.nativeType?.[0];
  if (native === "Uuid") return value.toUpperCase();
  if (native === "Citext") {
    const flipped = [...value].map((c) => (rng.chance(0.5) ? c.toUpperCase() : c.toLowerCase())).join("");
    return flipped === value ? value.toUpperCase() : flipped;
  }
  if (native === "Char") {
    const length = Number(field.nativeType![1][0] ?? 1);
    return value.length < length ? value.padEnd(length, " ") : undefined;
  }
  return undefined;
}
