import { canonical, digest } from "../stamps/canonical.ts";
import { slotTag } from "../stamps/names.ts";

/**
 * Entry keys: `<prefix>:{<tag>}:e:<Model>:<operation>:<args>`, the args' canonical text when it is short and
 * readable, its digest otherwise. The tag (stamps/names.ts `slotTag`) is a digest of the rest, so on Redis Cluster
 * entries spread over the slots, each with its lease and loose entry beside it (docs/cluster.md).
 */

/** Canonical args short enough to stay readable are used as they are; longer ones are digested. */
const MAX_RAW_ARGS = 40;

/** The key of a cached read. `args` must not contain `cacheStrategy`. */
export function entryKey(prefix: string, model: string, operation: string, args: unknown): string {
  return entryKeyOf(prefix, model, operation, canonical(args));
}

/** The key of a cached read whose args' canonical text is already known. */
export function entryKeyOf(prefix: string, model: string, operation: string, text: string): string {
  const id = text.length <= MAX_RAW_ARGS ? `=${text}` : `#${digest(text)}`;
  const name = `${model}:${operation}:${id}`;
  return `${prefix}:{${slotTag(name)}}:e:${name}`;
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
