import type { CacheSchema } from "./cache-schema.ts";
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
