// Runs `prisma generate` for the test bed on every provider (Postgres, MySQL/MariaDB, SQLite), the demo and the
// benchmark, and for the fuzzer's own schemas (test/fuzz/schemas/*/schema.prisma, each into generated/fuzz/<name>/):
// each schema writes its client and its cacheSchema into its own folder under generated/.
// `prisma generate` does not use the schema engine, but the CLI checks that one exists; where it cannot be
// downloaded (offline machines, CI sandboxes) any existing file satisfies the check.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";

/** The test bed's schemas: Postgres (prisma.config.ts's default) and its MySQL and SQLite variants; the NestJS example's. */
const SCHEMAS = ["prisma/schema.prisma", "prisma/mysql/schema.prisma", "prisma/sqlite/schema.prisma", "examples/nestjs/prisma/schema.prisma"];

const env = { ...process.env };
env.PRISMA_SCHEMA_ENGINE_BINARY ??= process.execPath;
env.PRISMA_HIDE_UPDATE_MESSAGE ??= "1";

const FUZZ_SCHEMAS = "test/fuzz/schemas";
const schemas = [...SCHEMAS];
if (existsSync(FUZZ_SCHEMAS)) {
  for (const name of readdirSync(FUZZ_SCHEMAS).sort()) schemas.push(`${FUZZ_SCHEMAS}/${name}/schema.prisma`);
}
for (const schema of schemas) {
  const result = spawnSync("npx", ["prisma", "generate", "--schema", schema], { stdio: "inherit", env });
  if (result.status !== 0) process.exit(result.status ?? 1);
}
