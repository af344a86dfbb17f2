/**
 * The `prisma-cache-plugin` Prisma generator: `prisma generate` runs it and it writes the module exporting
 * `cacheSchema`, because the full DMMF it needs is only available at generate time.
 *
 * ```prisma
 * generator cache {
 *   provider  = "prisma-cache-plugin"
 *   output    = "../generated/cache"   // default
 *   format    = "ts"                   // "ts" | "cjs" | "esm", default "ts"
 *   typesFrom = "prisma-cache-plugin"  // where the generated file imports the CacheSchema type from;
 *                                      // a relative path is relative to `output`
 * }
 * ```
 */
import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
// A default import: the package is CommonJS without the export annotations Node needs to offer named imports.
import generatorHelper from "@prisma/generator-helper";
import type { GeneratorOptions } from "@prisma/generator-helper";
import { schemaFingerprint } from "../schema/fingerprint.ts";
import { buildCacheSchema } from "./build-schema.ts";
import { CACHE_SCHEMA_FORMATS, DEFAULT_TYPES_FROM, renderCacheSchemaModule } from "./emit.ts";
import type { CacheSchemaFormat } from "./emit.ts";

const OPTIONS = ["format", "typesFrom"] as const;

generatorHelper.generatorHandler({
  onManifest: () => ({ defaultOutput: "../generated/cache", prettyName: "Prisma Cache Plugin schema" }),
  onGenerate: async (options: GeneratorOptions) => {
    const output = options.generator.output?.value;
    if (!output) {
      throw new Error("[prisma-cache-plugin] the generator needs an output directory; set `output` in its block");
    }
    const { format, typesFrom } = readConfig(options.generator.config);
    const schema = buildCacheSchema(options.dmmf.datamodel, options.datasources[0]?.provider, schemaFingerprint(options.datamodel));
    for (const file of renderCacheSchemaModule(schema, format, { typesFrom })) {
      const path = join(output, file.path);
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, file.contents);
    }
  },
});

/** Checks the generator block's options before anything is written, so a typo fails `prisma generate` loudly. */
function readConfig(config: GeneratorOptions["generator"]["config"]): { format: CacheSchemaFormat; typesFrom: string } {
  for (const key of Object.keys(config)) {
    if (!(OPTIONS as readonly string[]).includes(key)) {
      throw new Error(`[prisma-cache-plugin] unknown generator option ${key}; expected one of ${OPTIONS.join(", ")}`);
    }
  }

  const format = config.format ?? "ts";
  if (typeof format !== "string" || !(CACHE_SCHEMA_FORMATS as readonly string[]).includes(format)) {
    const allowed = CACHE_SCHEMA_FORMATS.map((name) => `"${name}"`).join(", ");
    throw new Error(`[prisma-cache-plugin] generator option format must be one of ${allowed}, received: ${JSON.stringify(format)}`);
  }

  const typesFrom = config.typesFrom ?? DEFAULT_TYPES_FROM;
  if (typeof typesFrom !== "string" || typesFrom.trim() === "") {
    throw new Error(
      `[prisma-cache-plugin] generator option typesFrom must be a module specifier such as "${DEFAULT_TYPES_FROM}" ` +
        `or a relative path to a file exporting CacheSchema, received: ${JSON.stringify(typesFrom)}`,
    );
  }

  return { format: format as CacheSchemaFormat, typesFrom };
}
