import { CacheError, messageOf, type ErrorReporter } from "../errors.ts";
import type { Metrics } from "../metrics.ts";
import type { ResolvedPolicy } from "../options.ts";
import { currentNamespace, entryKey } from "../read/keys.ts";
import type { PolicyTable } from "../read/policy.ts";
import type { Serializer } from "../read/serializer.ts";
import type { ModelGraph } from "../schema/model-graph.ts";
import { EPOCH, stampKey, uniquesStamp } from "../stamps/names.ts";
import { readStamps } from "../stamps/read-stamps.ts";
import { pinnedRow, recordUniqueWheres } from "../stamps/row-stamps.ts";
import type { GuardedStore } from "../stores/guarded-store.ts";
import { isPlainObject } from "../validate.ts";

/**
 * `writes: "write-through"`: after a create, update or upsert that returns the full record, store it under the
 * model's unique lookups (`findUnique({ where: { <unique>: value } })`) instead of only evicting them.
 *
 * Storing a written record is only safe if it is still the newest version when it is stored: two writers of one
 * row may commit in one order and reach the cache in the other. So before the database write the plugin reads the
 * stamps every writer of that row must advance (its row stamp for a unique key the write names, the model's
 * all-uniques stamp, the epoch); after the commit one atomic store operation advances the write's own stamps and
 * stores the record only if none of those moved in between. If one did, another write of the row overlapped this
 * one and the record is merely invalidated, as without write-through.
 */
export class WriteThrough {
  constructor(
    private readonly store: GuardedStore,
    private readonly serializer: Serializer,
    private readonly graph: ModelGraph,
    private readonly policies: PolicyTable,
    private readonly prefix: string,
    private readonly metrics: Metrics,
    private readonly report: ErrorReporter,
    /** The `namespace` option's hook: records are stored in the writer's namespace. */
    private readonly namespace?: () => unknown,
  ) {}

  /** Before the write: reads the stamps every writer of the row advances, if this write can write through. */
  async prepare(model: string, operation: string, args: unknown, inTransaction: boolean): Promise<PreparedWriteThrough | undefined> {
    const policy = this.policies.ofModel(model);
    const info = this.graph.models.get(model);
    if (policy === false || policy.writes !== "write-through" || inTransaction || !info || !this.store.store.writeThrough) return undefined;
    if (!isPlainObject(args) || args.select !== undefined || args.include !== undefined || args.omit !== undefined) return undefined;
    // The row must be named before the write: by its where, or for a create by a unique key in its data.
    const row = pinnedRow(info, operation === "create" ? args.data : operation === "update" || operation === "upsert" ? args.where : undefined);
    if (!row) return undefined;
    let namespace: string | undefined;
    try {
      namespace = currentNamespace(this.namespace);
    } catch {
      return undefined; // reads report the bad hook; this write is merely invalidated
    }
    const stamps = [EPOCH, uniquesStamp(model), row.stamp].map((stamp) => stampKey(this.prefix, stamp));
    const key = entryKey(this.prefix, model, "findUnique", { where: row.where }, namespace);
    const [found] = await this.store.lookup([{ key, stamps, stampLifeMs: policy.ttlMs + policy.swrMs }], model);
    return found && { model, policy, stamps, fence: found.fence, namespace };
  }

  /**
   * After the commit: advances `stamps` and stores `record` under its unique lookups if no other write of the row
   * moved the stamps read before. False when the store could not be reached or the record cannot be stored (the
   * caller then invalidates the usual way, with its retries).
   */
  async apply(prepared: PreparedWriteThrough, stamps: ReadonlySet<string>, record: unknown): Promise<boolean> {
    const info = this.graph.models.get(prepared.model)!;
    const { ttlMs, swrMs, tags } = prepared.policy;
    let value: string;
    try {
      value = this.serializer.encode(record);
    } catch (error) {
      this.report(new CacheError("SERIALIZE_FAILED", `cannot write through this ${prepared.model} record: ${messageOf(error)}`, { cause: error }), {
        operation: "encode",
        model: prepared.model,
      });
      return false;
    }
    if (!isPlainObject(record) || [...info.fieldTypes.keys()].some((field) => !(field in record))) return false;
    const fills = recordUniqueWheres(info, record).map((where) => {
      const args = { where };
      return {
        key: entryKey(this.prefix, prepared.model, "findUnique", args, prepared.namespace),
        stamps: readStamps(this.graph, prepared.model, "findUnique", args, tags).map((stamp) => stampKey(this.prefix, stamp)),
        value,
        ttlMs,
        swrMs,
      };
    });
    const bump = [...stamps].map((stamp) => stampKey(this.prefix, stamp));
    const stored = await this.store.writeThrough({ unchangedSince: { stamps: prepared.stamps, fence: prepared.fence }, bump, fills }, prepared.model);
    if (stored === undefined) return false;
    this.metrics.count("invalidations");
    if (stored) this.metrics.count("fills", fills.length);
    return true;
  }
}

/** A write-through write's stamps and their values, read before its database write. */
export interface PreparedWriteThrough {
  model: string;
  policy: ResolvedPolicy;
  stamps: string[];
  fence: string;
  /** The writer's namespace, which the record is stored in. */
  namespace: string | undefined;
}
