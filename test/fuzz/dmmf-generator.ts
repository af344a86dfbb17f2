/**
 * A tiny Prisma generator for the fuzzer: writes the schema's full datamodel (ids, uniques, defaults, native types,
 * relations) to `<output>/dmmf.json`, which the generated client no longer carries at runtime.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import generatorHelper from "@prisma/generator-helper";

generatorHelper.generatorHandler({
  onManifest: () => ({ defaultOutput: "../generated/dmmf", prettyName: "fuzzer datamodel" }),
  onGenerate: async (options) => {
    const output = options.generator.output?.value;
    if (!output) throw new Error("the dmmf generator needs an output directory");
    await mkdir(output, { recursive: true });
    const provider = options.datasources[0]?.provider;
    await writeFile(join(output, "dmmf.json"), `${JSON.stringify({ provider, datamodel: options.dmmf.datamodel }, null, 1)}\n`);
  },
});
