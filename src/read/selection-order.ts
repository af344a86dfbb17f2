import { isPlainObject } from "../validate.ts";

/**
 * A result with its fields in the order Prisma gives a call alone: the order of the call's `select` (at every depth).
 *
 * Prisma merges the `findUnique` calls of one tick into one query, and a merged call can come back with the field
 * order of another call of the batch (same row, `select` in another order). Such a result is what Prisma returned to
 * that caller, but stored as it is it would be served to later calls made alone, which Prisma answers in their own
 * order; so entries are stored in that order. Results without a `select` are left as they are.
 */
export function inSelectionOrder(value: unknown, args: unknown): unknown {
  if (!isPlainObject(args)) return value;
  const select = args.select;
  const include = args.include;
  if (!isPlainObject(select) && !isPlainObject(include)) return value;
  if (Array.isArray(value)) return value.map((item) => orderRecord(item, select, include));
  return orderRecord(value, select, include);
}

function orderRecord(value: unknown, select: unknown, include: unknown): unknown {
  if (!isPlainObject(value)) return value;
  const out: Record<string, unknown> = {};
  if (isPlainObject(select)) {
    for (const field of Object.keys(select)) {
      if (field in value) out[field] = nested(value[field], select[field]);
    }
  }
  for (const field of Object.keys(value)) {
    if (field in out) continue;
    out[field] = isPlainObject(include) ? nested(value[field], include[field]) : value[field];
  }
  return out;
}

/** A relation's (or `_count`'s) value, ordered by its own arguments when it has any. */
function nested(value: unknown, selection: unknown): unknown {
  return isPlainObject(selection) ? inSelectionOrder(value, selection) : value;
}
