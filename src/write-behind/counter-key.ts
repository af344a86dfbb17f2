/**
 * The field of a pending counter: which row and column an increment is for, as stable text. Two `where`
 * objects with the same members in another order name the same counter, so their increments add up in one field.
 */

/** What a counter is: a model, a unique `where` of one row, and an integer field. */
export interface CounterTarget {
  model: string;
  where: Record<string, unknown>;
  field: string;
}

/** Stable text for a target (JSON with sorted keys; BigInt as `{"$bigint":"…"}`). */
export function counterKey(target: CounterTarget): string {
  return JSON.stringify([target.model, target.field, sortKeys(target.where)]);
}

/** The target back from its text. */
export function parseCounterKey(text: string): CounterTarget {
  const [model, field, where] = JSON.parse(text, (_key, value) =>
    value !== null && typeof value === "object" && !Array.isArray(value) && Object.keys(value).length === 1 && typeof value.$bigint === "string" ? BigInt(value.$bigint) : value,
  ) as [string, string, Record<string, unknown>];
  return { model, field, where };
}

function sortKeys(value: unknown): unknown {
  if (typeof value === "bigint") return { $bigint: value.toString() };
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value instanceof Date) return value.toISOString();
  if (value !== null && typeof value === "object") {
    const sorted: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const member = (value as Record<string, unknown>)[key];
      if (member !== undefined) sorted[key] = sortKeys(member);
    }
    return sorted;
  }
  return value;
}
