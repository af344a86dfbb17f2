import { Prisma } from "@prisma/client/extension";
import { batchedOperation } from "./batching.ts";
import { storeLease } from "./change-feed/store-lease.ts";
import { createCacheApi } from "./cache-api.ts";
import { EPOCH } from "./dependencies.ts";
import { createErrorReporter } from "./error-reporter.ts";
import { CacheConfigError } from "./errors.ts";
import { rawWriteEffects, writeEffects, WRITE_OPERATIONS } from "./invalidation.ts";
import { Invalidator, type TransactionInfo } from "./invalidator.ts";
import { EXECUTE, LazyQuery, PRISMA_QUERY, withRelations, type PrismaQueryLike } from "./lazy-query.ts";
import { Metrics } from "./metrics.ts";
import { graphFromRuntime, graphFromSchema, type ModelGraph, type RuntimeDataModel } from "./model-graph.ts";
import { resolveOptions, type CachePluginOptions, type CacheStrategy } from "./options.ts";
import { PolicyTable, type ReadOperation } from "./policy.ts";
import { tablesInSql, writesData } from "./raw-sql.ts";
import { LOAD, ReadThrough, type Loader, type ReadPlan } from "./read-through.ts";
import type { CacheSchema } from "./schema.ts";
import { StoreGuard } from "./store-guard.ts";
import { WriteThrough } from "./write-through.ts";
import { memoryStore } from "./stores/memory-store.ts";

/** Extra argument every cached read accepts. */
export interface CacheReadArgs {
  /** Per-call cache policy, or `false` to bypass the cache (no lookup, no fill). */
  cacheStrategy?: CacheStrategy | false;
}

/** Prisma marks the clients it hands to interactive transactions with this (Prisma 7 runtime). */
const TRANSACTION_SCOPE = Symbol.for("prisma.client.transaction.scope_context");

/** The internals of a Prisma 7 client the plugin reads; all present since Prisma 5. */
interface ClientInternals {
  _runtimeDataModel: RuntimeDataModel;
  $transaction: (...args: unknown[]) => Promise<unknown>;
  $disconnect: () => Promise<void>;
  [TRANSACTION_SCOPE]?: { txId?: string };
}

/** Model delegates of a client, by model name, with their operations. */
type Delegates = Record<string, Record<string, (args: unknown) => PrismaQueryLike>>;

type QueryParams = {
  model?: string;
  operation: string;
  args: unknown;
  query: (args: unknown) => Promise<unknown>;
  __internalParams?: { transaction?: TransactionInfo };
};

let warnedCoarse = false;

/**
 * The cache extension: `new PrismaClient({ adapter }).$extends(cachePlugin({ ... }))`.
 *
 * Reads are overridden as model methods, so a hit costs no trip through Prisma's query pipeline; a miss runs the
 * query through the client below the extension. Writes are seen by query hooks, which also see nested writes,
 * batch transactions and interactive transactions. Put it last in a chain of `$extends` calls: extensions added
 * after it do not see cached reads, and result extensions added after it are not applied to them.
 */
export function cachePlugin(options: CachePluginOptions = {}) {
  const resolved = resolveOptions(options);

  return Prisma.defineExtension((client) => {
    const below = client as unknown as ClientInternals;
    const runtimeModel = below._runtimeDataModel;
    const modelNames = Object.keys(runtimeModel.models);
    const graph = buildGraph(resolved.schema, runtimeModel);
    const policies = new PolicyTable(resolved, modelNames);
    const metrics = new Metrics();
    const report = createErrorReporter(metrics, resolved.onError);
    const guard = new StoreGuard(resolved.store ?? memoryStore(), resolved.timeoutMs, report);
    const invalidator = new Invalidator(guard, resolved.prefix, metrics);
    const reads = new ReadThrough(guard, graph, metrics, report, {
      prefix: resolved.prefix,
      maxEntryBytes: resolved.maxEntryBytes,
      leaseMs: resolved.leaseMs,
      leaseWaitMs: resolved.leaseWaitMs,
      earlyRefresh: resolved.earlyRefresh,
      degraded: () => invalidator.degraded,
    });
    // Writes that bypass this client, from the database's own change stream (change-feed/).
    const feed = resolved.changeFeed?.start({
      graph,
      schema: resolved.schema,
      advance: (stamps) => invalidator.apply(stamps),
      lease: storeLease(guard.store, resolved.prefix),
      report,
    });
    const writeThrough = new WriteThrough(guard, graph, policies, resolved.prefix, metrics, report);
    /** One call of a cached read method: runs through the cache when awaited, or joins a batch transaction. */
    class ReadCall extends LazyQuery implements Loader {
      readonly #parent: Delegates;
      readonly #model: string;
      readonly #operation: ReadOperation;
      readonly #args: Record<string, unknown>;
      readonly #plan: ReadPlan | undefined;
      readonly #failure: unknown;

      constructor(parent: Delegates, model: string, operation: ReadOperation, args: Record<string, unknown>, plan: ReadPlan | undefined, failure?: unknown) {
        super();
        this.#parent = parent;
        this.#model = model;
        this.#operation = operation;
        this.#args = args;
        this.#plan = plan;
        this.#failure = failure;
      }

      protected [EXECUTE](): Promise<unknown> {
        if (this.#failure !== undefined) return Promise.reject(this.#failure);
        if (this.#plan === undefined) return Promise.resolve(this.#forward(this.#operation));
        return reads.read(this.#plan, this);
      }

      protected [PRISMA_QUERY](): PrismaQueryLike {
        return this.#forward(this.#operation);
      }

      /** The miss: Prisma's query, or the findUnique that means the same and that Prisma batches. */
      [LOAD](): Promise<unknown> {
        const operation = this.#plan!.policy.batch ? batchedOperation(graph.models.get(this.#model), this.#operation, this.#args) : this.#operation;
        return Promise.resolve(this.#forward(operation));
      }

      /** Runs `operation` on the client below, marking the args so that our own layers above let them through. */
      #forward(operation: string): PrismaQueryLike {
        // A copy: marking the caller's own object would make its next read with it skip the cache.
        const args = { ...this.#args };
        forwarded.add(args);
        return this.#parent[this.#model]![operation]!(args);
      }
    }
    const callClasses = new Map<string, typeof ReadCall>();
    for (const [name, info] of graph.models) callClasses.set(name, withRelations(ReadCall, [...info.relations.keys()]));
    // Args objects this extension has passed down: when another extension layered above re-enters our read
    // method on the way down, it must go straight to the database.
    const forwarded = new WeakSet<object>();

    // What a model delegate says about itself, learned once per delegate: Prisma keeps one delegate object per
    // model and client (interactive transactions get their own), and its proxies make each lookup cost.
    const delegates = new WeakMap<object, { model: string; parent: Delegates & ClientInternals; inTransaction: boolean }>();
    function describeDelegate(delegate: object) {
      let described = delegates.get(delegate);
      if (described === undefined) {
        const context = Prisma.getExtensionContext(delegate) as unknown as { $name: string; $parent: Delegates & ClientInternals };
        const parent = context.$parent;
        // Inside an interactive transaction the parent is bound to it, and its data may be uncommitted.
        described = { model: context.$name, parent, inTransaction: parent[TRANSACTION_SCOPE] !== undefined };
        delegates.set(delegate, described);
      }
      return described;
    }

    function read(delegate: object, operation: ReadOperation, rawArgs: unknown): PromiseLike<unknown> {
      const { model, parent, inTransaction } = describeDelegate(delegate);
      if (rawArgs !== null && typeof rawArgs === "object" && forwarded.has(rawArgs)) return parent[model]![operation]!(rawArgs);

      let args = (rawArgs ?? {}) as Record<string, unknown>;
      let strategy: unknown;
      if ("cacheStrategy" in args) {
        ({ cacheStrategy: strategy, ...args } = args);
      }
      const Call = callClasses.get(model) ?? ReadCall;
      let policy;
      try {
        policy = policies.forCall(model, strategy);
      } catch (error) {
        return new Call(parent, model, operation, args, undefined, error);
      }
      if (policy === null || inTransaction) {
        metrics.count("bypasses");
        return new Call(parent, model, operation, args, undefined);
      }
      return new Call(parent, model, operation, args, reads.plan(model, operation, args, policy));
    }

    async function afterWrite({ model, operation, args, query, __internalParams }: QueryParams): Promise<unknown> {
      const transaction = __internalParams?.transaction;
      const through = model === undefined ? undefined : await writeThrough.prepare(model, operation, args, transaction !== undefined);
      const result = await query(args);
      let stamps: Set<string>;
      try {
        stamps = model === undefined ? rawEffects(graph, args) : writeEffects(graph, model, operation, args, result);
      } catch (error) {
        report(error, { operation: "invalidate", ...(model && { model }) });
        stamps = new Set([EPOCH]);
      }
      if (through && (await writeThrough.apply(through, stamps, result))) return result;
      if (stamps.size > 0) await invalidator.afterWrite(stamps, transaction);
      return result;
    }

    // Prisma types hook parameters without `__internalParams`, which carries the transaction.
    const writeHook = afterWrite as (params: any) => Promise<unknown>;
    const writeHooks = Object.fromEntries([...WRITE_OPERATIONS].map((operation) => [operation, writeHook]));
    const $cache = createCacheApi({
      invalidator,
      metrics,
      modelNames,
      graph,
      policies,
      reads,
      queryRaw: (query) => (client as unknown as { $queryRaw(query: unknown): Promise<unknown> }).$queryRaw(query),
    });
    const clientMethods = { $cache };
    // Added outside the typed object so the client keeps Prisma's own $transaction type.
    Object.assign(clientMethods, { $transaction: transactionWithInvalidation(below.$transaction, invalidator) });
    if (feed) {
      const stats = $cache.stats;
      $cache.stats = () => ({ ...stats(), changeFeed: feed.stats() });
      const disconnect = below.$disconnect;
      Object.assign(clientMethods, {
        async $disconnect(this: ClientInternals) {
          await feed.close();
          return disconnect.call(this);
        },
      });
    }

    return client.$extends({
      name: "prisma-cache-plugin",
      model: {
        $allModels: {
          findUnique<T, A>(this: T, args: Prisma.Exact<A, Prisma.Args<T, "findUnique"> & CacheReadArgs>): Prisma.PrismaPromise<Prisma.Result<T, A, "findUnique">> {
            return read(this as object, "findUnique", args) as Prisma.PrismaPromise<Prisma.Result<T, A, "findUnique">>;
          },
          findUniqueOrThrow<T, A>(this: T, args: Prisma.Exact<A, Prisma.Args<T, "findUniqueOrThrow"> & CacheReadArgs>): Prisma.PrismaPromise<Prisma.Result<T, A, "findUniqueOrThrow">> {
            return read(this as object, "findUniqueOrThrow", args) as Prisma.PrismaPromise<Prisma.Result<T, A, "findUniqueOrThrow">>;
          },
          findFirst<T, A>(this: T, args?: Prisma.Exact<A, Prisma.Args<T, "findFirst"> & CacheReadArgs>): Prisma.PrismaPromise<Prisma.Result<T, A, "findFirst">> {
            return read(this as object, "findFirst", args) as Prisma.PrismaPromise<Prisma.Result<T, A, "findFirst">>;
          },
          findFirstOrThrow<T, A>(this: T, args?: Prisma.Exact<A, Prisma.Args<T, "findFirstOrThrow"> & CacheReadArgs>): Prisma.PrismaPromise<Prisma.Result<T, A, "findFirstOrThrow">> {
            return read(this as object, "findFirstOrThrow", args) as Prisma.PrismaPromise<Prisma.Result<T, A, "findFirstOrThrow">>;
          },
          findMany<T, A>(this: T, args?: Prisma.Exact<A, Prisma.Args<T, "findMany"> & CacheReadArgs>): Prisma.PrismaPromise<Prisma.Result<T, A, "findMany">> {
            return read(this as object, "findMany", args) as Prisma.PrismaPromise<Prisma.Result<T, A, "findMany">>;
          },
          count<T, A>(this: T, args?: Prisma.Exact<A, Prisma.Args<T, "count"> & CacheReadArgs>): Prisma.PrismaPromise<Prisma.Result<T, A, "count">> {
            return read(this as object, "count", args) as Prisma.PrismaPromise<Prisma.Result<T, A, "count">>;
          },
          aggregate<T, A>(this: T, args: Prisma.Exact<A, Prisma.Args<T, "aggregate"> & CacheReadArgs>): Prisma.PrismaPromise<Prisma.Result<T, A, "aggregate">> {
            return read(this as object, "aggregate", args) as Prisma.PrismaPromise<Prisma.Result<T, A, "aggregate">>;
          },
          groupBy<T, A>(this: T, args: Prisma.Exact<A, Prisma.Args<T, "groupBy"> & CacheReadArgs>): Prisma.PrismaPromise<Prisma.Result<T, A, "groupBy">> {
            return read(this as object, "groupBy", args) as Prisma.PrismaPromise<Prisma.Result<T, A, "groupBy">>;
          },
        },
      },
      query: {
        $allModels: writeHooks,
        $executeRaw: writeHook,
        $executeRawUnsafe: writeHook,
        $queryRaw: rawQueryHook(writeHook),
        $queryRawUnsafe: rawQueryHook(writeHook),
      },
      client: clientMethods,
    });
  });
}

/** The schema graph, checked against the client so that stale generator output fails loudly. */
function buildGraph(schema: CacheSchema | undefined, runtime: RuntimeDataModel): ModelGraph {
  if (schema === undefined) {
    if (!warnedCoarse) {
      warnedCoarse = true;
      console.warn(
        "[prisma-cache-plugin] no `schema` passed: invalidation is coarse (writes evict every related model). " +
          'Add `generator cache { provider = "prisma-cache-plugin" }` to schema.prisma and pass `schema: cacheSchema`.',
      );
    }
    return graphFromRuntime(runtime);
  }
  for (const [name, model] of Object.entries(runtime.models)) {
    const described = schema.models[name];
    const relations = model.fields.filter((field) => field.kind === "object").map((field) => field.name);
    const missing = described ? relations.filter((field) => !described.relations.some((relation) => relation.field === field)) : [];
    if (!described || missing.length > 0) {
      throw new CacheConfigError(
        "schema",
        `does not match this Prisma client (${described ? `relations ${missing.join(", ")} of ${name}` : `model ${name}`} missing): regenerate it with \`prisma generate\``,
      );
    }
  }
  return graphFromSchema(schema);
}

/** `$queryRaw` may write too (`INSERT ... RETURNING`): invalidate when the statement writes data. */
function rawQueryHook(afterWrite: (params: QueryParams) => Promise<unknown>) {
  return (params: any): Promise<unknown> => (writesData(params.args) ? afterWrite(params) : params.query(params.args));
}

function rawEffects(graph: ModelGraph, args: unknown): Set<string> {
  return rawWriteEffects(graph, tablesInSql(graph, args));
}

/**
 * `$transaction` that applies an interactive transaction's invalidations when it ends, before it returns.
 * Batch transactions need nothing: their writes' hooks resolve after the commit.
 */
function transactionWithInvalidation(original: (...args: unknown[]) => Promise<unknown>, invalidator: Invalidator) {
  return function $transaction(this: ClientInternals, input: unknown, options?: unknown): Promise<unknown> {
    // Nested in another interactive transaction: the outermost one owns the commit.
    if (typeof input !== "function" || this[TRANSACTION_SCOPE] !== undefined) return original.call(this, input, options);
    let id: string | undefined;
    const body = (tx: ClientInternals) => {
      id = tx[TRANSACTION_SCOPE]?.txId;
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
