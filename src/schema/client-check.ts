import type { CacheSchema } from "./cache-schema.ts";
import { schemaFingerprint } from "./fingerprint.ts";
import type { RuntimeDataModel } from "./model-graph.ts";

/**
 * Whether the generator's schema describes this Prisma client: every model the client has, with every relation.
 * Generator output older than the client would otherwise make invalidation miss what it does not know about.
 * Returns what is missing, in words, or undefined when the schema matches.
 */
export function schemaMismatch(schema: CacheSchema, runtime: RuntimeDataModel): string | undefined {
  for (const [name, model] of Object.entries(runtime.models)) {
    const described = schema.models[name];
    if (!described) return `model ${name}`;
    const relations = model.fields.filter((field) => field.kind === "object").map((field) => field.name);
    const missing = relations.filter((field) => !described.relations.some((relation) => relation.field === field));
    if (missing.length > 0) return `relations ${missing.join(", ")} of ${name}`;
  }
  return undefined;
}

/**
 * The fingerprint of the schema this Prisma client was generated from (`_engineConfig.inlineSchema`, present in every
 * Prisma 7 client), or undefined where a client does not carry its schema text.
 */
export function clientFingerprint(client: { _engineConfig?: { inlineSchema?: unknown } }): string | undefined {
  const text = client._engineConfig?.inlineSchema;
  return typeof text === "string" ? schemaFingerprint(text) : undefined;
}

/**
 * Why a generated schema must not be used with the client whose fingerprint is given, in words, or undefined when
 * it may. A schema without a fingerprint predates the check, so nothing says it matches.
 */
export function fingerprintMismatch(schema: CacheSchema, client: string | undefined): string | undefined {
  if (typeof schema.fingerprint !== "string") return "it carries no fingerprint, so it may describe another version of the schema";
  if (client !== undefined && schema.fingerprint !== client) {
    return `it was generated from another version of the schema (fingerprint ${schema.fingerprint}, the client's is ${client})`;
  }
  return undefined;
}

/**
 * The key prefix for one schema, so entries and stamps written under another data model never share a key with
 * this one: `<prefix>:<fingerprint>`, which every key begins with (each key's own hash tag follows it).
 */
export function namespacedPrefix(prefix: string, fingerprint: string | undefined): string {
  return fingerprint === undefined ? prefix : `${prefix}:${fingerprint}`;
}
