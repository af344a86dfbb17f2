/**
 * Switches for families of generated operations and arguments. Every family is on unless it is known to expose a
 * plugin defect: those are off by default, each with the finding in test/fuzz/FINDINGS.md that it reproduces, so the
 * suite stays green and the lead can turn a family back on once its defect is fixed
 * (`FUZZ_FEATURES=+otherSpellings,-raw` turns families on or off for a run).
 */
export interface Features {
  // Writes.
  creates: boolean;
  updates: boolean;
  /** Updates that change a primary key or a unique field. */
  keyChanges: boolean;
  upserts: boolean;
  deletes: boolean;
  /** createMany, updateMany, deleteMany. */
  many: boolean;
  /** createManyAndReturn, updateManyAndReturn. */
  andReturn: boolean;
  /** create, connect, connectOrCreate, disconnect, set, update(Many), upsert, delete(Many) inside create/update data. */
  nestedWrites: boolean;
  /** increment, decrement, multiply, divide; push on scalar lists. */
  atomicOps: boolean;
  /** $executeRawUnsafe UPDATE / DELETE. */
  raw: boolean;
  batchTransactions: boolean;
  /** Interactive transactions, some thrown out (rolled back). */
  interactiveTransactions: boolean;

  // Reads.
  findUnique: boolean;
  findFirst: boolean;
  findMany: boolean;
  count: boolean;
  aggregate: boolean;
  groupBy: boolean;
  scalarFilters: boolean;
  jsonFilters: boolean;
  /** `null`, `{ not: null }`, Prisma.DbNull / JsonNull / AnyNull. */
  nullFilters: boolean;
  relationFilters: boolean;
  /** AND / OR / NOT. */
  logicalFilters: boolean;
  /** `mode: "insensitive"` (Postgres). */
  insensitiveMode: boolean;
  include: boolean;
  select: boolean;
  omit: boolean;
  relationCount: boolean;
  orderBy: boolean;
  relationOrderBy: boolean;
  /** take / skip. */
  pagination: boolean;
  cursor: boolean;
  distinct: boolean;
  /** Unique lookups by another spelling of the stored value (upper-case uuid, citext case, Char(n) padding). */
  otherSpellings: boolean;
  /** findUnique where with non-unique filters besides the unique key. */
  uniqueWithFilters: boolean;
  /** findFirst whose where holds a unique key (shapes the plugin may send as findUnique). */
  uniqueShapedFindFirst: boolean;
  /** Unique-shaped findFirst whose where adds filters on other fields. */
  uniqueShapedFindFirstWithFilters: boolean;
  /** findFirst with a compound-unique key as a where field (invalid for Prisma). */
  compoundKeyInFindFirst: boolean;
  /** select / include / omit / aggregate keys in random order, and repeats of a read with its keys reordered. */
  reorderedRepeats: boolean;
  /** Json filter values that are class instances with toJSON (URL). */
  toJsonValues: boolean;
  /** Several reads in one tick (Promise.all). */
  bursts: boolean;
  /** Reads with invalid arguments (unknown fields, wrong types). */
  invalidArgs: boolean;
  /** Invalid reads inside a same-tick burst. */
  invalidArgsInBursts: boolean;
}

export const ALL_ON: Features = {
  creates: true,
  updates: true,
  keyChanges: true,
  upserts: true,
  deletes: true,
  many: true,
  andReturn: true,
  nestedWrites: true,
  atomicOps: true,
  raw: true,
  batchTransactions: true,
  interactiveTransactions: true,
  findUnique: true,
  findFirst: true,
  findMany: true,
  count: true,
  aggregate: true,
  groupBy: true,
  scalarFilters: true,
  jsonFilters: true,
  nullFilters: true,
  relationFilters: true,
  logicalFilters: true,
  insensitiveMode: true,
  include: true,
  select: true,
  omit: true,
  relationCount: true,
  orderBy: true,
  relationOrderBy: true,
  pagination: true,
  cursor: true,
  distinct: true,
  otherSpellings: true,
  uniqueWithFilters: true,
  uniqueShapedFindFirst: true,
  compoundKeyInFindFirst: true,
  uniqueShapedFindFirstWithFilters: true,
  reorderedRepeats: true,
  toJsonValues: true,
  bursts: true,
  invalidArgs: true,
  invalidArgsInBursts: true,
};

/** What CI runs: every family (FINDINGS.md lists what each switch found, all fixed now). */
export const DEFAULT_FEATURES: Features = ALL_ON;

/** `DEFAULT_FEATURES` changed by `FUZZ_FEATURES` (`all`, `+name`, `-name`, comma-separated). */
export function featuresFromEnv(spec: string | undefined, base: Features = DEFAULT_FEATURES): Features {
  const features = { ...base };
  for (const part of (spec ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean)) {
    if (part === "all") {
      Object.assign(features, ALL_ON);
      continue;
    }
    const on = !part.startsWith("-");
    const name = part.replace(/^[+-]/, "") as keyof Features;
    if (!(name in ALL_ON)) throw new Error(`FUZZ_FEATURES: unknown feature ${name}; known: ${Object.keys(ALL_ON).join(", ")}`);
    features[name] = on;
  }
  return features;
}
