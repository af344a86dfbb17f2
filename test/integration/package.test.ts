/**
 * The published package, as a user gets it: `npm pack` (which builds through `prepack`), then a scratch project
 * outside the repository that installs only the tarball and the peers, runs the generator bin through
 * `prisma generate`, loads the package with `require` and `import`, type-checks it under both module systems, and
 * caches a real query against Postgres and Redis.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase, withClient } from "../support/database.ts";
import { createRedis, deleteKeysWithPrefix, redisUrl, uniquePrefix } from "../support/redis.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

/** Installing from npm's cache, building and type-checking are slow, and slower still on a busy CI machine. */
const SETUP_TIMEOUT_MS = 300_000;
const TEST_TIMEOUT_MS = 120_000;

/** The peers a user installs next to the package, at the versions this repository develops against. */
const PEERS = ["@prisma/client", "prisma", "@prisma/adapter-pg", "ioredis", "typescript", "@types/node", "@opentelemetry/api"];

/** The package's runtime exports: every one must be a function (class or factory) under `require` and `import`. */
const FUNCTION_EXPORTS = ["cachePlugin", "memoryStore", "MemoryStore", "redisStore", "RedisStore", "CacheError", "CacheConfigError", "CacheStoreError"];

interface RunResult {
  stdout: string;
  stderr: string;
}

/** Runs a command and throws, with everything it printed, unless it exits 0. */
function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): RunResult {
  const result = spawnSync(command, args, {
    cwd,
    env: { ...process.env, PRISMA_HIDE_UPDATE_MESSAGE: "1", ...env },
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.error || result.status !== 0) {
    const outcome = result.error ? `failed to start: ${result.error.message}` : `exited with ${result.status ?? result.signal}`;
    throw new Error(`\`${[command, ...args].join(" ")}\` in ${cwd} ${outcome}\n` + `--- stdout ---\n${result.stdout ?? ""}\n--- stderr ---\n${result.stderr ?? ""}`);
  }
  return { stdout: result.stdout, stderr: result.stderr };
}

/** Writes `files` (path relative to `dir` -> contents), creating directories as needed. */
async function writeFiles(dir: string, files: Record<string, string>): Promise<void> {
  for (const [path, contents] of Object.entries(files)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), contents);
  }
}

// Tables are mapped to their own names so they cannot collide with the test bed's tables in the cloned database.
const SCHEMA = `
generator client {
  provider = "prisma-client"
  output   = "../generated/prisma"
}

generator cache {
  provider = "prisma-cache-plugin"
  output   = "../generated/cache"
  format   = "cjs"
}

datasource db {
  provider = "postgresql"
}

model User {
  id    Int    @id @default(autoincrement())
  email String @unique
  posts Post[]

  @@map("pkg_user")
}

model Post {
  id       Int    @id @default(autoincrement())
  title    String
  authorId Int
  author   User   @relation(fields: [authorId], references: [id], onDelete: Cascade)

  @@map("pkg_post")
}
`;

const CREATE_TABLES = `
CREATE TABLE pkg_user (id SERIAL PRIMARY KEY, email TEXT NOT NULL UNIQUE);
CREATE TABLE pkg_post (
  id SERIAL PRIMARY KEY,
  title TEXT NOT NULL,
  "authorId" INTEGER NOT NULL REFERENCES pkg_user (id) ON DELETE CASCADE ON UPDATE CASCADE
);
`;

// Prisma 7 takes the datasource URL from here; `prisma generate` does not connect, so any URL will do.
const PRISMA_CONFIG = `
import { defineConfig } from "prisma/config";

export default defineConfig({
  schema: "prisma/schema.prisma",
  datasource: { url: process.env.DATABASE_URL ?? "postgresql://localhost:5432/unused" },
});
`;

const REQUIRE_SCRIPT = `
"use strict";
const assert = require("node:assert/strict");
const plugin = require("prisma-cache-plugin");
for (const name of ${JSON.stringify(FUNCTION_EXPORTS)}) {
  assert.equal(typeof plugin[name], "function", \`require("prisma-cache-plugin").\${name} should be a function\`);
}
assert.equal(plugin.DEFAULTS.ttl, 60, "DEFAULTS is exported");
assert.equal(plugin.default, undefined, "the package has no default export");
assert.equal(typeof plugin.cachePlugin({ ttl: 30 }), "function", "cachePlugin() returns a Prisma extension");
assert.throws(
  () => plugin.cachePlugin({ ttl: -5 }),
  (error) => error instanceof plugin.CacheConfigError && error instanceof plugin.CacheError && error.code === "CONFIG_INVALID",
);
assert.equal(require("prisma-cache-plugin/package.json").name, "prisma-cache-plugin");
const otel = require("prisma-cache-plugin/opentelemetry");
assert.equal(typeof otel.cacheTracing, "function", "the opentelemetry entry point exports cacheTracing");
assert.equal(typeof otel.cacheOtelMetrics, "function", "the opentelemetry entry point exports cacheOtelMetrics");
otel.cacheTracing().close();
assert.equal(typeof plugin.cacheMetrics().prometheus(), "string", "cacheMetrics() renders Prometheus text");

const { cacheSchema } = require("./generated/cache");
assert.ok(cacheSchema.models.User, "the generated cacheSchema describes User");
assert.deepEqual(cacheSchema.models.User.uniques.map((unique) => unique.name), ["id", "email"]);
assert.equal(cacheSchema.models.Post.relations[0].model, "User");
console.log("require ok");
`;

const IMPORT_SCRIPT = `
import assert from "node:assert/strict";
import * as plugin from "prisma-cache-plugin";
import { cachePlugin, CacheConfigError, redisStore } from "prisma-cache-plugin";
import { cacheSchema } from "./generated/cache/index.js";
import { cacheOtelMetrics, cacheTracing } from "prisma-cache-plugin/opentelemetry";

assert.equal(typeof cacheTracing, "function");
assert.equal(typeof cacheOtelMetrics, "function");
for (const name of ${JSON.stringify(FUNCTION_EXPORTS)}) {
  assert.equal(typeof plugin[name], "function", \`import { \${name} } from "prisma-cache-plugin" should be a function\`);
}
assert.equal(plugin.DEFAULTS.ttl, 60, "DEFAULTS is exported");
assert.equal("default" in plugin, false, "the package has no default export");
assert.equal(typeof redisStore, "function");
assert.throws(() => cachePlugin({ ttl: -5 }), CacheConfigError);
assert.ok(cacheSchema.models.User, "the generated cacheSchema describes User");
console.log("import ok");
`;

// Run after the generated client is compiled to JavaScript (Prisma 7 generates TypeScript only).
const QUERY_SCRIPT = `
import assert from "node:assert/strict";
import { PrismaPg } from "@prisma/adapter-pg";
import { Redis } from "ioredis";
import { cachePlugin, redisStore } from "prisma-cache-plugin";
import { cacheSchema } from "./generated/cache/index.js";
import { PrismaClient } from "./generated/prisma/client.js";

const redis = new Redis(process.env.SMOKE_REDIS_URL);
const base = new PrismaClient({ adapter: new PrismaPg({ connectionString: process.env.SMOKE_DATABASE_URL }) });
const prisma = base.$extends(
  cachePlugin({ schema: cacheSchema, store: redisStore({ client: redis }), prefix: process.env.SMOKE_PREFIX, ttl: 60 }),
);
try {
  const user = await prisma.user.create({ data: { email: "a@example.com", posts: { create: { title: "first" } } } });
  const args = { where: { email: "a@example.com" }, include: { posts: true } };
  const first = await prisma.user.findUnique(args);
  const second = await prisma.user.findUnique(args);
  assert.deepEqual(second, first);
  assert.equal(prisma.$cache.stats().hits, 1, "the repeated read is served from the cache");

  await prisma.post.create({ data: { title: "second", authorId: user.id } });
  const third = await prisma.user.findUnique(args);
  assert.deepEqual(third.posts.map((post) => post.title).sort(), ["first", "second"], "a related write invalidates the read");
  console.log(JSON.stringify(prisma.$cache.stats()));
} finally {
  await base.$disconnect();
  redis.disconnect();
}
`;

// The `@ts-expect-error` lines fail the check if the package's types resolved to `any` instead of its declarations.
const TYPES_CJS = `
import {
  cachePlugin,
  CacheConfigError,
  memoryStore,
  type CacheErrorCode,
  type CachePluginOptions,
  type CacheSchema,
  type CacheStrategy,
} from "prisma-cache-plugin";
import { cacheSchema } from "./generated/cache/index.js";

const schema: CacheSchema = cacheSchema;
const options: CachePluginOptions = { schema, store: memoryStore({ maxEntries: 100 }), ttl: 30 };
const strategy: CacheStrategy = { ttl: 10, swr: 5 };
// @ts-expect-error ttl is a number of seconds
const wrong: CachePluginOptions = { ttl: "30" };
const extension = cachePlugin(options);
const code: CacheErrorCode = new CacheConfigError("ttl", "must be a number").code;
export = { extension, strategy, wrong, code };
`;

const TYPES_ESM = `
import { PrismaPg } from "@prisma/adapter-pg";
import { Redis } from "ioredis";
import {
  cachePlugin,
  CacheConfigError,
  memoryStore,
  redisStore,
  type CachePluginOptions,
  type CacheSchema,
  type CacheInfo,
  type CacheStats,
  type CacheStrategy,
} from "prisma-cache-plugin";
import { cacheTracing, type CacheTracingOptions } from "prisma-cache-plugin/opentelemetry";
import { cacheSchema } from "./generated/cache/index.js";
import { PrismaClient } from "./generated/prisma/client.js";

const schema: CacheSchema = cacheSchema;
const options: CachePluginOptions = { schema, store: redisStore({ client: new Redis({ lazyConnect: true }) }), ttl: 30 };
const strategy: CacheStrategy = { ttl: 10, tags: ["users"] };
const tracingOptions: CacheTracingOptions = { keys: false };
export const tracing = cacheTracing(tracingOptions);
// @ts-expect-error ttl is a number of seconds
const wrong: CachePluginOptions = { ttl: "30" };

const prisma = new PrismaClient({ adapter: new PrismaPg({ connectionString: "" }) }).$extends(
  cachePlugin({ ...options, store: memoryStore() }),
);

export async function usage(): Promise<string> {
  const user = await prisma.user.findUnique({ where: { email: "a@example.com" }, include: { posts: true }, cacheStrategy: strategy });
  const titles: string[] = user?.posts.map((post) => post.title) ?? [];
  // @ts-expect-error cacheStrategy.ttl is a number of seconds
  await prisma.user.findMany({ cacheStrategy: { ttl: "1m" } });
  const stats: CacheStats = prisma.$cache.stats();
  const { data, info } = await prisma.user.findMany({ select: { email: true } }).withCacheInfo();
  const emails: string[] = data.map((row) => row.email);
  const status: CacheInfo["status"] = info.status;
  // @ts-expect-error the selection has no title
  data[0]?.title;
  const error: unknown = new CacheConfigError("ttl", "must be a number");
  return error instanceof CacheConfigError ? \`\${error.code} \${stats.hits} \${titles} \${wrong} \${emails} \${status}\` : "";
}
`;

// skipLibCheck as most projects set it: checking Prisma's own declarations would triple the time, and a package
// type that failed to resolve would still surface through the @ts-expect-error lines above.
const COMPILER_OPTIONS = { target: "ES2022", strict: true, noEmit: true, skipLibCheck: true, types: ["node"] };

const SCRATCH_FILES: Record<string, string> = {
  "prisma/schema.prisma": SCHEMA,
  "prisma.config.ts": PRISMA_CONFIG,
  "require.cjs": REQUIRE_SCRIPT,
  "import.mjs": IMPORT_SCRIPT,
  "query.mjs": QUERY_SCRIPT,
  "types-esm.mts": TYPES_ESM,
  "types-cjs.cts": TYPES_CJS,
  "types-node10.ts": TYPES_CJS,
  // nodenext: the .mts file imports (the `import` condition), the .cts file requires (the `require` condition).
  "tsconfig.json": JSON.stringify({
    compilerOptions: { ...COMPILER_OPTIONS, module: "nodenext" },
    files: ["types-esm.mts", "types-cjs.cts"],
  }),
  // The resolution older CommonJS projects still use: no exports map, only the top-level `types`.
  "tsconfig.node10.json": JSON.stringify({
    compilerOptions: { ...COMPILER_OPTIONS, module: "commonjs", moduleResolution: "node10" },
    files: ["types-node10.ts"],
  }),
  // Compiles the generated client in place so plain `node` can run query.mjs; the user's own build would do this.
  "tsconfig.client.json": JSON.stringify({
    compilerOptions: {
      target: "ES2022",
      module: "nodenext",
      rewriteRelativeImportExtensions: true,
      noCheck: true,
      skipLibCheck: true,
    },
    include: ["generated/prisma/**/*.ts"],
  }),
};

describe("the npm pack tarball, installed in a fresh project", () => {
  let packDir: string;
  let project: string;
  let tarballFiles: string[];
  let generateOutput: string;
  let tsc: string;
  // `prisma generate` checks that a schema engine exists but does not use it; any file will do offline.
  const prismaEnv = { PRISMA_SCHEMA_ENGINE_BINARY: process.execPath };

  beforeAll(async () => {
    packDir = await mkdtemp(join(tmpdir(), "pcp-pack-"));
    project = await mkdtemp(join(tmpdir(), "pcp-user-"));

    run("npm", ["pack", "--pack-destination", packDir], ROOT);
    const tarballs = (await readdir(packDir)).filter((name) => name.endsWith(".tgz"));
    expect(tarballs).toHaveLength(1);
    const tarball = join(packDir, tarballs[0]!);
    tarballFiles = run("tar", ["-tzf", tarball], packDir)
      .stdout.split("\n")
      .filter(Boolean)
      .map((path) => path.replace(/^package\//, ""));

    const { devDependencies } = JSON.parse(await readFile(join(ROOT, "package.json"), "utf8")) as {
      devDependencies: Record<string, string>;
    };
    const peers = PEERS.map((name) => {
      const version = devDependencies[name];
      if (!version) throw new Error(`package.json has no devDependency ${name} to take the peer's version from`);
      return `${name}@${version}`;
    });
    await writeFile(join(project, "package.json"), JSON.stringify({ name: "pcp-user", private: true, type: "module" }));
    run("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund", tarball, ...peers], project);

    await writeFiles(project, SCRATCH_FILES);
    tsc = join(project, "node_modules/.bin/tsc");
    const generate = run("npx", ["--no", "prisma", "generate"], project, prismaEnv);
    generateOutput = generate.stdout + generate.stderr;
  }, SETUP_TIMEOUT_MS);

  afterAll(async () => {
    if (packDir) await rm(packDir, { recursive: true, force: true });
    if (project) await rm(project, { recursive: true, force: true });
  });

  it("holds both builds, their declarations, the generator bin, README and package.json", () => {
    const required = [
      "dist/index.js",
      "dist/index.cjs",
      "dist/index.d.ts",
      "dist/index.d.cts",
      "dist/opentelemetry.js",
      "dist/opentelemetry.cjs",
      "dist/opentelemetry.d.ts",
      "dist/opentelemetry.d.cts",
      "dist/generator.cjs",
      "README.md",
      "package.json",
    ];
    expect(
      required.filter((path) => !tarballFiles.includes(path)),
      "missing from the tarball",
    ).toEqual([]);
  });

  it("keeps @opentelemetry/api out of the main entry point (an optional peer, loaded only by /opentelemetry)", async () => {
    const dist = join(project, "node_modules/prisma-cache-plugin/dist");
    const loaded = [await readFile(join(dist, "index.cjs"), "utf8"), await readFile(join(dist, "index.js"), "utf8")];
    for (const file of (await readdir(dist)).filter((name) => name.startsWith("chunk-") && name.endsWith(".js"))) {
      if (loaded[1]!.includes(file)) loaded.push(await readFile(join(dist, file), "utf8"));
    }
    for (const text of loaded) expect(text).not.toContain("@opentelemetry");
    expect(await readFile(join(dist, "opentelemetry.cjs"), "utf8")).toContain("@opentelemetry/api");
  });

  it("leaves out sources, tests, generated code and node_modules", () => {
    const leaked = tarballFiles.filter((path) => /^(src|test|generated|node_modules)\//.test(path) || path.includes("/node_modules/"));
    expect(leaked).toEqual([]);
  });

  it("runs its generator bin from prisma generate by the provider name", async () => {
    expect(generateOutput).toContain("Prisma Cache Plugin schema");
    for (const file of ["index.js", "index.d.ts", "package.json"]) {
      expect(existsSync(join(project, "generated/cache", file)), `generated/cache/${file}`).toBe(true);
    }
    const manifest = JSON.parse(await readFile(join(project, "generated/cache/package.json"), "utf8")) as { type: string };
    expect(manifest.type).toBe("commonjs");
  });

  it(
    "loads with require(), with named exports only",
    () => {
      expect(run("node", ["require.cjs"], project).stdout).toContain("require ok");
    },
    TEST_TIMEOUT_MS,
  );

  it(
    "loads with import, with named exports only",
    () => {
      expect(run("node", ["import.mjs"], project).stdout).toContain("import ok");
    },
    TEST_TIMEOUT_MS,
  );

  it(
    "type-checks under module nodenext, resolving the import and the require declarations",
    () => {
      const { stdout } = run(tsc, ["--project", "tsconfig.json", "--listFiles"], project);
      const loaded = stdout.split("\n").map((path) => path.trim());
      expect(loaded).toContain(join(project, "node_modules/prisma-cache-plugin/dist/index.d.ts"));
      expect(loaded).toContain(join(project, "node_modules/prisma-cache-plugin/dist/index.d.cts"));
    },
    TEST_TIMEOUT_MS,
  );

  it(
    "type-checks under module commonjs with node10 resolution",
    () => {
      run(tsc, ["--project", "tsconfig.node10.json"], project);
    },
    TEST_TIMEOUT_MS,
  );

  describe("against Postgres and Redis", () => {
    let db: TestDatabase;
    const prefix = uniquePrefix("package");

    beforeAll(async () => {
      db = await createTestDatabase();
      await withClient(db.url, (client) => client.query(CREATE_TABLES));
    });
    afterAll(async () => {
      const redis = createRedis();
      try {
        await deleteKeysWithPrefix(redis, prefix);
      } finally {
        redis.disconnect();
      }
      await db?.drop();
    });

    it(
      "serves a repeated query from the cache and drops it after a related write",
      () => {
        run(tsc, ["--project", "tsconfig.client.json"], project);
        const { stdout } = run("node", ["query.mjs"], project, {
          SMOKE_DATABASE_URL: db.url,
          SMOKE_REDIS_URL: redisUrl(),
          SMOKE_PREFIX: prefix,
        });
        const stats = JSON.parse(stdout.trim().split("\n").at(-1)!) as { hits: number; misses: number; errors: number };
        expect(stats).toMatchObject({ hits: 1, misses: 2, errors: 0 });
      },
      TEST_TIMEOUT_MS,
    );
  });
});
