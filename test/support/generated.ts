/**
 * Global setup of the unit project: the unit tests import the generated Prisma client and cache schema (git-ignored
 * `generated/`), so generate them when they are missing or older than the Prisma schema, as on a fresh clone.
 * Needs no services: `prisma generate` runs offline.
 */
import { execFileSync } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import { resolve } from "node:path";

const ROOT = resolve(import.meta.dirname, "../..");
const OUTPUTS = ["generated/prisma/client.ts", "generated/cache/index.ts"].map((path) => resolve(ROOT, path));

export function setup(): void {
  const schemaTime = statSync(resolve(ROOT, "prisma/schema.prisma")).mtimeMs;
  if (OUTPUTS.every((path) => existsSync(path) && statSync(path).mtimeMs >= schemaTime)) return;
  execFileSync(process.execPath, [resolve(ROOT, "scripts/generate.mjs")], { cwd: ROOT, stdio: "inherit" });
}
