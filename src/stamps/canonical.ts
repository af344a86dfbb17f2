import * as crypto from "node:crypto";

/**
 * One text per Prisma argument value, for entry keys and row stamps.
 *
 * Two values that Prisma treats alike get one text: object key order is ignored, `undefined` members are dropped
 * (Prisma ignores them), and Date, BigInt, Decimal, bytes and Prisma's null markers are spelled by value.
 */

/** Canonical text of a Prisma argument value. */
export function canonical(value: unknown): string {
  switch (typeof value) {
    case "string":
      return JSON.stringify(value);
    case "number":
      return `#${value}`;
    case "bigint":
      return `b${value}`;
    case "boolean":
      return value ? "t" : "f";
    case "undefined":
      return "u";
    case "object":
      return value === null ? "n" : canonicalObject(value);
    default:
      // Functions and symbols are not valid Prisma arguments; keep them distinct rather than fail.
      return `?${String(value)}`;
  }
}

function canonicalObject(value: object): string {
  if (Array.isArray(value)) {
    let out = "[";
    for (let i = 0; i < value.length; i++) out += (i === 0 ? "" : ",") + canonical(value[i]);
    return out + "]";
  }
  const proto = Object.getPrototypeOf(value);
  let tag = "";
  if (proto !== Object.prototype && proto !== null) {
    if (value instanceof Date) return `d${value.getTime()}`;
    if (value instanceof Uint8Array) return `x${Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString("base64")}`;
    if (isDecimal(value)) return `m${String(value)}`;
    // Prisma.DbNull, JsonNull and AnyNull are class instances with no own fields: name them.
    tag = `<${nullTypeName(value)}>`;
  }
  const keys = Object.keys(value);
  // Most args are written in a fixed order already; sort only when they are not.
  for (let i = 1; i < keys.length; i++) {
    if (keys[i - 1]! > keys[i]!) {
      keys.sort();
      break;
    }
  }
  let out = `${tag}{`;
  let first = true;
  for (const key of keys) {
    const member = (value as Record<string, unknown>)[key];
    if (member === undefined) continue;
    out += (first ? "" : ",") + quoted(key) + ":" + canonical(member);
    first = false;
  }
  return out + "}";
}

/** JSON-quoted object keys, memoized: args reuse a small vocabulary of field and operator names. */
const quotedKeys = new Map<string, string>();

function quoted(key: string): string {
  let text = quotedKeys.get(key);
  if (text === undefined) {
    text = JSON.stringify(key);
    // Json filter values can carry arbitrary keys; do not let them grow the memo without bound.
    if (quotedKeys.size < 10_000) quotedKeys.set(key, text);
  }
  return text;
}

function nullTypeName(value: object): string {
  const named = value as { _getName?: () => string };
  return typeof named._getName === "function" ? named._getName() : (value.constructor?.name ?? "object");
}

/** Prisma's Decimal (decimal.js) from any copy of the runtime: `instanceof` fails across ESM/CJS copies. */
export function isDecimal(value: unknown): value is { toString(): string } {
  if (typeof value !== "object" || value === null || (value as { toStringTag?: unknown }).toStringTag !== "[object Decimal]") return false;
  // A Json value may carry the same member; a Decimal is a class instance, never a plain object.
  const proto = Object.getPrototypeOf(value);
  return proto !== Object.prototype && proto !== null;
}

/** A value Prisma compares by value in a filter: a primitive, Date, Decimal or bytes (not a filter object). */
export function isScalarValue(value: unknown): boolean {
  if (value === null || value === undefined) return false;
  return typeof value !== "object" || value instanceof Date || value instanceof Uint8Array || isDecimal(value);
}

const hashText: (text: string) => string =
  typeof (crypto as { hash?: unknown }).hash === "function"
    ? (text) => (crypto as unknown as { hash(alg: string, data: string, enc: string): string }).hash("sha1", text, "base64url")
    : (text) => crypto.createHash("sha1").update(text).digest("base64url");

/** A short, collision-resistant digest (160-bit SHA-1, base64url) of canonical text. */
export function digest(text: string): string {
  return hashText(text);
}
