import type { ModelInfo } from "../schema/model-graph.ts";
import { isPlainObject } from "../validate.ts";

/**
 * Prisma merges concurrent `findUnique` calls of one tick into one statement, but not `findFirst`: measured here,
 * 100 concurrent `findUnique` by id reach Postgres as 1 statement, 100 `findFirst` by id as 100. So a `findFirst`
 * miss is sent as `findUnique` when the two provably return the same result and the same errors:
 *
 * - `where` holds exactly one member, a single-field unique key compared with a plain value of the field's own type
 *   (no filter objects, no null, no other fields: `findUnique` rejects some of those and `findFirst` accepts them,
 *   and a compound key's name is valid only in `findUnique`);
 * - no `select` or `include`: a nested `where` may hold a value the database rejects, which `findFirst` reports and
 *   `findUnique` of a missing row never evaluates, and Prisma's merge of findUnique calls with different selections
 *   can give one call another's field order; an `omit` of `true`/`false` flags may come along;
 * - not `findFirstOrThrow`: its NotFound error names the operation and the call site.
 */

/** Arguments `findUnique` accepts with the same meaning as in `findFirst`. */
const SAME_MEANING = new Set(["where", "select", "include", "omit", "relationLoadStrategy"]);

/** The JavaScript type of a value that Prisma accepts, unconverted, for a field of a Prisma scalar type. */
const VALUE_TYPES: Record<string, string> = { String: "string", Int: "number", BigInt: "bigint", Boolean: "boolean" };

/** The operation to send a cached read's miss as: `findUnique` for an equivalent `findFirst`, else its own. */
export function missOperation(info: ModelInfo | undefined, operation: string, args: unknown): string {
  if (operation !== "findFirst" || info === undefined || !isPlainObject(args)) return operation;
  for (const key of Object.keys(args)) {
    const value = args[key];
    if (value === undefined) continue;
    if (!SAME_MEANING.has(key)) return operation;
    // Prisma merges findUnique calls that differ only in their selection and may hand one call another's field
    // order (fuzz F4), which findFirst, never merged, does not: only an omit (no order of its own) may come along.
    if (key === "select" || key === "include") return operation;
    if (key === "omit" && !isFlagSelection(value)) return operation;
  }
  return pinsSingleFieldKey(info, args.where) ? "findUnique" : operation;
}

function isFlagSelection(selection: unknown): boolean {
  if (!isPlainObject(selection)) return false;
  for (const key of Object.keys(selection)) {
    const value = selection[key];
    if (value !== undefined && typeof value !== "boolean") return false;
  }
  return true;
}

function pinsSingleFieldKey(info: ModelInfo, where: unknown): boolean {
  if (!isPlainObject(where)) return false;
  const fields = Object.keys(where).filter((field) => where[field] !== undefined);
  if (fields.length !== 1) return false;
  const field = fields[0]!;
  if (!info.uniques.some((unique) => unique.fields.length === 1 && unique.fields[0] === field)) return false;
  const value = where[field];
  const expected = VALUE_TYPES[info.fieldTypes.get(field) ?? ""];
  return expected !== undefined && typeof value === expected && (expected !== "number" || Number.isSafeInteger(value));
}
