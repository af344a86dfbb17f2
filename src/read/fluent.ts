import type { Prisma } from "@prisma/client/extension";
import type { Types } from "@prisma/client/runtime/client";

/**
 * The type of a cached findUnique / findFirst (and their OrThrow forms): Prisma's promise of the result plus the
 * fluent relation methods (`findUnique(...).posts()`), typed as Prisma types them. The methods exist at run time
 * on every cached read (lazy-query.ts, withRelations) and run Prisma's own query, bypassing the cache.
 */
export type CachedFind<T, A, P extends FindOperation> = Prisma.PrismaPromise<Prisma.Result<T, A, P>> &
  Fluent<TypesOf<T>["payload"], SelectOf<TypesOf<T>["operations"][P]["args"]>, P, P extends "findUnique" | "findFirst" ? null : never>;

/** The reads Prisma offers the fluent API on. */
export type FindOperation = "findUnique" | "findUniqueOrThrow" | "findFirst" | "findFirstOrThrow";

/** The model types a model delegate (`this` in a model extension) carries under a symbol: payload, operations. */
// biome-ignore lint/suspicious/noExplicitAny: Prisma's own shape for the symbol-keyed types
type TypesOf<T> = T extends { [K: symbol]: { types: infer X extends { payload: any; operations: any } } } ? X : { payload: never; operations: never };

/** The `select` argument type of an args type (for a relation: its nested args, without `true`). */
type SelectOf<Args> = Exclude<Args, boolean | null | undefined> extends { select?: infer S } ? Exclude<S, null | undefined> : never;

/**
 * One fluent method per relation of `Payload`, as Prisma's DynamicModelExtensionFluentApi: the relation's result (or
 * `Null`), chaining on through to-one relations; a nullable relation makes the rest of the chain nullable.
 */
type Fluent<Payload, Select, P extends FindOperation, Null> = Payload extends Types.Payload
  ? {
      [K in keyof Payload["objects"]]: <A>(
        args?: Prisma.Exact<A, Types.Utils.Path<Select, [K]>>,
      ) => Prisma.PrismaPromise<Types.Utils.Path<Types.Result.GetResult<Payload, { select: { [Q in K]: A } }, P>, [K]> | Null> &
        (Payload["objects"][K] extends readonly unknown[]
          ? unknown
          : Fluent<Exclude<Payload["objects"][K], null>, SelectOf<Types.Utils.Path<Select, [K]>>, P, Null | (null extends Payload["objects"][K] ? null : never)>);
    }
  : unknown;
