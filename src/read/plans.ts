import type { ResolvedPolicy } from "../options.ts";
import type { ModelGraph } from "../schema/model-graph.ts";
import { canonical, digest } from "../stamps/canonical.ts";
import { stampKey } from "../stamps/names.ts";
import { type ReadDependencies, readDependencies } from "../stamps/read-stamps.ts";
import { storesSpelling } from "../stamps/row-stamps.ts";
import type { LookupRequest } from "../stores/store.ts";
import { entryKey, entryKeyOf, looseKey, namespaceSegment } from "./keys.ts";

/** A read's stamps, resolved to store keys, and its loose entry when it has one (kept across policies' ttls). */
interface Dependencies {
  stamps: readonly string[];
  spelling?: { loose: { key: string; stamps: readonly string[] }; storesSpelling: (result: unknown) => boolean };
}

/** One cacheable read, keyed and with its stamps resolved; also its own lookup request (without lease). */
export interface ReadPlan extends LookupRequest {
  model: string;
  operation: string;
  policy: ResolvedPolicy;
  /**
   * A lookup by a spelling-sensitive unique (read-stamps.ts) has a second, loose entry, looked up with this one;
   * a miss fills this plan's entry only when the row found stores the lookup's own spelling, the loose one otherwise.
   */
  spelling?: { loose: ReadPlan; storesSpelling: (result: unknown) => boolean };
}

/**
 * Plans of reads, kept by model, operation and the args' canonical text: building a key and resolving the stamps a
 * read depends on costs more than looking them up, and hot reads repeat the same args.
 */
/** Longest canonical args text the plan memo keeps as its key; longer ones are keyed by a 27-character digest. */
const MAX_MEMO_TEXT = 256;

export class PlanCache {
  private readonly plans = new Map<string, Map<string, Map<string, ReadPlan>>>();
  /**
   * The same plans for the commonest read, a lookup by one scalar (`{ where: { id: 5 } }`), by model, operation,
   * field and value: a hit then builds and hashes no canonical text. Filled only with what `plans` returned for
   * such args, so both always agree.
   */
  private readonly byScalar = new Map<string, Map<string, Map<string, Map<unknown, ReadPlan>>>>();
  private byScalarEntries = 0;
  private readonly stampMemo = new Map<string, Dependencies>();

  constructor(
    private readonly graph: ModelGraph,
    private readonly prefix: string,
    private readonly maxEntries: number,
  ) {}

  /** Characters the memo holds in its keys (for the test of its bound). */
  get keyChars(): number {
    let chars = 0;
    for (const byOperation of this.plans.values()) for (const byText of byOperation.values()) for (const text of byText.keys()) chars += text.length;
    return chars;
  }

  /** Keys a model read (in `namespace`, see keys.ts) and resolves what it depends on. */
  plan(model: string, operation: string, args: unknown, policy: ResolvedPolicy, namespace?: string): ReadPlan {
    // The scalar memo serves the shared namespace only: its key is the value alone.
    const field = namespace === undefined ? scalarField(args) : undefined;
    if (field === undefined) return this.planByText(model, operation, args, policy, namespace);
    const value = (args as { where: Record<string, unknown> }).where[field];
    let byValue = this.byScalar.get(model)?.get(operation)?.get(field);
    const known = byValue?.get(value);
    if (known !== undefined && known.policy === policy) return known;
    const plan = this.planByText(model, operation, args, policy);
    if (this.byScalarEntries >= this.maxEntries) {
      this.byScalar.clear();
      this.byScalarEntries = 0;
      byValue = undefined;
    }
    if (byValue === undefined) {
      byValue = new Map();
      const byOperation = this.byScalar.get(model) ?? new Map<string, Map<string, Map<unknown, ReadPlan>>>();
      const byField = byOperation.get(operation) ?? new Map<string, Map<unknown, ReadPlan>>();
      byField.set(field, byValue);
      byOperation.set(operation, byField);
      this.byScalar.set(model, byOperation);
    }
    if (!byValue.has(value)) this.byScalarEntries++;
    byValue.set(value, plan);
    return plan;
  }

  private planByText(model: string, operation: string, args: unknown, policy: ResolvedPolicy, namespace?: string): ReadPlan {
    // Plans are immutable: the same args under the same policy object (a model's own, or a strategy's) reuse one.
    const text = canonical(args);
    // Long args (user input in a filter) are remembered by their digest: the memo never holds their text.
    const memo = (namespace === undefined ? "" : namespaceSegment(namespace)) + (text.length <= MAX_MEMO_TEXT ? text : digest(text));
    let byText = this.plans.get(model)?.get(operation);
    if (byText === undefined) {
      byText = new Map();
      const byOperation = this.plans.get(model) ?? new Map<string, Map<string, ReadPlan>>();
      byOperation.set(operation, byText);
      this.plans.set(model, byOperation);
    }
    const cached = byText.get(memo);
    if (cached !== undefined && cached.policy === policy) return cached;
    const key = entryKeyOf(this.prefix, model, operation, text, namespace);
    // JSON: tags may hold any separator a plain join would use.
    const memoKey = policy.tags.length === 0 ? key : `${key}\n${JSON.stringify(policy.tags)}`;
    let deps: Dependencies | undefined = cached !== undefined && cached.policy.tags === policy.tags ? cached : this.stampMemo.get(memoKey);
    if (deps === undefined) {
      deps = this.dependencies(model, key, readDependencies(this.graph, model, operation, args, policy.tags));
      if (this.stampMemo.size >= this.maxEntries) this.stampMemo.clear();
      this.stampMemo.set(memoKey, deps);
    }
    const stampLifeMs = policy.ttlMs + policy.swrMs;
    const { stamps, spelling } = deps;
    const plan: ReadPlan =
      spelling === undefined
        ? { model, operation, key, stamps, stampLifeMs, policy }
        : {
            model,
            operation,
            key,
            stamps,
            stampLifeMs,
            policy,
            spelling: { loose: { model, operation, key: spelling.loose.key, stamps: spelling.loose.stamps, stampLifeMs, policy }, storesSpelling: spelling.storesSpelling },
          };
    if (byText.size >= this.maxEntries) byText.clear();
    byText.set(memo, plan);
    return plan;
  }

  /** The keys one read's entries may be stored under (its exact and its loose entry), for dropping them. */
  entryKeys(model: string, operation: string, args: unknown, namespace?: string): string[] {
    const key = entryKey(this.prefix, model, operation, args, namespace);
    return [key, looseKey(key)];
  }

  /** Plans the scalar memo holds (for the test of its bound). */
  get scalarEntries(): number {
    return this.byScalarEntries;
  }

  /** Keys a read whose stamps the caller computed (raw queries); not kept. */
  customPlan(model: string, operation: string, args: unknown, stamps: readonly string[], policy: ResolvedPolicy, namespace?: string): ReadPlan {
    const key = entryKey(this.prefix, model, operation, args, namespace);
    return { model, operation, key, stamps: this.stampKeys(stamps), stampLifeMs: policy.ttlMs + policy.swrMs, policy };
  }

  private dependencies(model: string, key: string, deps: ReadDependencies): Dependencies {
    const stamps = this.stampKeys(deps.stamps);
    if (deps.spelling === undefined) return { stamps };
    const info = this.graph.models.get(model)!;
    const { pinned, looseStamps } = deps.spelling;
    const loose = { key: looseKey(key), stamps: this.stampKeys(looseStamps) };
    return { stamps, spelling: { loose, storesSpelling: (result) => storesSpelling(info, pinned, result) } };
  }

  private stampKeys(stamps: readonly string[]): string[] {
    return stamps.map((stamp) => stampKey(this.prefix, stamp));
  }
}

/**
 * The field of `{ where: { <field>: <number or string> } }` and nothing else (plain objects, no other members): the
 * args whose plan the scalar memo may hold. Anything else, however close, takes the canonical text.
 */
function scalarField(args: unknown): string | undefined {
  if (typeof args !== "object" || args === null || Object.getPrototypeOf(args) !== Object.prototype) return undefined;
  let where: unknown;
  let members = 0;
  for (const key in args) {
    if (key !== "where" || ++members > 1) return undefined;
    where = (args as { where: unknown }).where;
  }
  if (typeof where !== "object" || where === null || Object.getPrototypeOf(where) !== Object.prototype) return undefined;
  let field: string | undefined;
  let value: unknown;
  for (const key in where) {
    if (field !== undefined) return undefined;
    field = key;
    value = (where as Record<string, unknown>)[key];
  }
  if (field === undefined || (typeof value !== "number" && typeof value !== "string")) return undefined;
  return field;
}
