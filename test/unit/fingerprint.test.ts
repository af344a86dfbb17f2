/** The schema fingerprint the generator writes and the plugin checks (issue 8, item 8). */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { cacheSchema } from "../../generated/cache/index.ts";
import { cacheSchema as mysqlCacheSchema } from "../../generated/mysql/cache/index.ts";
import { cacheSchema as sqliteCacheSchema } from "../../generated/sqlite/cache/index.ts";
import { clientFingerprint, fingerprintMismatch, namespacedPrefix } from "../../src/schema/client-check.ts";
import { schemaFingerprint } from "../../src/schema/fingerprint.ts";

const schemaText = (path: string) => readFileSync(resolve(import.meta.dirname, "../../prisma", path), "utf8");
const postgres = schemaText("schema.prisma");

describe("schemaFingerprint", () => {
  it.each([
    ["postgresql", "schema.prisma", cacheSchema],
    ["mysql", "mysql/schema.prisma", mysqlCacheSchema],
    ["sqlite", "sqlite/schema.prisma", sqliteCacheSchema],
  ] as const)("the generated %s cacheSchema carries the fingerprint of the schema it came from", (_provider, path, generated) => {
    expect(generated.fingerprint).toBe(schemaFingerprint(schemaText(path)));
  });

  it("ignores comments, layout and generator blocks", () => {
    const relaid = `// a comment\ngenerator other {\n  provider = "x"\n}\n${postgres.replace(/\n/g, "\n\n").replace(/ {2,}/g, " ")}`;
    expect(schemaFingerprint(relaid)).toBe(schemaFingerprint(postgres));
  });

  it("changes when a referential action or a relation's target changes", () => {
    const withoutCascade = postgres.replace("references: [id], onDelete: Cascade)", "references: [id])");
    expect(withoutCascade).not.toBe(postgres);
    expect(schemaFingerprint(withoutCascade)).not.toBe(schemaFingerprint(postgres));
  });

  it("keeps string literals that look like comments", () => {
    const a = 'model A {\n  id String @id @default("http://a")\n}\n';
    const b = 'model A {\n  id String @id @default("http://b")\n}\n';
    expect(schemaFingerprint(a)).not.toBe(schemaFingerprint(b));
  });
});

describe("the client check", () => {
  it("reads the client's schema text", () => {
    expect(clientFingerprint({ _engineConfig: { inlineSchema: postgres } })).toBe(schemaFingerprint(postgres));
    expect(clientFingerprint({})).toBeUndefined();
  });

  it("refuses a schema without a fingerprint or with another one", () => {
    const fingerprint = schemaFingerprint(postgres);
    expect(fingerprintMismatch({ ...cacheSchema, fingerprint }, fingerprint)).toBeUndefined();
    expect(fingerprintMismatch({ ...cacheSchema, fingerprint: undefined }, fingerprint)).toMatch(/no fingerprint/);
    expect(fingerprintMismatch({ ...cacheSchema, fingerprint: "0000000000000000" }, fingerprint)).toMatch(/another version/);
  });

  it("namespaces keys by the fingerprint", () => {
    expect(namespacedPrefix("pc", "abc")).toBe("pc:abc");
    expect(namespacedPrefix("pc", undefined)).toBe("pc");
  });
});
