import { Prisma } from "@prisma/client/extension";
import type { Metrics } from "../metrics.ts";
import type { ResolvedPolicy } from "../options.ts";
import type { ModelGraph } from "../schema/model-graph.ts";
import { transactionOf } from "../transaction-scope.ts";
import { missOperation } from "./find-first-as-unique.ts";
import { EXECUTE, LazyQuery, PRISMA_QUERY, type PrismaQueryLike, withRelations } from "./lazy-query.ts";
import type { PlanCache, ReadPlan } from "./plans.ts";
import type { PolicyTable, ReadOperation } from "./policy.ts";
import { ARGS, LOAD, type Loader, MERGED, type ReadThrough } from "./read-through.ts";
import { type TrackedLoad, UniqueLoads } from "./unique-loads.ts";

/** Model delegates of a client, by model name, with their operations. */
type Delegates = Record<string, Record<string, (args: unknown) => PrismaQueryLike>>;

/**
 * The cached read methods' body: `read(delegate, operation, args)` returns one `ReadCall`, which runs through the
 * cache when awaited, joins a batch `$transaction([...])` as Prisma's own query, and goes straight to the database
 * inside interactive transactions, for uncached models and for `cacheStrategy: false`.
 */
export function cachedReads(parts: { graph: ModelGraph; policies: PolicyTable; plans: PlanCache; reads: ReadThrough; metrics: Metrics }) {
  const { graph, policies, plans, reads, metrics } = parts;

  /** One call of a cached read method. */
  class ReadCall extends LazyQuery implements Loader {
    readonly #parent: Delegates;
    readonly #model: string;
    readonly #operation: ReadOperation;
    readonly #args: Record<string, unknown>;
    readonly #plan: ReadPlan | undefined;
    readonly #failure: unknown;
    #load: TrackedLoad<unknown> | undefined;

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
      if (this.#plan === undefined) return uniqueLoads.run(this.#model, this.#operation, () => this.#forward(this.#operation)).result;
      return reads.read(this.#plan, this);
    }

    protected [PRISMA_QUERY](): PrismaQueryLike {
      return this.#forward(this.#operation);
    }

    get [ARGS](): unknown {
      return this.#args;
    }

    get [MERGED](): boolean {
      return this.#load !== undefined && !this.#load.alone();
    }

    /** The miss: Prisma's query, or the findUnique that means the same and that Prisma batches. */
    [LOAD](): Promise<unknown> {
      const operation = this.#plan!.policy.batch ? missOperation(graph.models.get(this.#model), this.#operation, this.#args) : this.#operation;
      this.#load = uniqueLoads.run(this.#model, operation, () => this.#forward(operation));
      return this.#load.result;
    }

    /** Runs `operation` on the client below, marking the args so that our own layers above let them through. */
    #forward(operation: string): PrismaQueryLike {
      // A copy: marking the caller's own object would make its next read with it skip the cache.
      const args = { ...this.#args };
      forwarded.add(args);
      return this.#parent[this.#model]![operation]!(args);
    }
  }
  // Every findUnique this client sends, cached or not, so a miss knows whether Prisma may have merged it.
  const uniqueLoads = new UniqueLoads();
  const callClasses = new Map<string, typeof ReadCall>();
  for (const [name, info] of graph.models) callClasses.set(name, withRelations(ReadCall, [...info.relations.keys()]));
  // Args objects this extension has passed down: when another extension layered above re-enters our read
  // method on the way down, it must go straight to the database.
  const forwarded = new WeakSet<object>();

  // What a model delegate says about itself, learned once per delegate: Prisma keeps one delegate object per
  // model and client (interactive transactions get their own), and its proxies make each lookup cost.
  const delegates = new WeakMap<object, { model: string; parent: Delegates; inTransaction: boolean }>();
  function describeDelegate(delegate: object) {
    let described = delegates.get(delegate);
    if (described === undefined) {
      const context = Prisma.getExtensionContext(delegate) as unknown as { $name: string; $parent: Delegates };
      const parent = context.$parent;
      // Inside an interactive transaction the parent is bound to it, and its data may be uncommitted.
      described = { model: context.$name, parent, inTransaction: transactionOf(parent) !== undefined };
      delegates.set(delegate, described);
    }
    return described;
  }

  return function read(delegate: object, operation: ReadOperation, rawArgs: unknown): PromiseLike<unknown> {
    const { model, parent, inTransaction } = describeDelegate(delegate);
    if (rawArgs !== null && typeof rawArgs === "object" && forwarded.has(rawArgs)) return parent[model]![operation]!(rawArgs);

    let args = (rawArgs ?? {}) as Record<string, unknown>;
    let strategy: unknown;
    if ("cacheStrategy" in args) {
      ({ cacheStrategy: strategy, ...args } = args);
    }
    const Call = callClasses.get(model) ?? ReadCall;
    let policy: ResolvedPolicy | null;
    try {
      policy = policies.forCall(model, strategy);
    } catch (error) {
      return new Call(parent, model, operation, args, undefined, error);
    }
    if (policy === null || inTransaction) {
      metrics.count("bypasses");
      return new Call(parent, model, operation, args, undefined);
    }
    let plan: ReadPlan;
    try {
      plan = plans.plan(model, operation, args, policy);
    } catch {
      // Args the key encoder cannot tell apart from others (or nested too deep to walk): Prisma alone answers,
      // and rejects them if they are invalid.
      metrics.count("bypasses");
      return new Call(parent, model, operation, args, undefined);
    }
    return new Call(parent, model, operation, args, plan);
  };
}
