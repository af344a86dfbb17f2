/** Prints operations as TypeScript that can be pasted into a test. */
import type { Call, Op, RawStatement } from "./operations.ts";
import { isNullKind } from "./values.ts";

export type Provider = "postgresql" | "mysql" | "sqlite";

export function printValue(value: unknown, indent = ""): string {
  if (value === null) return "null";
  if (value === undefined) return "undefined";
  if (typeof value === "bigint") return `${value}n`;
  if (typeof value === "number") return Object.is(value, -0) ? "-0" : String(value);
  if (typeof value === "string" || typeof value === "boolean") return JSON.stringify(value);
  if (value instanceof Date) return `new Date(${JSON.stringify(value.toISOString())})`;
  if (value instanceof Uint8Array) return `Uint8Array.from([${[...value].join(", ")}])`;
  if (isNullKind(value)) return `Prisma.${value.$nullKind}`;
  if (typeof value === "object" && "$url" in value) return `new URL(${JSON.stringify((value as { $url: string }).$url)})`;
  if (Array.isArray(value)) return `[${value.map((item) => printValue(item, indent)).join(", ")}]`;
  const entries = Object.entries(value as Record<string, unknown>).map(
    ([key, item]) => `${/^[A-Za-z_$][\w$]*$/.test(key) ? key : JSON.stringify(key)}: ${printValue(item, indent)}`,
  );
  return entries.length === 0 ? "{}" : `{ ${entries.join(", ")} }`;
}

export function printCall(client: string, call: Call): string {
  const delegate = call.model.charAt(0).toLowerCase() + call.model.slice(1);
  return `${client}.${delegate}.${call.method}(${printValue(call.args)})`;
}

/** The SQL and parameters of a raw statement, in the provider's quoting and placeholders. */
export function renderRaw(statement: RawStatement, provider: Provider): { sql: string; params: unknown[] } {
  const quote = (name: string) => (provider === "mysql" ? `\`${name}\`` : `"${name}"`);
  const params: unknown[] = [];
  const placeholder = () => {
    params.push(undefined);
    return provider === "postgresql" ? `$${params.length}` : "?";
  };
  const values: unknown[] = [];
  let sql: string;
  if (statement.set) {
    sql = `UPDATE ${quote(statement.table)} SET ${quote(statement.set.column)} = ${placeholder()}`;
    values.push(statement.set.value);
  } else {
    sql = `DELETE FROM ${quote(statement.table)}`;
  }
  sql += ` WHERE ${statement.where
    .map((part) => {
      values.push(part.value);
      return `${quote(part.column)} = ${placeholder()}`;
    })
    .join(" AND ")}`;
  return { sql, params: values };
}

export function printOp(op: Op, provider: Provider, writer: string, reader: string): string {
  switch (op.kind) {
    case "read":
      return `await ${printCall(reader, op.call)};`;
    case "burst":
      return `await Promise.all([\n${op.calls.map((call) => `  ${printCall(reader, call)},`).join("\n")}\n]);`;
    case "write":
      return `await ${printCall(writer, op.call)};`;
    case "raw": {
      const { sql, params } = renderRaw(op.statement, provider);
      return `await ${writer}.$executeRawUnsafe(${[JSON.stringify(sql), ...params.map((p) => printValue(p))].join(", ")});`;
    }
    case "batch":
      return `await ${writer}.$transaction([\n${op.calls.map((call) => `  ${printCall(writer, call)},`).join("\n")}\n]);`;
    case "interactive":
      return `await ${writer}.$transaction(async (tx) => {\n${op.calls.map((call) => `  await ${printCall("tx", call)};`).join("\n")}${op.rollback ? '\n  throw new Error("rollback");' : ""}\n});`;
  }
}
