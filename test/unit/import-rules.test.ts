import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";

/**
 * The layout's import rules (docs/layout.md), checked over the real import graph of src/ so that they stay true:
 * - stamps/ and schema/ are pure: they import only each other and validate.ts;
 * - stores import only the store protocol, entry-table.ts, circuit-breaker.ts, redis-scripts.ts, redis-cluster.ts, redis-single-node.ts, validate.ts, errors.ts and defaults.ts at run time
 *   (no store imports another store's class; type-only imports of other stores are fine);
 * - the read path never imports the write path;
 * - only index.ts imports extension.ts;
 * - errors.ts, defaults.ts and validate.ts are leaves (validate.ts may throw errors.ts's CacheConfigError);
 * - nothing in src/ imports tests, benchmarks or the generated clients;
 * - observe/channels.ts is a leaf (Node and types only), the one observe/ module the read, write and store code may
 *   publish on; observe/ itself only listens: it never imports read/, write/ or stores/ at run time;
 * - only the opentelemetry entry point reaches @opentelemetry/api: nothing index.ts loads imports it.
 */

const SRC = resolve(import.meta.dirname, "../../src");

interface Import {
  from: string;
  to: string;
  typeOnly: boolean;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith(".ts") ? [path] : [];
  });
}

const IMPORT = /^\s*(import|export)\s+(type\s+)?([^;]*?)\s*from\s*"([^"]+)"/gms;

function importsOf(file: string): Import[] {
  const text = readFileSync(file, "utf8");
  const found: Import[] = [];
  for (const match of text.matchAll(IMPORT)) {
    const specifier = match[4]!;
    const to = specifier.startsWith(".") ? relative(SRC, resolve(dirname(file), specifier)) : specifier;
    found.push({ from: relative(SRC, file), to, typeOnly: match[2] !== undefined });
  }
  return found;
}

const graph = sourceFiles(SRC).flatMap(importsOf);
const internal = graph.filter(
  (edge) => !edge.to.startsWith("..") && (edge.to.includes("/") || edge.to.endsWith(".ts")) && !edge.to.startsWith("@") && !edge.to.startsWith("node:"),
);
const folder = (path: string) => (path.includes("/") ? path.slice(0, path.indexOf("/")) : "");
const violations = (rule: (edge: Import) => boolean) => internal.filter(rule).map((edge) => `${edge.from} -> ${edge.to}${edge.typeOnly ? " (type)" : ""}`);

describe("import rules", () => {
  it("reads the import graph (the test itself would otherwise pass vacuously)", () => {
    expect(graph.length).toBeGreaterThan(50);
    expect(internal).toContainEqual({ from: "extension.ts", to: "read/read-through.ts", typeOnly: false });
  });

  it("keeps stamps/ and schema/ pure: only each other and validate.ts", () => {
    expect(violations((edge) => ["stamps", "schema"].includes(folder(edge.from)) && !["stamps", "schema"].includes(folder(edge.to)) && edge.to !== "validate.ts")).toEqual([]);
  });

  it("lets stores import only the protocol, entry-table.ts, circuit-breaker.ts, redis-scripts.ts, redis-cluster.ts, redis-single-node.ts, validate.ts, errors.ts, defaults.ts and observe/channels.ts at run time", () => {
    const allowed = new Set([
      "stores/store.ts",
      "stores/entry-table.ts",
      "stores/circuit-breaker.ts",
      "stores/redis-scripts.ts",
      "stores/redis-cluster.ts",
      "stores/redis-single-node.ts",
      "validate.ts",
      "errors.ts",
      "defaults.ts",
      "observe/channels.ts",
    ]);
    expect(violations((edge) => folder(edge.from) === "stores" && !allowed.has(edge.to) && !(edge.typeOnly && folder(edge.to) === "stores"))).toEqual([]);
  });

  it("never lets the read path import the write path", () => {
    expect(violations((edge) => folder(edge.from) === "read" && folder(edge.to) === "write")).toEqual([]);
  });

  it("lets only index.ts import extension.ts", () => {
    expect(violations((edge) => edge.to === "extension.ts" && edge.from !== "index.ts")).toEqual([]);
  });

  it("keeps errors.ts, defaults.ts and validate.ts leaves", () => {
    expect(violations((edge) => ["errors.ts", "defaults.ts"].includes(edge.from) || (edge.from === "validate.ts" && edge.to !== "errors.ts"))).toEqual([]);
  });

  it("keeps observe/channels.ts a leaf, and observe/ a listener that never imports read/, write/ or stores/ at run time", () => {
    expect(graph.filter((edge) => edge.from === "observe/channels.ts" && !edge.typeOnly && !edge.to.startsWith("node:")).map((edge) => edge.to)).toEqual([]);
    expect(violations((edge) => folder(edge.from) === "observe" && ["read", "write", "stores"].includes(folder(edge.to)) && !edge.typeOnly)).toEqual([]);
  });

  it("never loads @opentelemetry/api from the main entry point, only from opentelemetry.ts", () => {
    const reached = new Set<string>(["index.ts"]);
    for (const file of reached) for (const edge of graph) if (edge.from === file && !edge.typeOnly && edge.to.endsWith(".ts")) reached.add(edge.to);
    expect(reached.size).toBeGreaterThan(20);
    expect(graph.filter((edge) => reached.has(edge.from) && edge.to.startsWith("@opentelemetry/")).map((edge) => `${edge.from} -> ${edge.to}`)).toEqual([]);
    expect(graph.some((edge) => edge.from.startsWith("observe/otel-") && edge.to === "@opentelemetry/api")).toBe(true);
  });

  it("never imports tests, benchmarks or generated code from src/", () => {
    expect(graph.filter((edge) => edge.to.startsWith("..")).map((edge) => `${edge.from} -> ${edge.to}`)).toEqual([]);
  });
});
