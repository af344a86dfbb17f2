import { defineConfig } from "tsup";

export default defineConfig([
  {
    // opentelemetry: its own entry, so that only apps that import it load the optional @opentelemetry/api peer.
    entry: { index: "src/index.ts", opentelemetry: "src/opentelemetry.ts" },
    format: ["esm", "cjs"],
    dts: true,
    clean: true,
    sourcemap: true,
    target: "node20",
    external: ["@prisma/client", "ioredis", "pg", "@opentelemetry/api"],
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
