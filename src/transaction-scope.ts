/**
 * The one place that reads Prisma's transaction internals: which transaction, if any, a call belongs to. Reads use
 * it to bypass the cache inside interactive transactions (their data may be uncommitted), writes to hold back their
 * invalidations until the transaction ends, and `$transaction` to learn the id it collects them under.
 */

/** Prisma marks the clients it hands to interactive transactions with this (Prisma 7 runtime). */
const TRANSACTION_SCOPE = Symbol.for("prisma.client.transaction.scope_context");

/**
 * A transaction a call runs in. `itx`: an interactive `$transaction(async (tx) => ...)`, identified by `id` where
 * Prisma says it; `batch`: a `$transaction([...])`, whose queries resolve only after it committed.
 */
export interface Transaction {
  kind: "itx" | "batch";
  id: string | number | undefined;
}

/** A client as Prisma hands it to an interactive transaction's callback. */
interface ScopedClient {
  [TRANSACTION_SCOPE]?: { txId?: string };
}

/** A query extension hook's parameters, which Prisma types without `__internalParams`. */
interface HookParams {
  __internalParams?: { transaction?: { kind: "itx" | "batch"; id: string | number } };
}

/**
 * The transaction of a call, given the client it runs on (a model delegate's parent, `this` of `$transaction`) or a
 * query hook's parameters; undefined outside transactions.
 */
export function transactionOf(source: object): Transaction | undefined {
  const scope = (source as ScopedClient)[TRANSACTION_SCOPE];
  if (scope !== undefined) return { kind: "itx", id: scope.txId };
  const transaction = (source as HookParams).__internalParams?.transaction;
  return transaction === undefined ? undefined : { kind: transaction.kind, id: transaction.id };
}

/** What Prisma keeps of the client's constructor options (Prisma 7 runtime). */
interface ConfiguredClient {
  _engineConfig?: { transactionOptions?: { timeout?: unknown } };
}

/** The client's default interactive-transaction `timeout` in milliseconds, where readable. */
export function transactionTimeoutOf(client: object): number | undefined {
  const timeout = (client as ConfiguredClient)._engineConfig?.transactionOptions?.timeout;
  return typeof timeout === "number" && Number.isFinite(timeout) && timeout > 0 ? timeout : undefined;
}
