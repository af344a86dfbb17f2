/**
 * Type-exact comparison of two outcomes of one Prisma call: the JSON text under a replacer that keeps BigInt,
 * Decimal, Date and Bytes apart from strings and numbers (and keeps key order), plus a deep type shape (every value's
 * type and every object's class), and for errors the class name and code.
 */

export type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

export async function settle(run: () => Promise<unknown>): Promise<Outcome> {
  try {
    return { ok: true, value: await run() };
  } catch (error) {
    return { ok: false, error };
  }
}

/** Both texts; equal outcomes have equal texts. */
export function describeOutcome(outcome: Outcome): string {
  if (!outcome.ok) return describeError(outcome.error);
  return `${valueText(outcome.value)}\n${typeShape(outcome.value)}`;
}

export function describeError(error: unknown): string {
  const name = (error as { constructor?: { name?: string } })?.constructor?.name ?? typeof error;
  const code = (error as { code?: unknown })?.code;
  return `throws ${name}${code !== undefined ? ` ${String(code)}` : ""}`;
}

/** A short message for reports. */
export function errorMessage(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message
    .split("\n")
    .filter((line) => line.trim() !== "")
    .slice(-3)
    .join(" ")
    .slice(0, 300);
}

export function isDecimal(value: unknown): boolean {
  return typeof value === "object" && value !== null && typeof (value as { toFixed?: unknown }).toFixed === "function" && "d" in value && "e" in value && "s" in value;
}

/** JSON text in which special types are tagged; object keys stay in their order. */
export function valueText(value: unknown): string {
  return (
    JSON.stringify(value, function (this: Record<string, unknown>, key: string) {
      const original = key === "" && !(key in this) ? value : this[key];
      if (typeof original === "bigint") return { $bigint: original.toString() };
      if (original instanceof Date) return { $date: Number.isNaN(original.getTime()) ? "invalid" : original.toISOString() };
      if (isDecimal(original)) return { $decimal: String(original) };
      if (original instanceof Uint8Array) return { $bytes: Buffer.from(original).toString("hex") };
      if (original === undefined) return { $undefined: true };
      return original;
    }) ?? "undefined"
  );
}

/** The type of every value, recursively, with object classes and keys in order. */
export function typeShape(value: unknown): string {
  if (value === null) return "null";
  if (typeof value !== "object") return typeof value;
  if (Array.isArray(value)) return `[${value.map(typeShape).join(",")}]`;
  const name = value.constructor?.name ?? "null-prototype";
  if (value instanceof Date || value instanceof Uint8Array || isDecimal(value)) return name;
  return `${name}{${Object.entries(value)
    .map(([key, item]) => `${key}:${typeShape(item)}`)
    .join(",")}}`;
}
