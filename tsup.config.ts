import { defineConfig } from "tsup";

export default defineConfig([
  {
    entry: { index: "src/index.ts" },
    format: ["esm", "cjs"],
    dts: true,
    clean: true,
    sourcemap: true,
    target: "node20",
    external: ["@prisma/client", "ioredis", "pg"],
  },
  {
    // The generator is a CommonJS bin so that `provider = "prisma-cache-plugin"` runs under any project type.
    entry: { generator: "src/generator/bin.ts" },
    format: ["cjs"],
    outExtension: () => ({ js: ".cjs" }),
    target: "node20",
    banner: { js: "#!/usr/bin/env node" },
    external: ["@prisma/generator-helper"],
  },
]);
