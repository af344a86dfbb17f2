import type pg from "pg";

/**
 * The publication the feed streams: the watched tables that exist and can be published. A table is published only
 * if it has a replica identity (a primary key, an identity index or `REPLICA IDENTITY FULL`): adding one without
 * would make Postgres refuse every UPDATE and DELETE on it. The feed only ever adds tables to the publication,
 * never removes any, so several apps (or schema versions) may share one.
 */

export interface PublicationResult {
  /** `schema.table`, exactly spelled, of every watched table the publication covers. */
  published: string[];
  /** Watched tables left out, with why. */
  skipped: { table: string; reason: string }[];
}

interface TableRow {
  schema: string;
  table: string;
  identity: string;
  has_pk: boolean;
}

/** Creates the publication, or adds the watched tables it lacks. */
export async function ensurePublication(client: pg.Client, name: string, watched: readonly { schema: string; table: string }[]): Promise<PublicationResult> {
  const wanted = watched.map(({ schema, table }) => `${schema.toLowerCase()}.${table.toLowerCase()}`);
  const { rows } = await client.query<TableRow>(
    `SELECT n.nspname AS schema, c.relname AS table, c.relreplident AS identity,
            EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indisprimary) AS has_pk
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind IN ('r', 'p') AND lower(n.nspname) || '.' || lower(c.relname) = ANY($1::text[])`,
    [wanted],
  );
  const found = new Map(rows.map((row) => [`${row.schema.toLowerCase()}.${row.table.toLowerCase()}`, row]));
  const skipped: PublicationResult["skipped"] = [];
  const eligible: TableRow[] = [];
  for (const [i, key] of wanted.entries()) {
    const row = found.get(key);
    const label = `${watched[i]!.schema}.${watched[i]!.table}`;
    if (row === undefined) skipped.push({ table: label, reason: "no such table" });
    else if (row.identity === "n" || (row.identity === "d" && !row.has_pk)) skipped.push({ table: label, reason: "no primary key or replica identity" });
    else eligible.push(row);
  }
  if (eligible.length === 0) return { published: [], skipped };

  const present = await client.query<{ all: boolean; schema: string | null; table: string | null }>(
    `SELECT p.puballtables AS all, t.schemaname AS schema, t.tablename AS table
       FROM pg_publication p LEFT JOIN pg_publication_tables t ON t.pubname = p.pubname
      WHERE p.pubname = $1`,
    [name],
  );
  const qualified = (row: { schema: string; table: string }) => `${quoteIdent(row.schema)}.${quoteIdent(row.table)}`;
  if (present.rows.length === 0) {
    try {
      await client.query(`CREATE PUBLICATION ${quoteIdent(name)} FOR TABLE ${eligible.map(qualified).join(", ")}`);
      return { published: eligible.map(label), skipped };
    } catch (error) {
      // Another process created it just now: add what it lacks, below.
      if ((error as { code?: string }).code !== "42710") throw error;
      return ensurePublication(client, name, watched);
    }
  }
  if (!present.rows[0]!.all) {
    const have = new Set(present.rows.map((row) => `${row.schema}.${row.table}`));
    const missing = eligible.filter((row) => !have.has(label(row)));
    if (missing.length > 0) await client.query(`ALTER PUBLICATION ${quoteIdent(name)} ADD TABLE ${missing.map(qualified).join(", ")}`);
  }
  return { published: eligible.map(label), skipped };
}

function label(row: { schema: string; table: string }): string {
  return `${row.schema}.${row.table}`;
}

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
