import { createHash } from "node:crypto";

/**
 * A digest of a Prisma schema's data model, the same whether it is taken from the text `prisma generate` hands the
 * cache generator or from the schema Prisma's generated client carries: the generator writes it into `cacheSchema`,
 * and the plugin compares it with the client's, so a `cacheSchema` generated from another version of the schema (a
 * relation added, an `onDelete` changed) is refused instead of silently invalidating too little. It also names the
 * key namespace, so entries written under one schema are never served under another.
 *
 * Only what shapes results and invalidation counts: model, view, type, enum and datasource blocks, without comments
 * or layout, in a fixed order (multi-file schemas may be concatenated in any order). Generator blocks do not count.
 */
export function schemaFingerprint(schemaText: string): string {
  const blocks = topLevelBlocks(withoutComments(schemaText))
    .filter((block) => !/^generator\s/.test(block))
    .map((block) => block.replace(/\s+/g, " "))
    .sort();
  return createHash("sha256").update(blocks.join("\n")).digest("hex").slice(0, 16);
}

/** The text with `//` comments removed, leaving string literals (`@default("http://x")`) intact. */
function withoutComments(text: string): string {
  let out = "";
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const char = text[i]!;
    if (inString) {
      out += char;
      if (char === "\\") out += text[++i] ?? "";
      else if (char === '"') inString = false;
    } else if (char === '"') {
      inString = true;
      out += char;
    } else if (char === "/" && text[i + 1] === "/") {
      while (i < text.length && text[i] !== "\n") i++;
      out += "\n";
    } else {
      out += char;
    }
  }
  return out;
}

/** `keyword Name { ... }` blocks at the top level, trimmed; braces inside string literals do not count. */
function topLevelBlocks(text: string): string[] {
  const blocks: string[] = [];
  let depth = 0;
  let start = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (inString) {
      if (char === "\\") i++;
      else if (char === '"') inString = false;
    } else if (char === '"') {
      inString = true;
    } else if (char === "{") {
      depth++;
    } else if (char === "}" && depth > 0 && --depth === 0) {
      blocks.push(text.slice(start, i + 1).trim());
      start = i + 1;
    }
  }
  return blocks;
}
