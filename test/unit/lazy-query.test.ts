import { describe, expect, it, vi } from "vitest";
import { LazyQuery, lazyQueryClass, type PrismaQueryLike } from "../../src/lazy-query.ts";

/** A stand-in for Prisma's own query promise, with a batch hook and fluent relation methods. */
function prismaQuery(result: unknown = { id: 1 }) {
  const query = {
    then: (onFulfilled?: (value: unknown) => unknown) => Promise.resolve(result).then(onFulfilled),
    requestTransaction: vi.fn((batch: unknown) => Promise.resolve({ batched: batch })),
    posts: vi.fn((args?: unknown) => ({ relation: "posts", args })),
    profile: vi.fn(() => ({ relation: "profile" })),
  };
  return query as unknown as PrismaQueryLike & typeof query;
}

describe("LazyQuery", () => {
  it("does not run until awaited", async () => {
    const execute = vi.fn(async () => 42);
    const query = new LazyQuery(execute, () => prismaQuery());
    expect(execute).not.toHaveBeenCalled();
    expect(await query).toBe(42);
    expect(execute).toHaveBeenCalledTimes(1);
  });

  it("runs once, however many times it is awaited", async () => {
    const execute = vi.fn(async () => ({ id: 1 }));
    const query = new LazyQuery(execute, () => prismaQuery());
    const [a, b] = await Promise.all([query, query]);
    await query.then((value) => value);
    expect(execute).toHaveBeenCalledTimes(1);
    expect(a).toBe(b);
  });

  it("supports catch and finally like a promise", async () => {
    const failure = new Error("nope");
    const failing = new LazyQuery(() => Promise.reject(failure), () => prismaQuery());
    expect(await failing.catch((error) => error)).toBe(failure);
    const onFinally = vi.fn();
    expect(await new LazyQuery(async () => 1, () => prismaQuery()).finally(onFinally)).toBe(1);
    expect(onFinally).toHaveBeenCalledTimes(1);
  });

  it("runs once when finally is called before then", async () => {
    const execute = vi.fn(async () => 1);
    const query = new LazyQuery(execute, () => prismaQuery());
    await query.finally(() => {});
    await query;
    expect(execute).toHaveBeenCalledTimes(1);
  });

  it("carries Symbol.toStringTag 'PrismaPromise', which $transaction([...]) checks", () => {
    const query = new LazyQuery(async () => 1, () => prismaQuery());
    expect(Object.prototype.toString.call(query)).toBe("[object PrismaPromise]");
  });

  it("joins a batch through Prisma's own query, without running the cached path", async () => {
    const execute = vi.fn(async () => 1);
    const inner = prismaQuery();
    const makeQuery = vi.fn(() => inner);
    const query = new LazyQuery(execute, makeQuery);
    expect(await query.requestTransaction({ id: "batch-1" })).toEqual({ batched: { id: "batch-1" } });
    expect(inner.requestTransaction).toHaveBeenCalledWith({ id: "batch-1" });
    expect(execute).not.toHaveBeenCalled();
    expect(makeQuery).not.toHaveBeenCalledTimes(2);
  });

  it("returns Prisma's query itself when it has no requestTransaction", async () => {
    const inner = { then: (f?: (v: unknown) => unknown) => Promise.resolve(7).then(f) } as PrismaQueryLike;
    const query = new LazyQuery(async () => 1, () => inner);
    expect(query.requestTransaction({})).toBe(inner);
  });

  it("creates Prisma's query only once", () => {
    const makeQuery = vi.fn(() => prismaQuery());
    const query = new LazyQuery(async () => 1, makeQuery);
    query.requestTransaction({});
    query.requestTransaction({});
    expect(makeQuery).toHaveBeenCalledTimes(1);
  });
});

describe("lazyQueryClass", () => {
  it("forwards fluent relation methods to Prisma's query, with their args", () => {
    const Query = lazyQueryClass(["posts", "profile"]);
    const inner = prismaQuery();
    const execute = vi.fn(async () => 1);
    const query = new Query(execute, () => inner) as LazyQuery & Record<string, (...args: unknown[]) => unknown>;
    expect(query.posts!({ where: { published: true } })).toEqual({ relation: "posts", args: { where: { published: true } } });
    expect(query.profile!()).toEqual({ relation: "profile" });
    expect(inner.posts).toHaveBeenCalledWith({ where: { published: true } });
    expect(execute).not.toHaveBeenCalled();
  });

  it("stays a lazy PrismaPromise", async () => {
    const Query = lazyQueryClass(["comments"]);
    const execute = vi.fn(async () => "result");
    const query = new Query(execute, () => prismaQuery());
    expect(query).toBeInstanceOf(LazyQuery);
    expect(Object.prototype.toString.call(query)).toBe("[object PrismaPromise]");
    expect(execute).not.toHaveBeenCalled();
    expect(await query).toBe("result");
  });

  it("reuses one class per set of relation names", () => {
    expect(lazyQueryClass(["a", "b"])).toBe(lazyQueryClass(["a", "b"]));
    expect(lazyQueryClass(["a", "b"])).not.toBe(lazyQueryClass(["a"]));
  });

  it("does not add relation methods to other classes", () => {
    lazyQueryClass(["only"]);
    expect("only" in LazyQuery.prototype).toBe(false);
    expect("only" in lazyQueryClass(["other"]).prototype).toBe(false);
  });

  // LazyQuery keeps its state in instance fields named `query`, `running`, `execute` and `prismaQuery`; an own
  // instance field shadows a prototype method of the same name, so a model with a relation called `query`
  // (e.g. `SavedSearch.query`) loses its fluent method: `findUnique(...).query()` throws "is not a function".
  it("forwards a relation whose name matches one of its own fields", () => {
    const Query = lazyQueryClass(["query"]);
    const inner = { ...prismaQuery(), query: vi.fn(() => "related") } as unknown as PrismaQueryLike;
    const lazy = new Query(async () => 1, () => inner) as unknown as Record<string, () => unknown>;
    expect(lazy.query!()).toBe("related");
  });
});
