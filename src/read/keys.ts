import { CacheConfigError } from "../errors.ts";
import { canonical, digest } from "../stamps/canonical.ts";
import { slotTag } from "../stamps/names.ts";
import { describe } from "../validate.ts";

/**
 * Entry keys: `<prefix>:{<tag>}:e:<Model>:<operation>:<args>`, the args' canonical text when it is short and
 * readable, its digest otherwise; under a namespace (`namespace` option) `…:e:<Model>:<operation>:@<namespace>:<args>`,
 * the namespace percent-encoded (so it holds no ':') or digested when long. Stamps are never namespaced. The tag
 * (stamps/names.ts `slotTag`) is a digest of the rest, so on Redis Cluster entries spread over the slots, each with
 * its lease and loose entry beside it (docs/cluster.md).
 */

/** Canonical args short enough to stay readable are used as they are; longer ones are digested. */
const MAX_RAW_ARGS = 40;

/** Namespaces longer than this (encoded) are digested. */
const MAX_RAW_NAMESPACE = 64;

/** The key of a cached read. `args` must not contain `cacheStrategy`. */
export function entryKey(prefix: string, model: string, operation: string, args: unknown, namespace?: string): string {
  return entryKeyOf(prefix, model, operation, canonical(args), namespace);
}

/** The key of a cached read whose args' canonical text is already known. */
export function entryKeyOf(prefix: string, model: string, operation: string, text: string, namespace?: string): string {
  const id = text.length <= MAX_RAW_ARGS ? `=${text}` : `#${digest(text)}`;
  const name = `${model}:${operation}:${namespace === undefined ? "" : namespaceSegment(namespace)}${id}`;
  return `${prefix}:{${slotTag(name)}}:e:${name}`;
}

/** `@<namespace>:`, which no args id (`=` or `#` first) or canonical args text can start like, and bounded in length. */
export function namespaceSegment(namespace: string): string {
  const encoded = encodeURIComponent(namespace);
  return encoded.length <= MAX_RAW_NAMESPACE ? `@${encoded}:` : `@#${digest(namespace)}:`;
}

/**
 * The key of a unique lookup's loose entry (read-stamps.ts: answers not stored under the lookup's own spelling).
 * Canonical args end in `}`, so no exact key ends like this.
 */
export function looseKey(key: string): string {
  return `${key}~loose`;
}

/** The model an entry key is for (for error reports). */
export function modelOfKey(key: string): string | undefined {
  // The model follows the first `}:e:` (the tag's end); the prefix may hold ':' but never a brace.
  return /\}:e:([^:]+):/.exec(key)?.[1];
}

/**
 * The current namespace from the `namespace` option's hook: a string, a number (as its decimal text) or undefined
 * (the shared namespace). Anything else is a configuration error naming the option.
 */
export function currentNamespace(hook: (() => unknown) | undefined): string | undefined {
  if (hook === undefined) return undefined;
  const namespace = hook();
  if (namespace === undefined || typeof namespace === "string") return namespace;
  if (typeof namespace === "number" && Number.isFinite(namespace)) return String(namespace);
  throw new CacheConfigError("namespace", `must return a string, a finite number or undefined, received: ${describe(namespace)}`);
}
