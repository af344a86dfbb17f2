import * as crypto from "node:crypto";

/**
 * One text per Prisma argument value, for entry keys and row stamps.
 *
 * Two argument objects that Prisma treats alike get one text, and two it treats differently never do: member
 * order is ignored where Prisma ignores it (see `Members`), `undefined` members are dropped (Prisma ignores them),
 * Date, BigInt, Decimal, bytes and Prisma's null markers are spelled by value, and values the encoder cannot tell
 * apart (unknown class instances, `toJSON`, functions) throw `UnkeyableArgument`, so the read bypasses the cache.
 */

/**
 * Thrown for an argument value the key encoder cannot tell apart from others Prisma would send differently (a class
 * instance it does not know, an object with `toJSON`, a function): such a read bypasses the cache instead of
 * guessing a key that another query could share.
 */
export class UnkeyableArgument extends Error {}

/**
 * How the members of an object are keyed. Where Prisma's result does not depend on member order (arguments, filters)
 * they are sorted, so `{ where, take }` and `{ take, where }` share an entry; where it does (a `select` or `include`
 * orders the result's fields, `orderBy` orders rows) the order is part of the key, so a hit has the key order Prisma
 * would return for that very call.
 */
const Members = {
  /** An operation's arguments, or a relation's in a selection: sorted; what each argument holds decides below. */
  Args: 0,
  /** Filters (`where`, `having`, `cursor`) and everything in them: sorted. */
  Unordered: 1,
  /** `select`, `include`, `omit`: in the caller's order; relation members hold arguments again. */
  Selection: 2,
  /** Everything else (`orderBy`, `by`, `distinct`, aggregate selections): in the caller's order throughout. */
  Ordered: 3,
} as const;
type Members = (typeof Members)[keyof typeof Members];

/** Canonical text of a Prisma read's arguments (or of any argument value). */
export function canonical(value: unknown): string {
  return canonicalValue(value, Members.Args);
}

function canonicalValue(value: unknown, members: Members): string {
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
      return value === null ? "n" : canonicalObject(value, members);
    default:
      // Functions and symbols are not Prisma arguments: Prisma rejects them, and the database read says how.
      throw new UnkeyableArgument(`cannot key a ${typeof value} argument`);
  }
}

function canonicalObject(value: object, members: Members): string {
  if (Array.isArray(value)) {
    let out = "[";
    for (let i = 0; i < value.length; i++) out += (i === 0 ? "" : ",") + canonicalValue(value[i], members);
    return out + "]";
  }
  const proto = Object.getPrototypeOf(value);
  let tag = "";
  if (proto !== Object.prototype && proto !== null) {
    if (value instanceof Date) return `d${value.getTime()}`;
    if (value instanceof Uint8Array) return `x${Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString("base64")}`;
    if (isDecimal(value)) return `m${String(value)}`;
    tag = knownInstanceTag(value);
  } else if (typeof (value as { toJSON?: unknown }).toJSON === "function") {
    // Prisma sends Json input through JSON.stringify, which calls toJSON: its members say nothing.
    throw new UnkeyableArgument("cannot key an object with toJSON");
  }
  const keys = Object.keys(value);
  if (members === Members.Args || members === Members.Unordered) {
    // Most args are written in a fixed order already; sort only when they are not.
    for (let i = 1; i < keys.length; i++) {
      if (keys[i - 1]! > keys[i]!) {
        keys.sort();
        break;
      }
    }
  }
  let out = `${tag}{`;
  let first = true;
  for (const key of keys) {
    const member = (value as Record<string, unknown>)[key];
    if (member === undefined) continue;
    out += (first ? "" : ",") + quoted(key) + ":" + canonicalValue(member, memberKind(members, key));
    first = false;
  }
  return out + "}";
}

/** How the value of member `key` of an object keyed as `members` is keyed. */
function memberKind(members: Members, key: string): Members {
  switch (members) {
    case Members.Args:
      if (key === "where" || key === "having" || key === "cursor") return Members.Unordered;
      if (key === "select" || key === "include" || key === "omit") return Members.Selection;
      return Members.Ordered;
    case Members.Selection:
      // `posts: { where, select, ... }` and `_count: { select: { ... } }` hold arguments.
      return Members.Args;
    default:
      return members;
  }
}

/**
 * The tag of a class instance Prisma accepts in arguments and compares by identity of kind: its null markers
 * (`Prisma.DbNull`, `JsonNull`, `AnyNull`, which have no fields) and field references (`prisma.user.fields.name`,
 * keyed by their fields). Any other class instance cannot be keyed safely.
 */
function knownInstanceTag(value: object): string {
  const named = value as { _getName?: () => string; _getNamespace?: () => string };
  if (typeof named._getName === "function" && typeof named._getNamespace === "function") return `<${named._getName()}>`;
  const field = value as { modelName?: unknown; name?: unknown; typeName?: unknown };
  if (typeof field.modelName === "string" && typeof field.name === "string" && typeof field.typeName === "string") return "<FieldRef>";
  throw new UnkeyableArgument(`cannot key an instance of ${value.constructor?.name ?? "an unknown class"}`);
}

/** JSON-quoted object keys, memoized: args reuse a small vocabulary of field and operator names. */
const quotedKeys = new Map<string, string>();

function quoted(key: string): string {
  let text = quotedKeys.get(key);
  if (text === undefined) {
    text = JSON.stringify(key);
    // Json filter values can carry arbitrary keys; do not let them grow the memo without bound.
    if (quotedKeys.size < 10_000 && key.length <= 64) quotedKeys.set(key, text);
  }
  return text;
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
