/** The parts of Prisma's own query promise the plugin forwards to. */
export interface PrismaQueryLike extends PromiseLike<unknown> {
  requestTransaction?(batch: unknown): PromiseLike<unknown>;
  [relation: string]: unknown;
}

/** Prisma's query for the same call, kept under a symbol so that no relation name can shadow it. */
const prismaQueryOf = Symbol("prismaQuery");

/**
 * What a cached read method returns: like Prisma's own query promises it runs only when awaited, and it can
 * stand in `$transaction([...])`, which checks the `PrismaPromise` tag and calls `requestTransaction`: there the
 * query goes to the database inside the batch, never through the cache.
 */
export class LazyQuery<T = unknown> implements PromiseLike<T> {
  #running: Promise<T> | undefined;
  #query: PrismaQueryLike | undefined;
  readonly #execute: () => Promise<T>;
  readonly #prismaQuery: () => PrismaQueryLike;

  constructor(execute: () => Promise<T>, prismaQuery: () => PrismaQueryLike) {
    this.#execute = execute;
    this.#prismaQuery = prismaQuery;
  }

  then<A = T, B = never>(onFulfilled?: ((value: T) => A | PromiseLike<A>) | null, onRejected?: ((reason: unknown) => B | PromiseLike<B>) | null): Promise<A | B> {
    return (this.#running ??= this.#execute()).then(onFulfilled, onRejected);
  }

  catch<B = never>(onRejected?: ((reason: unknown) => B | PromiseLike<B>) | null): Promise<T | B> {
    return this.then(undefined, onRejected);
  }

  finally(onFinally?: (() => void) | null): Promise<T> {
    return (this.#running ??= this.#execute()).finally(onFinally);
  }

  /** Called by `$transaction([...])`: the read joins the batch as Prisma's own query. */
  requestTransaction(batch: unknown): PromiseLike<unknown> {
    const query = this[prismaQueryOf]();
    return query.requestTransaction ? query.requestTransaction(batch) : query;
  }

  get [Symbol.toStringTag](): string {
    return "PrismaPromise";
  }

  /** Prisma's query for the same call (for batches and the fluent relation API, which bypass the cache). */
  [prismaQueryOf](): PrismaQueryLike {
    return (this.#query ??= this.#prismaQuery());
  }
}

const fluentClasses = new Map<string, typeof LazyQuery>();

/**
 * A LazyQuery class that also offers a model's fluent relation methods (`findUnique(...).posts()`), forwarding
 * them to Prisma's query; one class per set of relation names, so calls pay nothing for it.
 */
export function lazyQueryClass(relations: readonly string[]): typeof LazyQuery {
  const id = relations.join(",");
  let cls = fluentClasses.get(id);
  if (cls === undefined) {
    cls = class FluentQuery<T> extends LazyQuery<T> {};
    for (const relation of relations) {
      Object.defineProperty(cls.prototype, relation, {
        value(this: LazyQuery, ...args: unknown[]) {
          return (this[prismaQueryOf]()[relation] as (...a: unknown[]) => unknown)(...args);
        },
      });
    }
    fluentClasses.set(id, cls);
  }
  return cls;
}
