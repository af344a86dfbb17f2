/** The parts of Prisma's own query promise the plugin forwards to. */
export interface PrismaQueryLike extends PromiseLike<unknown> {
  requestTransaction?(batch: unknown): PromiseLike<unknown>;
  [relation: string]: unknown;
}

// The methods subclasses implement and the plugin calls are keyed by symbols, and state is in private fields, so
// that no relation name (`findUnique(...).execute()`, say) can shadow them.
const prismaQueryOf = Symbol("prismaQuery");
/** Runs the read (through the cache, or not). Called once, at the first `then`. */
export const EXECUTE = Symbol("execute");
/** Builds Prisma's own query for the same call. Called at most once. */
export const PRISMA_QUERY = Symbol("createPrismaQuery");
/** Whether the read has started (it runs once, at the first `then`). */
export const STARTED = Symbol("started");

/**
 * What a cached read method returns: like Prisma's own query promises it runs only when awaited, and it can
 * stand in `$transaction([...])`, which checks the `PrismaPromise` tag and calls `requestTransaction`: there the
 * query goes to the database inside the batch, never through the cache. Subclasses say how to run the read and
 * how to build Prisma's own query for it; one object per call, no closures.
 */
export abstract class LazyQuery<T = unknown> implements PromiseLike<T> {
  #running: Promise<T> | undefined;
  #query: PrismaQueryLike | undefined;

  protected abstract [EXECUTE](): Promise<T>;
  protected abstract [PRISMA_QUERY](): PrismaQueryLike;

  then<A = T, B = never>(onFulfilled?: ((value: T) => A | PromiseLike<A>) | null, onRejected?: ((reason: unknown) => B | PromiseLike<B>) | null): Promise<A | B> {
    return (this.#running ??= this[EXECUTE]()).then(onFulfilled, onRejected);
  }

  catch<B = never>(onRejected?: ((reason: unknown) => B | PromiseLike<B>) | null): Promise<T | B> {
    return this.then(undefined, onRejected);
  }

  finally(onFinally?: (() => void) | null): Promise<T> {
    return (this.#running ??= this[EXECUTE]()).finally(onFinally);
  }

  /** Called by `$transaction([...])`: the read joins the batch as Prisma's own query. */
  requestTransaction(batch: unknown): PromiseLike<unknown> {
    const query = this[prismaQueryOf]();
    return query.requestTransaction ? query.requestTransaction(batch) : query;
  }

  get [STARTED](): boolean {
    return this.#running !== undefined;
  }

  get [Symbol.toStringTag](): string {
    return "PrismaPromise";
  }

  /** Prisma's query for the same call (for batches and the fluent relation API, which bypass the cache). */
  [prismaQueryOf](): PrismaQueryLike {
    return (this.#query ??= this[PRISMA_QUERY]());
  }
}

/**
 * A subclass of `base` that also offers a model's fluent relation methods (`findUnique(...).posts()`), forwarding
 * them to Prisma's query; one class per model, so calls pay nothing for it.
 */
// biome-ignore lint/suspicious/noExplicitAny: the mixin pattern requires any[] constructor arguments
export function withRelations<C extends abstract new (...args: any[]) => LazyQuery>(base: C, relations: readonly string[]): C {
  abstract class WithRelations extends base {}
  for (const relation of relations) {
    Object.defineProperty(WithRelations.prototype, relation, {
      value(this: LazyQuery, ...args: unknown[]) {
        return (this[prismaQueryOf]()[relation] as (...a: unknown[]) => unknown)(...args);
      },
    });
  }
  return WithRelations;
}
