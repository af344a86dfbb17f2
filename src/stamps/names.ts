/**
 * Stamp names and their store keys. A cached entry records the values of its stamps taken before its database read
 * and is served only while they are unchanged; a write advances the stamps of what it changed, so invalidation costs
 * O(stamps), never O(entries) (docs/stamps-and-fences.md).
 *
 * Stamps:
 * - `*`                 the namespace epoch, which every entry depends on (`invalidateAll`)
 * - `m:<Model>`         any row of the model: lists, counts, aggregates, and reads that reach it via relations
 * - `u:<Model>`         every unique lookup of the model (writes that cannot name the rows they change)
 * - `r:<Model>:<key>`   one row, named by one of its unique constraints and values (`r:User:email="a@x"`)
 * - `t:<tag>`           a user tag
 */

export const EPOCH = "*";
export const modelStamp = (model: string): string => `m:${model}`;
export const uniquesStamp = (model: string): string => `u:${model}`;
export const tagStamp = (tag: string): string => `t:${tag}`;

/** The store key of a stamp: `<prefix>:{<tag>}:s:<stamp>`, its hash tag its own (see `slotTag`). */
export function stampKey(prefix: string, stamp: string): string {
  return `${prefix}:{${slotTag(stamp)}}:s:${stamp}`;
}

/**
 * The hash tag of a key (Redis Cluster places a key by its first `{…}`): a 32-bit FNV-1a digest of what the key
 * names, in base 36, so keys spread evenly over the slots whatever braces user data (args, tags) holds, and a key
 * and its companions (an entry's lease, its loose entry) share a slot by sharing the tag. The prefix never holds a
 * brace (options.ts), so the tag is always the key's first. On one Redis node tags mean nothing.
 */
export function slotTag(text: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0).toString(36);
}
