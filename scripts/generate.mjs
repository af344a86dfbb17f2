// Runs `prisma generate` for the test bed, the demo and the benchmark.
// `prisma generate` does not use the schema engine, but the CLI checks that one exists; where it cannot be
// downloaded (offline machines, CI sandboxes) any existing file satisfies the check.
import { spawnSync } from "node:child_process";

const env = { ...process.env };
env.PRISMA_SCHEMA_ENGINE_BINARY ??= process.execPath;
env.PRISMA_HIDE_UPDATE_MESSAGE ??= "1";
const result = spawnSync("npx", ["prisma", "generate"], { stdio: "inherit", env });
process.exit(result.status ?? 1);
