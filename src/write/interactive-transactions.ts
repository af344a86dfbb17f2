import { transactionOf } from "../transaction-scope.ts";
import type { Invalidator } from "./invalidator.ts";

type TransactionMethod = (this: object, input: unknown, options?: unknown) => Promise<unknown>;

/**
 * `$transaction` that applies an interactive transaction's invalidations when it ends, before it returns (after a
 * rollback too, which is harmless). Batch transactions need nothing: their writes' hooks resolve after the commit.
 */
export function transactionWithInvalidation(original: TransactionMethod, invalidator: Invalidator): TransactionMethod {
  return function $transaction(this: object, input: unknown, options?: unknown): Promise<unknown> {
    // Nested in another interactive transaction: the outermost one owns the commit.
    if (typeof input !== "function" || transactionOf(this) !== undefined) return original.call(this, input, options);
    let id: string | number | undefined;
    const body = (tx: object) => {
      id = transactionOf(tx)?.id;
      if (id !== undefined) invalidator.beginTransaction(id);
      return (input as (tx: unknown) => unknown)(tx);
    };
    return original.call(this, body, options).then(
      async (result) => {
        await invalidator.endTransaction(id);
        return result;
      },
      async (error) => {
        await invalidator.endTransaction(id);
        throw error;
      },
    );
  };
}
