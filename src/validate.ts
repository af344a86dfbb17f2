import { CacheConfigError } from "./errors.ts";

/**
 * The validators options, strategies, `$cache` calls and stores share. Each throws a `CacheConfigError` that names
 * the field, says what it accepts and shows what it received.
 */

/** An object literal (or `Object.create(null)`), not an array, class instance or null. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** A short description of a received value, for error messages. */
export function describe(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "bigint") return `${value}n`;
  if (typeof value === "function") return "a function";
  if (Array.isArray(value)) return "an array";
  if (value === null || typeof value !== "object") return String(value);
  return `an object ${safeJson(value)}`;
}

/** A non-negative, finite number of seconds; `fallback` when undefined. */
export function seconds(value: unknown, field: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
    throw new CacheConfigError(field, `must be a non-negative, finite number of seconds, received: ${describe(value)}`);
  }
  return value;
}

/** A non-negative, finite number; `fallback` when undefined. */
export function nonNegative(value: unknown, field: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
    throw new CacheConfigError(field, `must be a non-negative, finite number, received: ${describe(value)}`);
  }
  return value;
}

/** A positive, finite number; `fallback` when undefined. */
export function positive(value: unknown, field: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) {
    throw new CacheConfigError(field, `must be a positive, finite number, received: ${describe(value)}`);
  }
  return value;
}

/** A positive integer (a count or size); `fallback` when undefined. */
export function positiveInteger(value: unknown, field: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isInteger(value) || value <= 0) {
    throw new CacheConfigError(field, `must be a positive integer, received: ${describe(value)}`);
  }
  return value;
}

/** One of `allowed`; `fallback` when undefined. */
export function oneOf<const T>(value: unknown, field: string, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (!allowed.includes(value as T)) {
    throw new CacheConfigError(field, `must be one of ${allowed.map((option) => describe(option)).join(", ")}, received: ${describe(value)}`);
  }
  return value as T;
}

/** A function, or undefined. */
export function optionalFunction<F>(value: F | undefined, field: string): F | undefined {
  if (value !== undefined && typeof value !== "function") throw new CacheConfigError(field, `must be a function, received: ${describe(value)}`);
  return value;
}

/** The longest tag accepted, in UTF-16 code units. */
export const MAX_TAG_LENGTH = 200;

/** C0 and C1 control characters (newline, tab, NUL, DEL, ...), which no tag may hold. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point.
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/**
 * A list of tags (or model names): each a non-empty string of at most 200 characters without control characters,
 * the tag alphabet README documents, so that no log line, key or message built from tags can be ambiguous.
 */
export function validTags(tags: unknown, field: string): string[] {
  if (!Array.isArray(tags)) throw new CacheConfigError(field, `must be an array of non-empty strings, received: ${describe(tags)}`);
  tags.forEach((tag, i) => {
    if (typeof tag !== "string" || tag.length === 0 || tag.length > MAX_TAG_LENGTH || CONTROL.test(tag)) {
      throw new CacheConfigError(`${field}[${i}]`, `must be a non-empty string of at most ${MAX_TAG_LENGTH} characters without control characters, received: ${describe(tag)}`);
    }
  });
  return tags as string[];
}

/** Both lists of tags, each once; `a` itself when it is empty. */
export function mergeTags(a: readonly string[], b: readonly string[]): readonly string[] {
  if (a.length === 0) return b;
  return [...new Set([...a, ...b])];
}

/** Throws on the first key of `object` that is not in `allowed`. */
export function rejectUnknownKeys(object: object, allowed: readonly string[], field: string): void {
  for (const key of Object.keys(object)) {
    if (!allowed.includes(key)) {
      throw new CacheConfigError(`${field}.${key}`, `is not a known option; allowed: ${allowed.join(", ")}`);
    }
  }
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value)?.slice(0, 80) ?? "";
  } catch {
    return "";
  }
}

/** A store factory's options: a plain object (or nothing) with only the keys the store knows. */
export function storeOptions(options: unknown, allowed: readonly string[], store: string): void {
  if (options === undefined) return;
  if (!isPlainObject(options)) throw new CacheConfigError(store, `options must be an object, received: ${describe(options)}`);
  rejectUnknownKeys(options, allowed, store);
}

/**
 * An opt-in feature's option: `true` (all defaults), `false` or undefined (off), or an object with only `allowed`
 * keys. Returns the object (empty for `true`), or undefined when off.
 */
export function featureOption(value: unknown, field: string, allowed: readonly string[]): Record<string, unknown> | undefined {
  if (value === undefined || value === false) return undefined;
  if (value === true) return {};
  if (!isPlainObject(value)) throw new CacheConfigError(field, `must be true, false or an object { ${allowed.join(", ")} }, received: ${describe(value)}`);
  rejectUnknownKeys(value, allowed, field);
  return value;
}
