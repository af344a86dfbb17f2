import { CacheError, messageOf, type ErrorReporter } from "../errors.ts";
import type { ModelGraph } from "../schema/model-graph.ts";
import { EPOCH } from "../stamps/names.ts";
import { tablesInSql, writesData } from "../stamps/raw-sql.ts";
import { rawWriteStamps, WRITE_OPERATIONS, writeStamps } from "../stamps/write-stamps.ts";
import { transactionOf } from "../transaction-scope.ts";
import type { Invalidator } from "./invalidator.ts";
import type { WriteThrough } from "./write-through.ts";

/** What a query extension hook receives. */
interface QueryParams {
  model?: string;
  operation: string;
  args: unknown;
  query: (args: unknown) => Promise<unknown>;
}

type Hook = (params: QueryParams) => Promise<unknown>;

/**
 * The query hooks that see every write: model writes (nested writes and batch transactions included), raw SQL, and
 * `$queryRaw` statements that write. Each runs the write, works out the stamps it advanced (stamps/write-stamps.ts,
 * stamps/raw-sql.ts), and resolves only once the invalidation is applied (or, inside an interactive transaction,
 * collected for its end) or written through.
 */
export function writeHooks(parts: { graph: ModelGraph; invalidator: Invalidator; writeThrough: WriteThrough; report: ErrorReporter }) {
  const { graph, invalidator, writeThrough, report } = parts;

  async function afterWrite(params: QueryParams): Promise<unknown> {
    const { model, operation, args, query } = params;
    const transaction = transactionOf(params);
    const through = model === undefined ? undefined : await writeThrough.prepare(model, operation, args, transaction !== undefined);
    const result = await query(args);
    let stamps: Set<string>;
    try {
      stamps = model === undefined ? rawWriteStamps(graph, tablesInSql(graph, args)) : writeStamps(graph, model, operation, args, result);
    } catch (error) {
      // A bug here must not fail the write, nor leave stale entries: drop everything instead.
      report(new CacheError("INTERNAL", `cannot tell what this ${model ?? "raw"} ${operation} invalidates: ${messageOf(error)}`, { cause: error }), {
        operation: "invalidate",
        ...(model && { model }),
      });
      stamps = new Set([EPOCH]);
    }
    if (through && (await writeThrough.apply(through, stamps, result))) return result;
    if (stamps.size > 0) await invalidator.afterWrite(stamps, transaction);
    return result;
  }

  // `$queryRaw` may write too (`INSERT ... RETURNING`): invalidate when the statement writes data.
  const rawQuery: Hook = (params) => (writesData(params.args) ? afterWrite(params) : params.query(params.args));
  // Prisma types hook parameters per operation; these hooks take any of them.
  // biome-ignore lint/suspicious/noExplicitAny: Prisma's hook parameter types differ per operation
  const write = afterWrite as (params: any) => Promise<unknown>;
  // biome-ignore lint/suspicious/noExplicitAny: as above
  const raw = rawQuery as (params: any) => Promise<unknown>;
  return {
    $allModels: Object.fromEntries([...WRITE_OPERATIONS].map((operation) => [operation, write])),
    $executeRaw: write,
    $executeRawUnsafe: write,
    $queryRaw: raw,
    $queryRawUnsafe: raw,
  };
}
