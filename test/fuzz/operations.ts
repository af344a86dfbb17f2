/**
 * Random, valid (mostly) Prisma operations generated from the datamodel. A program is plain data, generated up front
 * from a seed without touching the database, so any sub-list of it can be replayed when shrinking a failure.
 *
 * The generator tracks the rows it created (their key values), so that most lookups, connects, updates and deletes
 * name rows that exist; cascades and failed writes make that picture approximate, which only makes some writes fail
 * with a Prisma error, itself a case worth running.
 */
import type { Datamodel, Model, Relation, ScalarField, Unique } from "./datamodel.ts";
import type { Features } from "./features.ts";
import type { Rng } from "./random.ts";
import { jsonValue, nullKind, otherSpelling, scalarValue } from "./values.ts";

export type ReadMethod = "findUnique" | "findUniqueOrThrow" | "findFirst" | "findFirstOrThrow" | "findMany" | "count" | "aggregate" | "groupBy";

export interface Call {
  model: string;
  method: string;
  args: Record<string, unknown>;
}

export type Op =
  | { kind: "read"; call: Call }
  | { kind: "burst"; calls: Call[] }
  | { kind: "write"; call: Call }
  | { kind: "raw"; statement: RawStatement }
  | { kind: "batch"; calls: Call[] }
  | { kind: "interactive"; calls: Call[]; rollback: boolean };

/** A raw write, rendered per provider at run time. */
export interface RawStatement {
  table: string;
  /** Absent: DELETE. */
  set?: { column: string; value: unknown };
  where: { column: string; value: unknown }[];
}

/** A wrapper the runner turns into `new URL(href)`: a Json value Prisma serializes with toJSON. */
export interface UrlValue {
  $url: string;
}

type Row = Record<string, unknown>;
type Data = Record<string, unknown>;

const MAX_DEPTH = 2;
const NUMERIC = new Set(["Int", "BigInt", "Float", "Decimal"]);
const ORDERABLE = new Set(["Int", "BigInt", "Float", "Decimal", "String", "DateTime", "Boolean"]);

export class ProgramGenerator {
  private readonly rows = new Map<string, Row[]>();
  private serial = 1000;
  private readonly recentReads: Call[] = [];
  private readonly invalid = new Set<Call>();

  constructor(
    private readonly dm: Datamodel,
    private readonly rng: Rng,
    private readonly features: Features,
  ) {
    for (const model of dm.models) this.rows.set(model.name, []);
  }

  /** A seeding phase that creates a few rows of every model, then `length` random operations. */
  program(length: number): Op[] {
    const ops: Op[] = [];
    for (let round = 0; round < 3; round++) {
      for (const model of this.dm.models) {
        const op = this.create(model, "create");
        if (op) ops.push(op);
      }
    }
    while (ops.length < length) {
      const op = this.operation();
      if (op) ops.push(op);
    }
    return ops;
  }

  operation(): Op | undefined {
    const f = this.features;
    const r = this.rng.next();
    if (r < 0.55) return this.readOp();
    const model = this.rng.pick(this.dm.models);
    const writes: [boolean, () => Op | undefined][] = [
      // Creates and updates twice as often as the rest: they are what changes answers without emptying tables.
      [f.creates, () => this.create(model, "create")],
      [f.creates, () => this.create(model, "create")],
      [f.updates, () => this.update(model)],
      [f.updates, () => this.update(model)],
      [f.upserts, () => this.upsert(model)],
      [f.deletes, () => this.delete(model)],
      [f.many, () => this.many(model)],
      [f.andReturn, () => this.andReturn(model)],
      [f.raw, () => this.raw(model)],
      [f.batchTransactions, () => this.transaction(false)],
      [f.interactiveTransactions, () => this.transaction(true)],
    ];
    const enabled = writes.filter(([on]) => on);
    if (enabled.length === 0) return this.readOp();
    return this.rng.pick(enabled)[1]();
  }

  // ---------------------------------------------------------------- reads

  private readOp(): Op | undefined {
    if (this.features.bursts && this.rng.chance(0.12)) {
      const calls: Call[] = [];
      const size = this.rng.int(2, 5);
      for (let i = 0; i < size; i++) {
        const call = this.readCall(this.rng.chance(0.7), this.features.invalidArgsInBursts);
        if (call) calls.push(call);
      }
      return calls.length > 0 ? { kind: "burst", calls } : undefined;
    }
    const call = this.readCall(false, true);
    return call ? { kind: "read", call } : undefined;
  }

  /** A read: often a repeat of a recent one (so that hits happen and re-reads see writes), else a new one. */
  private readCall(preferUnique: boolean, invalidOk: boolean): Call | undefined {
    const recent = invalidOk ? this.recentReads : this.recentReads.filter((call) => !this.invalid.has(call));
    if (recent.length > 0 && this.rng.chance(0.6)) {
      const call = this.rng.pick(recent);
      if (this.features.reorderedRepeats && this.rng.chance(0.2)) return { ...call, args: reorderProjection(call.args, this.rng) };
      return call;
    }
    const call = this.newRead(preferUnique, invalidOk);
    if (call) {
      this.recentReads.push(call);
      if (this.recentReads.length > 40) this.recentReads.splice(this.rng.int(0, 39), 1);
    }
    return call;
  }

  private newRead(preferUnique: boolean, invalidOk: boolean): Call | undefined {
    const f = this.features;
    const model = this.rng.pick(this.dm.models);
    if (f.invalidArgs && invalidOk && this.rng.chance(0.03)) {
      const call = this.invalidRead(model);
      this.invalid.add(call);
      return call;
    }
    const methods: [boolean, ReadMethod][] = [
      [f.findUnique, "findUnique"],
      [f.findUnique, "findUniqueOrThrow"],
      [f.findFirst && !preferUnique, "findFirst"],
      [f.findFirst && !preferUnique, "findFirstOrThrow"],
      [f.findMany && !preferUnique, "findMany"],
      [f.count && !preferUnique, "count"],
      [f.aggregate && !preferUnique, "aggregate"],
      [f.groupBy && !preferUnique, "groupBy"],
    ];
    let enabled = methods.filter(([on]) => on).map(([, method]) => method);
    if (preferUnique && f.findFirst && f.uniqueShapedFindFirst && this.rng.chance(0.3)) enabled = ["findFirst", "findFirstOrThrow"];
    if (enabled.length === 0) return undefined;
    const method = this.rng.pick(enabled);
    switch (method) {
      case "findUnique":
      case "findUniqueOrThrow":
        return { model: model.name, method, args: this.findUniqueArgs(model) };
      case "findFirst":
      case "findFirstOrThrow":
        if (preferUnique || (f.uniqueShapedFindFirst && this.rng.chance(0.25))) {
          return { model: model.name, method, args: this.uniqueShapedFindFirstArgs(model) };
        }
        return { model: model.name, method, args: this.findManyArgs(model, 0) };
      case "findMany":
        return { model: model.name, method, args: this.findManyArgs(model, 0) };
      case "count":
        return { model: model.name, method, args: this.countArgs(model) };
      case "aggregate":
        return { model: model.name, method, args: this.aggregateArgs(model) };
      case "groupBy":
        return this.groupByArgs(model);
    }
  }

  private findUniqueArgs(model: Model): Record<string, unknown> {
    const row = this.someRow(model);
    const where = row ? this.uniqueWhere(model, row, true) : this.missingUniqueWhere(model);
    if (this.features.uniqueWithFilters && this.rng.chance(0.2)) {
      const extra = this.scalarCondition(model, row);
      if (extra) Object.assign(where, extra);
    }
    return { where, ...this.projection(model, 0) };
  }

  private uniqueShapedFindFirstArgs(model: Model): Record<string, unknown> {
    const row = this.someRow(model);
    const unique = this.rng.pick(model.uniques);
    const where: Data = {};
    if (row && unique.fields.every((field) => row[field] !== undefined)) {
      if (unique.fields.length > 1 && this.features.compoundKeyInFindFirst && this.rng.chance(0.3)) {
        where[unique.name] = Object.fromEntries(unique.fields.map((field) => [field, row[field]]));
      } else {
        for (const field of unique.fields) where[field] = this.spell(model, field, row[field]);
      }
    } else {
      const missing = this.missingUniqueWhere(model);
      // A compound key as a field is not a findFirst filter (see compoundKeyInFindFirst): spell its fields out.
      for (const [key, value] of Object.entries(missing)) {
        if (unique.fields.length > 1 && key === unique.name && !this.features.compoundKeyInFindFirst) Object.assign(where, value);
        else if (model.uniques.some((u) => u.fields.length > 1 && u.name === key) && !this.features.compoundKeyInFindFirst) Object.assign(where, value);
        else where[key] = value;
      }
    }
    if (this.features.uniqueShapedFindFirstWithFilters && this.rng.chance(0.3)) {
      const extra = this.scalarCondition(model, row);
      if (extra) Object.assign(where, extra);
    }
    const args: Data = { where, ...this.projection(model, 0) };
    if (this.features.cursor && this.rng.chance(0.1)) {
      const other = this.someRow(model);
      if (other) args.cursor = this.uniqueWhere(model, other, false);
    }
    return args;
  }

  findManyArgs(model: Model, depth: number): Record<string, unknown> {
    const f = this.features;
    const args: Data = {};
    if (this.rng.chance(0.7)) args.where = this.where(model, depth);
    if (f.orderBy && this.rng.chance(0.6)) args.orderBy = this.orderBy(model, depth);
    if (f.pagination && this.rng.chance(0.3)) args.take = this.rng.pick([1, 2, 3, 10, -1, -2]);
    if (f.pagination && this.rng.chance(0.2)) args.skip = this.rng.int(0, 3);
    if (f.cursor && depth === 0 && this.rng.chance(0.15)) {
      const row = this.someRow(model);
      if (row) args.cursor = this.uniqueWhere(model, row, false);
    }
    if (f.distinct && this.rng.chance(0.1)) {
      const fields = model.scalars.filter((s) => s.type !== "Json" && !s.isList).map((s) => s.name);
      if (fields.length > 0) args.distinct = this.rng.some(fields, 2, 1);
    }
    if (args.take !== undefined && args.take !== 1 && (args.take as number) < 0 && !args.orderBy) {
      args.orderBy = this.pkOrder(model);
    }
    if (depth === 0) Object.assign(args, this.projection(model, 0));
    return args;
  }

  private countArgs(model: Model): Record<string, unknown> {
    const args: Data = {};
    if (this.rng.chance(0.7)) args.where = this.where(model, 0);
    if (this.features.pagination && this.rng.chance(0.2)) {
      args.take = this.rng.int(1, 3);
      args.orderBy = this.pkOrder(model);
    }
    if (this.features.select && this.rng.chance(0.3)) {
      const select: Data = { _all: true };
      for (const field of this.fieldsOf(model.scalars, 2)) select[field.name] = true;
      args.select = select;
    }
    return args;
  }

  private aggregateArgs(model: Model): Record<string, unknown> {
    const args: Data = {};
    if (this.rng.chance(0.6)) args.where = this.where(model, 0);
    const numeric = model.scalars.filter((s) => NUMERIC.has(s.type) && !s.isList);
    const orderable = model.scalars.filter((s) => ORDERABLE.has(s.type) && !s.isList);
    args._count = this.rng.chance(0.5) ? true : { _all: true, ...Object.fromEntries(this.fieldsOf(model.scalars, 2).map((s) => [s.name, true])) };
    if (numeric.length > 0 && this.rng.chance(0.6)) args._sum = selectOf(this.fieldsOf(numeric, 2, 1));
    if (numeric.length > 0 && this.rng.chance(0.4)) args._avg = selectOf(this.fieldsOf(numeric, 2, 1));
    if (orderable.length > 0 && this.rng.chance(0.5)) args._min = selectOf(this.fieldsOf(orderable, 2, 1));
    if (orderable.length > 0 && this.rng.chance(0.5)) args._max = selectOf(this.fieldsOf(orderable, 2, 1));
    if (this.features.pagination && this.rng.chance(0.2)) {
      args.take = this.rng.int(1, 3);
      args.orderBy = this.pkOrder(model);
    }
    return args;
  }

  private groupByArgs(model: Model): Call | undefined {
    const groupable = model.scalars.filter((s) => ORDERABLE.has(s.type) || s.kind === "enum");
    if (groupable.length === 0) return undefined;
    const by = this.fieldsOf(groupable, 2, 1).map((s) => s.name);
    const args: Data = { by };
    if (this.rng.chance(0.5)) args.where = this.where(model, 0);
    args._count = this.rng.chance(0.5) ? true : { _all: true };
    const numeric = model.scalars.filter((s) => NUMERIC.has(s.type) && !s.isList);
    if (numeric.length > 0 && this.rng.chance(0.5)) args._sum = selectOf(this.fieldsOf(numeric, 1, 1));
    if (numeric.length > 0 && this.rng.chance(0.3)) args._max = selectOf(this.fieldsOf(numeric, 1, 1));
    args.orderBy = by.map((name) => ({ [name]: this.rng.pick(["asc", "desc"]) }));
    if (this.features.pagination && this.rng.chance(0.3)) args.take = this.rng.int(1, 3);
    if (this.features.pagination && this.rng.chance(0.2)) args.skip = this.rng.int(0, 2);
    if (numeric.length > 0 && this.rng.chance(0.2)) args.having = { [numeric[0]!.name]: { _sum: { gt: 0 } } };
    return { model: model.name, method: "groupBy", args };
  }

  private invalidRead(model: Model): Call {
    const choice = this.rng.int(0, 5);
    const scalar = this.rng.pick(model.scalars);
    switch (choice) {
      case 0:
        return { model: model.name, method: "findMany", args: { where: { noSuchField: 1 } } };
      case 1:
        return { model: model.name, method: "findUnique", args: { where: {} } };
      case 2:
        return { model: model.name, method: "findMany", args: { take: "3" } };
      case 3:
        return { model: model.name, method: "findFirst", args: { where: { [scalar.name]: { equals: scalar.type === "String" ? 5 : "x" } } } };
      case 4:
        return { model: model.name, method: "findUnique", args: { where: { [scalar.name]: scalar.type === "String" ? 7 : "y" } } };
      default:
        return { model: model.name, method: "count", args: { where: { AND: 5 } } };
    }
  }

  // ---------------------------------------------------------------- filters

  where(model: Model, depth: number): Data {
    const f = this.features;
    const where: Data = {};
    const count = this.rng.int(0, 2);
    const row = this.someRow(model);
    for (let i = 0; i < count; i++) {
      const r = this.rng.next();
      if (r < 0.6 && f.scalarFilters) Object.assign(where, this.scalarCondition(model, row));
      else if (r < 0.85 && f.relationFilters && depth < MAX_DEPTH) Object.assign(where, this.relationCondition(model, depth));
      else if (f.logicalFilters && depth < MAX_DEPTH) {
        const op = this.rng.pick(["AND", "OR", "NOT"]);
        const parts = [this.where(model, depth + 1), this.where(model, depth + 1)];
        where[op] = op === "NOT" && this.rng.chance(0.5) ? parts[0] : parts;
      }
    }
    return where;
  }

  /** A condition on one scalar field, often built from a known row's value so that it matches something. */
  private scalarCondition(model: Model, row: Row | undefined): Data | undefined {
    const f = this.features;
    const field = this.rng.pick(model.scalars);
    const known = row?.[field.name];
    const value = known !== undefined && this.rng.chance(0.6) ? known : this.value(field, false);
    if (field.type === "Json") {
      if (!f.jsonFilters) return undefined;
      return { [field.name]: this.jsonFilter(field, value) };
    }
    if (!field.isRequired && f.nullFilters && this.rng.chance(0.25)) {
      return { [field.name]: this.rng.pick<unknown>([null, { not: null }, { equals: null }]) };
    }
    if (field.isList) {
      const item = Array.isArray(value) ? value[0] : undefined;
      const choices: unknown[] = [{ isEmpty: this.rng.chance(0.5) }, { equals: value }];
      if (item !== undefined) choices.push({ has: item }, { hasSome: [item] }, { hasEvery: value });
      return { [field.name]: this.rng.pick(choices) };
    }
    if (value === null || value === undefined) return undefined;
    if (field.type === "Boolean" || field.type === "Bytes" || field.kind === "enum") {
      return { [field.name]: this.rng.pick<unknown>([value, { equals: value }, { not: value }, { in: [value] }, { notIn: [value] }]) };
    }
    const ops: unknown[] = [value, { equals: value }, { not: value }, { in: [value, this.value(field, false)] }, { notIn: [value] }];
    ops.push({ lt: value }, { lte: value }, { gt: value }, { gte: value }, { not: { lt: value } });
    if (field.type === "String" && typeof value === "string") {
      const part = value.slice(0, 2);
      ops.push({ contains: part }, { startsWith: part }, { endsWith: value.slice(-1) });
      if (f.insensitiveMode && this.dm.provider === "postgresql") {
        ops.push({ equals: value.toUpperCase(), mode: "insensitive" }, { contains: part.toUpperCase(), mode: "insensitive" });
      }
    }
    return { [field.name]: this.rng.pick(ops) };
  }

  private jsonFilter(field: ScalarField, value: unknown): unknown {
    const choices: unknown[] = [{ equals: value }, { not: value }];
    if (this.features.nullFilters) {
      choices.push({ equals: nullKind("JsonNull") }, { equals: nullKind("AnyNull") }, { not: nullKind("JsonNull") });
      if (!field.isRequired) choices.push({ equals: nullKind("DbNull") }, { not: nullKind("DbNull") });
    }
    if (this.dm.provider === "postgresql") {
      const key = this.rng.pick(["a", "b", "z"]);
      choices.push(
        { path: [key], equals: jsonValue(this.rng, 0) },
        { path: [key], string_contains: "a" },
        { array_contains: [jsonValue(this.rng, 0)] },
        { string_starts_with: "a" },
      );
    }
    if (this.features.toJsonValues) choices.push({ equals: { v: { $url: this.rng.pick(["http://a.example/", "http://b.example/"]) } } });
    return this.rng.pick(choices);
  }

  private relationCondition(model: Model, depth: number): Data {
    if (model.relations.length === 0) return {};
    const relation = this.rng.pick(model.relations);
    const target = this.dm.model(relation.model);
    const inner = this.where(target, depth + 1);
    if (relation.isList) return { [relation.field]: { [this.rng.pick(["some", "every", "none"])]: inner } };
    if (!relation.isRequired && this.features.nullFilters && this.rng.chance(0.2)) {
      return { [relation.field]: this.rng.pick<unknown>([null, { isNot: null }, { is: null }]) };
    }
    return { [relation.field]: this.rng.pick<unknown>([{ is: inner }, { isNot: inner }, inner]) };
  }

  private orderBy(model: Model, depth: number): unknown {
    const orderable = model.scalars.filter((s) => (ORDERABLE.has(s.type) || s.kind === "enum") && !s.isList);
    const terms: unknown[] = [];
    for (const field of this.fieldsOf(orderable, 2, 1)) {
      const direction = this.rng.pick(["asc", "desc"]);
      terms.push({ [field.name]: !field.isRequired && this.rng.chance(0.3) ? { sort: direction, nulls: this.rng.pick(["first", "last"]) } : direction });
    }
    if (this.features.relationOrderBy && depth === 0 && model.relations.length > 0 && this.rng.chance(0.3)) {
      const relation = this.rng.pick(model.relations);
      if (relation.isList) terms.unshift({ [relation.field]: { _count: this.rng.pick(["asc", "desc"]) } });
      else {
        const target = this.dm.model(relation.model);
        const field = this.rng.pick(target.scalars.filter((s) => ORDERABLE.has(s.type) && !s.isList).concat(target.scalars.slice(0, 1)));
        terms.unshift({ [relation.field]: { [field.name]: this.rng.pick(["asc", "desc"]) } });
      }
    }
    // Ties are broken by the primary key, so that both clients agree on an order without asking Postgres for luck.
    terms.push(...(this.pkOrder(model) as unknown[]));
    return terms.length === 1 && this.rng.chance(0.5) ? terms[0] : terms;
  }

  private pkOrder(model: Model): unknown[] {
    return model.primaryKey.fields.map((field) => ({ [field]: "asc" }));
  }

  /** include / select / omit for a read, or nothing. */
  projection(model: Model, depth: number): Data {
    const f = this.features;
    const r = this.rng.next();
    if (r < 0.45) return {};
    if (r < 0.72 && f.include && model.relations.length > 0) return { include: this.include(model, depth) };
    if (r < 0.92 && f.select) return { select: this.select(model, depth) };
    if (f.omit) {
      const omittable = model.scalars.filter((s) => !s.isId);
      if (omittable.length > 0) return { omit: Object.fromEntries(this.fieldsOf(omittable, 2, 1).map((s) => [s.name, true])) };
    }
    return {};
  }

  private include(model: Model, depth: number): Data {
    const include: Data = {};
    for (const relation of this.fieldsOf(model.relations, 3, 1)) include[relation.field] = this.nestedRead(relation, depth);
    const lists = model.relations.filter((r) => r.isList);
    if (this.features.relationCount && lists.length > 0 && this.rng.chance(0.3)) include._count = this.countSelect(lists);
    return include;
  }

  private select(model: Model, depth: number): Data {
    const select: Data = {};
    for (const field of this.fieldsOf(model.scalars, 4, 1)) select[field.name] = true;
    if (depth < MAX_DEPTH && model.relations.length > 0 && this.rng.chance(0.4)) {
      for (const relation of this.fieldsOf(model.relations, 2, 1)) select[relation.field] = this.nestedRead(relation, depth);
    }
    const lists = model.relations.filter((r) => r.isList);
    if (this.features.relationCount && lists.length > 0 && this.rng.chance(0.2)) select._count = this.countSelect(lists);
    return select;
  }

  private countSelect(lists: Relation[]): unknown {
    if (this.rng.chance(0.3)) return true;
    const select: Data = {};
    for (const relation of this.fieldsOf(lists, 2, 1)) {
      select[relation.field] = this.rng.chance(0.6) ? true : { where: this.where(this.dm.model(relation.model), MAX_DEPTH) };
    }
    return { select };
  }

  private nestedRead(relation: Relation, depth: number): unknown {
    const target = this.dm.model(relation.model);
    if (depth + 1 >= MAX_DEPTH || this.rng.chance(0.5)) return true;
    const args: Data = {};
    if (relation.isList) {
      if (this.rng.chance(0.5)) args.where = this.where(target, depth + 1);
      if (this.features.orderBy && this.rng.chance(0.5)) args.orderBy = this.pkOrder(target).map((term) => term);
      if (this.features.pagination && this.rng.chance(0.3)) {
        args.take = this.rng.int(1, 2);
        args.orderBy ??= this.pkOrder(target);
      }
    }
    Object.assign(args, this.projection(target, depth + 1));
    return Object.keys(args).length > 0 ? args : true;
  }

  // ---------------------------------------------------------------- writes

  private create(model: Model, method: "create" | "createMany" | "createManyAndReturn"): Op | undefined {
    if (method !== "create") {
      const rows: Data[] = [];
      const tracked: [Model, Row][] = [];
      for (let i = this.rng.int(1, 3); i > 0; i--) {
        const made = this.createData(model, 0, undefined, true);
        if (!made) return undefined;
        rows.push(made.data);
        tracked.push(...made.tracked);
      }
      this.track(tracked);
      const args: Data = { data: rows };
      if (this.rng.chance(0.3)) args.skipDuplicates = true;
      if (method === "createManyAndReturn" && this.features.select && this.rng.chance(0.3)) args.select = this.select(model, MAX_DEPTH);
      return { kind: "write", call: { model: model.name, method, args } };
    }
    const made = this.createData(model, 0, undefined, false);
    if (!made) return undefined;
    this.track(made.tracked);
    return { kind: "write", call: { model: model.name, method, args: { data: made.data, ...this.writeProjection(model) } } };
  }

  private writeProjection(model: Model): Data {
    if (!this.features.include || this.rng.chance(0.7)) return {};
    return this.projection(model, 1);
  }

  /**
   * Create data for `model`. `parent`: the relation (on `model`) back to the row that creates this one as a nested
   * write, and that row. `scalarOnly`: foreign keys as plain fields, no nested writes (createMany).
   */
  private createData(
    model: Model,
    depth: number,
    parent: { relation: Relation; row: Row } | undefined,
    scalarOnly: boolean,
  ): { data: Data; row: Row; tracked: [Model, Row][] } | undefined {
    const data: Data = {};
    const row: Row = {};
    const tracked: [Model, Row][] = [];
    const uniqueFields = new Set(model.uniques.flatMap((u) => u.fields));
    for (const field of model.scalars) {
      if (field.isForeignKey || field.isUpdatedAt) continue;
      const generatedId = field.isId && field.hasDefault;
      if (generatedId || (field.isRequired && !field.hasDefault) || this.rng.chance(0.5)) {
        const value = !field.isRequired && !uniqueFields.has(field.name) && this.rng.chance(0.2) ? this.nullFor(field) : this.value(field, uniqueFields.has(field.name));
        data[field.name] = value;
        if (value !== null && typeof value !== "object") row[field.name] = value;
        else if (value instanceof Date) row[field.name] = value;
      }
    }
    const unchecked = scalarOnly || this.rng.chance(0.3);
    for (const relation of model.relations) {
      if (parent && relation.field === parent.relation.field) {
        relation.from.forEach((fk, i) => (row[fk] = parent.row[relation.to[i]!]));
        continue;
      }
      if (relation.from.length > 0) {
        const wanted = relation.isRequired || this.rng.chance(0.4);
        if (!wanted) continue;
        const target = this.dm.model(relation.model);
        const owner = this.someRow(target, relation.to);
        if (unchecked) {
          if (!owner) {
            if (relation.isRequired) return undefined;
            continue;
          }
          relation.from.forEach((fk, i) => {
            data[fk] = owner[relation.to[i]!];
            row[fk] = owner[relation.to[i]!];
          });
          continue;
        }
        const choices: string[] = [];
        if (owner) choices.push("connect", "connect");
        if (depth < MAX_DEPTH && this.features.nestedWrites) choices.push("create", "connectOrCreate");
        if (choices.length === 0) {
          if (relation.isRequired) return undefined;
          continue;
        }
        const choice = this.rng.pick(choices);
        if (choice === "connect") {
          data[relation.field] = { connect: this.uniqueWhere(target, owner!, false) };
          relation.from.forEach((fk, i) => (row[fk] = owner![relation.to[i]!]));
        } else {
          const made = this.createData(target, depth + 1, undefined, false);
          if (!made) {
            if (relation.isRequired) return undefined;
            continue;
          }
          tracked.push(...made.tracked);
          relation.from.forEach((fk, i) => (row[fk] = made.row[relation.to[i]!]));
          data[relation.field] =
            choice === "create" ? { create: made.data } : { connectOrCreate: { where: this.uniqueWhere(target, owner ?? made.row, false), create: made.data } };
        }
        continue;
      }
      if (scalarOnly || !this.features.nestedWrites || depth >= MAX_DEPTH || !this.rng.chance(0.25)) continue;
      // The other side holds the key (a list, the back of a 1-1, or an implicit m-n).
      const target = this.dm.model(relation.model);
      const back = target.relations.find((r) => r.field === relation.back)!;
      const existing = this.someRow(target);
      const choice = this.rng.pick(existing ? ["create", "connect", "connectOrCreate"] : ["create"]);
      if (choice === "connect") {
        const where = this.uniqueWhere(target, existing!, false);
        data[relation.field] = { connect: relation.isList ? [where] : where };
        continue;
      }
      const made = this.createData(target, depth + 1, { relation: back, row }, false);
      if (!made) continue;
      tracked.push(...made.tracked);
      if (choice === "create") data[relation.field] = { create: relation.isList && this.rng.chance(0.5) ? [made.data] : made.data };
      else data[relation.field] = { connectOrCreate: { where: this.uniqueWhere(target, existing ?? made.row, false), create: made.data } };
    }
    // Prisma leaves Int autoincrement ids out of its checked inputs (those with relation objects on the key side).
    const checked = model.relations.some((relation) => relation.from.length > 0 && data[relation.field] !== undefined);
    for (const field of model.scalars) {
      if (checked && field.isId && field.type === "Int" && field.defaultName === "autoincrement") {
        delete data[field.name];
        delete row[field.name];
      }
    }
    tracked.push([model, row]);
    return { data, row, tracked };
  }

  private update(model: Model): Op | undefined {
    const row = this.someRow(model);
    if (!row) return undefined;
    const where = this.uniqueWhere(model, row, false);
    const data = this.updateData(model, row, 0);
    return { kind: "write", call: { model: model.name, method: "update", args: { where, data, ...this.writeProjection(model) } } };
  }

  private upsert(model: Model): Op | undefined {
    const existing = this.rng.chance(0.6) ? this.someRow(model) : undefined;
    const made = this.createData(model, 0, undefined, false);
    if (!made) return undefined;
    this.track(made.tracked);
    const where = this.uniqueWhere(model, existing ?? made.row, false);
    const update = existing ? this.updateData(model, existing, 1) : {};
    return { kind: "write", call: { model: model.name, method: "upsert", args: { where, create: made.data, update, ...this.writeProjection(model) } } };
  }

  private delete(model: Model): Op | undefined {
    const row = this.someRow(model);
    if (!row) return undefined;
    this.untrack(model, row);
    return { kind: "write", call: { model: model.name, method: "delete", args: { where: this.uniqueWhere(model, row, false) } } };
  }

  private many(model: Model): Op | undefined {
    const choice = this.rng.int(0, 2);
    if (choice === 0) return this.create(model, "createMany");
    if (choice === 1) {
      const data = this.scalarUpdates(model, undefined, false);
      if (Object.keys(data).length === 0) return undefined;
      return { kind: "write", call: { model: model.name, method: "updateMany", args: { where: this.where(model, 1), data } } };
    }
    if (this.rng.chance(0.5)) return undefined; // deleteMany empties tables quickly; run it less often
    return { kind: "write", call: { model: model.name, method: "deleteMany", args: { where: this.narrowWhere(model) } } };
  }

  private andReturn(model: Model): Op | undefined {
    if (this.rng.chance(0.5)) return this.create(model, "createManyAndReturn");
    const data = this.scalarUpdates(model, undefined, false);
    if (Object.keys(data).length === 0) return undefined;
    const args: Data = { where: this.narrowWhere(model), data };
    if (this.features.select && this.rng.chance(0.3)) args.select = this.select(model, MAX_DEPTH);
    return { kind: "write", call: { model: model.name, method: "updateManyAndReturn", args } };
  }

  /** A where that matches one or a few rows (by a known key), so that *Many writes do not wipe tables. */
  private narrowWhere(model: Model): Data {
    const row = this.someRow(model);
    if (!row) return this.where(model, 1);
    const unique = model.primaryKey;
    if (unique.fields.some((field) => row[field] === undefined)) return this.where(model, 1);
    const where: Data = Object.fromEntries(unique.fields.map((field) => [field, row[field]]));
    if (this.rng.chance(0.4)) Object.assign(where, this.scalarCondition(model, row));
    return where;
  }

  /** Scalar changes: new values, nulls, atomic number ops, list pushes; key changes when enabled and `row` given. */
  private scalarUpdates(model: Model, row: Row | undefined, keys: boolean): Data {
    const data: Data = {};
    const uniqueFields = new Set(model.uniques.flatMap((u) => u.fields));
    const candidates = model.scalars.filter((s) => {
      if (s.isForeignKey || s.isUpdatedAt) return false;
      if (uniqueFields.has(s.name)) return keys && this.features.keyChanges && row !== undefined;
      return true;
    });
    for (const field of this.rng.some(candidates, 3, 1)) {
      if (uniqueFields.has(field.name)) {
        const value = this.value(field, true);
        data[field.name] = value;
        row![field.name] = value;
        continue;
      }
      if (this.features.atomicOps && NUMERIC.has(field.type) && !field.isList && this.rng.chance(0.5)) {
        const op = this.rng.pick(["increment", "decrement", "multiply", "divide", "set"]);
        const amount = field.type === "BigInt" ? BigInt(this.rng.int(1, 3)) : field.type === "Decimal" ? "1.5" : field.type === "Float" ? 0.5 : this.rng.int(1, 3);
        data[field.name] = { [op]: amount };
        continue;
      }
      if (this.features.atomicOps && field.isList && this.rng.chance(0.5)) {
        data[field.name] = { push: this.value({ ...field, isList: false }, false) };
        continue;
      }
      const value = !field.isRequired && this.rng.chance(0.2) ? this.nullFor(field) : this.value(field, false);
      data[field.name] = field.isList && this.rng.chance(0.5) ? { set: value } : value;
    }
    return data;
  }

  private updateData(model: Model, row: Row, depth: number): Data {
    const data = this.scalarUpdates(model, row, depth === 0);
    if (!this.features.nestedWrites || depth >= MAX_DEPTH || model.relations.length === 0 || !this.rng.chance(0.35)) return data;
    const relation = this.rng.pick(model.relations);
    const target = this.dm.model(relation.model);
    const nested = this.nestedUpdate(model, row, relation, target, depth);
    if (nested !== undefined) data[relation.field] = nested;
    return data;
  }

  private nestedUpdate(model: Model, row: Row, relation: Relation, target: Model, depth: number): unknown {
    const back = target.relations.find((r) => r.field === relation.back)!;
    const other = this.someRow(target);
    const child = relation.isList ? (this.childOf(row, relation, target) ?? other) : other;
    const choices: string[] = ["create", "update", "upsert"];
    if (other) choices.push("connect", "connectOrCreate");
    const owning = relation.from.length > 0;
    const canDisconnect = owning ? !relation.isRequired : relation.isList ? relation.implicitManyToMany || relation.backKeyOptional : relation.backKeyOptional;
    if (canDisconnect) choices.push("disconnect");
    if (!owning || !relation.isRequired) choices.push("delete");
    if (relation.isList) {
      choices.push("updateMany", "deleteMany");
      if (canDisconnect) choices.push("set");
      if (!relation.implicitManyToMany) choices.push("createMany");
    }
    const choice = this.rng.pick(choices);
    const fresh = () => {
      const made = this.createData(target, depth + 1, owning ? undefined : { relation: back, row }, false);
      if (made) this.track(made.tracked);
      return made;
    };
    const whereOf = (r: Row) => this.uniqueWhere(target, r, false);
    const list = (value: unknown) => (relation.isList && this.rng.chance(0.5) ? [value] : value);
    switch (choice) {
      case "create": {
        const made = fresh();
        return made ? { create: list(made.data) } : undefined;
      }
      case "createMany": {
        const made = this.createData(target, depth + 1, { relation: back, row }, true);
        if (!made) return undefined;
        this.track(made.tracked);
        return { createMany: { data: [made.data], ...(this.rng.chance(0.3) ? { skipDuplicates: true } : {}) } };
      }
      case "connect":
        return { connect: list(whereOf(other!)) };
      case "connectOrCreate": {
        const made = fresh();
        return made ? { connectOrCreate: list({ where: whereOf(this.rng.chance(0.5) ? other! : made.row), create: made.data }) } : undefined;
      }
      case "disconnect":
        return { disconnect: relation.isList ? list(whereOf(child ?? other ?? {})) : true };
      case "set":
        return { set: child ? [whereOf(child)] : [] };
      case "delete":
        if (relation.isList) return child ? { delete: list(whereOf(child)) } : undefined;
        return { delete: true };
      case "update": {
        const childRow = child ?? other;
        const data = this.updateData(target, childRow ?? {}, depth + 1);
        if (relation.isList) return childRow ? { update: list({ where: whereOf(childRow), data }) } : undefined;
        return { update: this.rng.chance(0.5) ? data : { data } };
      }
      case "updateMany": {
        const data = this.scalarUpdates(target, undefined, false);
        return Object.keys(data).length > 0 ? { updateMany: { where: this.where(target, MAX_DEPTH), data } } : undefined;
      }
      case "deleteMany":
        return { deleteMany: child && this.rng.chance(0.7) ? whereOf(child) : {} };
      case "upsert": {
        const made = fresh();
        if (!made) return undefined;
        const update = this.scalarUpdates(target, undefined, false);
        if (relation.isList) return { upsert: list({ where: whereOf(child ?? made.row), create: made.data, update }) };
        return { upsert: { create: made.data, update } };
      }
    }
    return undefined;
  }

  private raw(model: Model): Op | undefined {
    const row = this.someRow(model);
    if (!row) return undefined;
    const pk = model.primaryKey.fields.map((name) => model.scalars.find((s) => s.name === name)!);
    if (pk.some((field) => row[field.name] === undefined)) return undefined;
    const where = pk.map((field) => ({ column: field.column, value: row[field.name] }));
    if (this.rng.chance(0.3)) {
      this.untrack(model, row);
      return { kind: "raw", statement: { table: model.table, where } };
    }
    const uniqueFields = new Set(model.uniques.flatMap((u) => u.fields));
    const settable = model.scalars.filter(
      (s) => !s.isList && !s.isForeignKey && !uniqueFields.has(s.name) && (s.type === "String" || s.type === "Int" || s.type === "Boolean") && !s.nativeType,
    );
    if (settable.length === 0) return undefined;
    const field = this.rng.pick(settable);
    return { kind: "raw", statement: { table: model.table, set: { column: field.column, value: this.value(field, false) }, where } };
  }

  private transaction(interactive: boolean): Op | undefined {
    const calls: Call[] = [];
    for (let i = this.rng.int(1, 3); i > 0; i--) {
      const model = this.rng.pick(this.dm.models);
      const op = this.rng.pick([() => this.create(model, "create"), () => this.update(model), () => this.delete(model), () => this.upsert(model)])();
      if (op?.kind === "write") calls.push(op.call);
    }
    if (calls.length === 0) return undefined;
    return interactive ? { kind: "interactive", calls, rollback: this.rng.chance(0.3) } : { kind: "batch", calls };
  }

  // ---------------------------------------------------------------- rows and values

  private fieldsOf<T>(items: readonly T[], max?: number, min?: number): T[] {
    return inOrder(this.rng.some(items, max, min), items, this.features.reorderedRepeats);
  }

  private value(field: ScalarField, unique: boolean): unknown {
    return scalarValue(field, this.rng, this.dm, this.serial++, unique);
  }

  private nullFor(field: ScalarField): unknown {
    if (field.type === "Json") return nullKind(this.rng.pick(["DbNull", "JsonNull"]));
    return null;
  }

  /** A tracked row of `model` (with the given fields known), or undefined. */
  private someRow(model: Model, fields?: string[]): Row | undefined {
    let rows = this.rows.get(model.name)!;
    if (fields) rows = rows.filter((row) => fields.every((field) => row[field] !== undefined));
    return rows.length > 0 ? this.rng.pick(rows) : undefined;
  }

  private childOf(parent: Row, relation: Relation, target: Model): Row | undefined {
    const back = target.relations.find((r) => r.field === relation.back);
    if (!back || back.from.length === 0) return undefined;
    const children = this.rows.get(target.name)!.filter((row) => back.from.every((fk, i) => row[fk] !== undefined && row[fk] === parent[back.to[i]!]));
    return children.length > 0 ? this.rng.pick(children) : undefined;
  }

  private track(rows: [Model, Row][]): void {
    for (const [model, row] of rows) {
      if (model.uniques.some((unique) => unique.fields.every((field) => row[field] !== undefined))) this.rows.get(model.name)!.push(row);
    }
  }

  private untrack(model: Model, row: Row): void {
    const rows = this.rows.get(model.name)!;
    const index = rows.indexOf(row);
    if (index >= 0) rows.splice(index, 1);
  }

  /** A WhereUniqueInput naming `row` by one of its known uniques; `spell` may use another spelling of the value. */
  uniqueWhere(model: Model, row: Row, spell: boolean): Data {
    const usable = model.uniques.filter((unique) => unique.fields.every((field) => row[field] !== undefined));
    if (usable.length === 0) return this.missingUniqueWhere(model);
    const unique: Unique = this.rng.pick(usable);
    if (unique.fields.length === 1) {
      const field = unique.fields[0]!;
      return { [field]: spell ? this.spell(model, field, row[field]) : row[field] };
    }
    return { [unique.name]: Object.fromEntries(unique.fields.map((field) => [field, row[field]])) };
  }

  private spell(model: Model, name: string, value: unknown): unknown {
    if (!this.features.otherSpellings || !this.rng.chance(0.5)) return value;
    const field = model.scalars.find((s) => s.name === name)!;
    return otherSpelling(field, value, this.rng) ?? value;
  }

  /** A unique where that (most likely) names no row. */
  private missingUniqueWhere(model: Model): Data {
    const unique = this.rng.pick(model.uniques);
    const values = unique.fields.map((name) => this.value(model.scalars.find((s) => s.name === name)!, true));
    if (unique.fields.length === 1) return { [unique.fields[0]!]: values[0] };
    return { [unique.name]: Object.fromEntries(unique.fields.map((field, i) => [field, values[i]])) };
  }
}

/** `rng.some`, kept in schema order unless key order is fuzzed too (see F1 in FINDINGS.md). */
function inOrder<T>(picked: T[], all: readonly T[], free: boolean): T[] {
  return free ? picked : [...picked].sort((a, b) => all.indexOf(a) - all.indexOf(b));
}

function selectOf(fields: ScalarField[]): Data {
  return Object.fromEntries(fields.map((field) => [field.name, true]));
}

/** The same read with the keys of its select / include / omit in another order. */
function reorderProjection(args: Record<string, unknown>, rng: Rng): Record<string, unknown> {
  const out: Data = { ...args };
  for (const key of ["select", "include", "omit"]) {
    const value = args[key];
    if (value && typeof value === "object") {
      const entries = Object.entries(value as Data);
      out[key] = Object.fromEntries(rng.shuffle(entries.length > 1 ? entries : entries));
    }
  }
  return out;
}
