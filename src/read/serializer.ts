import { Decimal as RuntimeDecimal } from "@prisma/client/runtime/client";
import { isDecimal } from "../stamps/canonical.ts";

/**
 * Query results <-> strings, exactly: a decoded hit is deep-equal to the uncached result, with the same types
 * (Date, bigint, Prisma.Decimal, Uint8Array, Json, null, nested relations, non-finite floats).
 *
 * The encoding is plain JSON plus a list of the paths whose values need reviving, so decoding is one
 * `JSON.parse` and a few assignments; nothing inside Json fields is ever reinterpreted, whatever it contains.
 * Every decode builds a new object graph, so callers that mutate a result cannot change what others get.
 */

type Revival = [type: string, ...path: (string | number)[]];

type DecimalConstructor = new (value: string) => unknown;

/**
 * One plugin instance's encoder and decoder. Decimals decode into the class of the Decimals its client returns
 * (learned from the first one it encodes, Prisma's runtime's until then), so that hits have the client's own class
 * even when two copies of Prisma's runtime are loaded (ESM and CJS) or two clients use different ones.
 */
export class Serializer {
  #decimal: DecimalConstructor = RuntimeDecimal as unknown as DecimalConstructor;
  readonly #learn: DecimalSeen = (decimal) => {
    this.#decimal = decimal;
  };

  /** Encodes a query result. Throws on values a Prisma result cannot contain (functions, symbols). */
  encode(value: unknown): string {
    const revivals: Revival[] = [];
    const json = write(value, [], revivals, this.#learn);
    return revivals.length === 0 ? `{"v":${json}}` : `{"v":${json},"r":${JSON.stringify(revivals)}}`;
  }

  /** Decodes what `encode` produced into a fresh value. */
  decode(text: string): unknown {
    const parsed = JSON.parse(text) as { v: unknown; r?: Revival[] };
    if (parsed.r === undefined) return parsed.v;
    let root = parsed.v;
    for (const revival of parsed.r) {
      const last = revival.length - 1;
      if (last === 0) {
        root = this.#revive(revival[0], root);
        continue;
      }
      let parent = root as Record<string | number, unknown>;
      for (let i = 1; i < last; i++) parent = parent[revival[i] as string] as Record<string | number, unknown>;
      const key = revival[last] as string;
      parent[key] = this.#revive(revival[0], parent[key]);
    }
    return root;
  }

  #revive(type: string, value: unknown): unknown {
    switch (type) {
      case "D":
        return new Date(value as number);
      case "B":
        return BigInt(value as string);
      case "M":
        return new this.#decimal(value as string);
      case "U":
        return new Uint8Array(Buffer.from(value as string, "base64"));
      case "F":
        return Number(value as string);
      default:
        throw new Error(`unknown revival type ${type}`);
    }
  }
}

/**
 * A deep copy of a decoded value, for serving a hit from a value decoded before: several times cheaper than
 * decoding again, with the same guarantee (a new object graph, the same types).
 */
export function copy(value: unknown): unknown {
  if (typeof value !== "object" || value === null) return value;
  if (Array.isArray(value)) {
    const out = new Array(value.length);
    for (let i = 0; i < value.length; i++) out[i] = copy(value[i]);
    return out;
  }
  if (Object.getPrototypeOf(value) === Object.prototype) {
    // Spread copies the own properties in order at once (a "__proto__" key of Json stays an own property, as
    // JSON.parse makes it); then only the members that are objects need copies of their own.
    const out: Record<string, unknown> = { ...value };
    for (const key of Object.keys(out)) {
      const member = out[key];
      if (typeof member !== "object" || member === null) continue;
      if (key === "__proto__") Object.defineProperty(out, key, { value: copy(member), enumerable: true, writable: true, configurable: true });
      else out[key] = copy(member);
    }
    return out;
  }
  if (value instanceof Date) return new Date(value.getTime());
  if (value instanceof Uint8Array) return value.slice();
  if (isDecimal(value)) return new (value.constructor as DecimalConstructor)(value.toString());
  return value;
}

/** Learns the Decimal class of the values encoded. */
type DecimalSeen = (decimal: DecimalConstructor) => void;

function write(value: unknown, path: (string | number)[], revivals: Revival[], seen: DecimalSeen): string {
  switch (typeof value) {
    case "string":
      return JSON.stringify(value);
    case "boolean":
      return value ? "true" : "false";
    case "number":
      if (Number.isFinite(value) && !Object.is(value, -0)) return String(value);
      revivals.push(["F", ...path]);
      return JSON.stringify(Object.is(value, -0) ? "-0" : String(value));
    case "bigint":
      revivals.push(["B", ...path]);
      return `"${value}"`;
    case "object":
      return value === null ? "null" : writeObject(value, path, revivals, seen);
    case "undefined":
      // Only reachable inside objects (skipped there) or arrays, where JSON has no undefined either.
      return "null";
    default:
      throw new TypeError(`cannot cache a ${typeof value} at ${path.join(".") || "(root)"}`);
  }
}

function writeObject(value: object, path: (string | number)[], revivals: Revival[], seen: DecimalSeen): string {
  if (Array.isArray(value)) {
    let out = "[";
    for (let i = 0; i < value.length; i++) {
      path.push(i);
      out += (i === 0 ? "" : ",") + write(value[i], path, revivals, seen);
      path.pop();
    }
    return out + "]";
  }
  if (value instanceof Date) {
    revivals.push(["D", ...path]);
    return String(value.getTime());
  }
  if (value instanceof Uint8Array) {
    revivals.push(["U", ...path]);
    return `"${Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString("base64")}"`;
  }
  if (isDecimal(value)) {
    seen(value.constructor as DecimalConstructor);
    revivals.push(["M", ...path]);
    return JSON.stringify(value.toString());
  }
  let out = "{";
  let first = true;
  for (const key of Object.keys(value)) {
    const member = (value as Record<string, unknown>)[key];
    if (member === undefined) continue;
    path.push(key);
    out += (first ? "" : ",") + JSON.stringify(key) + ":" + write(member, path, revivals, seen);
    path.pop();
    first = false;
  }
  return out + "}";
}
