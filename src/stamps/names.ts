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

/** The store key of a stamp: `{prefix}:s:<stamp>`, in the namespace's hash slot like its entries. */
export function stampKey(prefix: string, stamp: string): string {
  return `{${prefix}}:s:${stamp}`;
}
