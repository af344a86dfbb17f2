import { describe, expect, it, vi } from "vitest";
import { EXECUTE, LazyQuery, PRISMA_QUERY, withRelations, type PrismaQueryLike } from "../../src/read/lazy-query.ts";

/** The smallest concrete LazyQuery: runs `run`, and builds Prisma's query with `makePrismaQuery`. */
class TestQuery<T> extends LazyQuery<T> {
  constructor(
    private readonly run: () => Promise<T>,
    private readonly makePrismaQuery: () => PrismaQueryLike,
  ) {
    super();
  }
  protected [EXECUTE](): Promise<T> {
    return this.run();
  }
  protected [PRISMA_QUERY](): PrismaQueryLike {
    return this.makePrismaQuery();
  }
}

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
    const query = new TestQuery(execute, () => prismaQuery());
    expect(execute).not.toHaveBeenCalled();
    expect(await query).toBe(42);
    expect(execute).toHaveBeenCalledTimes(1);
  });

  it("runs once, however many times it is awaited", async () => {
    const execute = vi.fn(async () => ({ id: 1 }));
    const query = new TestQuery(execute, () => prismaQuery());
    const [a, b] = await Promise.all([query, query]);
    await query.then((value) => value);
    expect(execute).toHaveBeenCalledTimes(1);
    expect(a).toBe(b);
  });

  it("supports catch and finally like a promise", async () => {
    const failure = new Error("nope");
    const failing = new TestQuery(
      () => Promise.reject(failure),
      () => prismaQuery(),
    );
    expect(await failing.catch((error) => error)).toBe(failure);
    const onFinally = vi.fn();
    expect(
      await new TestQuery(
        async () => 1,
        () => prismaQuery(),
      ).finally(onFinally),
    ).toBe(1);
    expect(onFinally).toHaveBeenCalledTimes(1);
  });

  it("runs once when finally is called before then", async () => {
    const execute = vi.fn(async () => 1);
    const query = new TestQuery(execute, () => prismaQuery());
    await query.finally(() => {});
    await query;
    expect(execute).toHaveBeenCalledTimes(1);
  });

  it("carries Symbol.toStringTag 'PrismaPromise', which $transaction([...]) checks", () => {
    const query = new TestQuery(
      async () => 1,
      () => prismaQuery(),
    );
    expect(Object.prototype.toString.call(query)).toBe("[object PrismaPromise]");
  });

  it("joins a batch through Prisma's own query, without running the cached path", async () => {
    const execute = vi.fn(async () => 1);
    const inner = prismaQuery();
    const makeQuery = vi.fn(() => inner);
    const query = new TestQuery(execute, makeQuery);
    expect(await query.requestTransaction({ id: "batch-1" })).toEqual({ batched: { id: "batch-1" } });
    expect(inner.requestTransaction).toHaveBeenCalledWith({ id: "batch-1" });
    expect(execute).not.toHaveBeenCalled();
    expect(makeQuery).not.toHaveBeenCalledTimes(2);
  });

  it("returns Prisma's query itself when it has no requestTransaction", async () => {
    const inner = { then: (f?: (v: unknown) => unknown) => Promise.resolve(7).then(f) } as PrismaQueryLike;
    const query = new TestQuery(
      async () => 1,
      () => inner,
    );
    expect(query.requestTransaction({})).toBe(inner);
  });

  it("creates Prisma's query only once", () => {
    const makeQuery = vi.fn(() => prismaQuery());
    const query = new TestQuery(async () => 1, makeQuery);
    query.requestTransaction({});
    query.requestTransaction({});
    expect(makeQuery).toHaveBeenCalledTimes(1);
  });
});

describe("withRelations", () => {
  it("forwards fluent relation methods to Prisma's query, with their args", () => {
    const Query = withRelations(TestQuery, ["posts", "profile"]);
    const inner = prismaQuery();
    const execute = vi.fn(async () => 1);
    const query = new (Query as unknown as typeof TestQuery)(execute, () => inner) as unknown as LazyQuery & Record<string, (...args: unknown[]) => unknown>;
    expect(query.posts!({ where: { published: true } })).toEqual({ relation: "posts", args: { where: { published: true } } });
    expect(query.profile!()).toEqual({ relation: "profile" });
    expect(inner.posts).toHaveBeenCalledWith({ where: { published: true } });
    expect(execute).not.toHaveBeenCalled();
  });

  it("stays a lazy PrismaPromise", async () => {
    const Query = withRelations(TestQuery, ["comments"]);
    const execute = vi.fn(async () => "result");
    const query = new (Query as unknown as typeof TestQuery)(execute, () => prismaQuery());
    expect(query).toBeInstanceOf(LazyQuery);
    expect(Object.prototype.toString.call(query)).toBe("[object PrismaPromise]");
    expect(execute).not.toHaveBeenCalled();
    expect(await query).toBe("result");
  });

  it("does not add relation methods to the base class or to other models' classes", () => {
    withRelations(TestQuery, ["only"]);
    expect("only" in TestQuery.prototype).toBe(false);
    expect("only" in withRelations(TestQuery, ["other"]).prototype).toBe(false);
  });

  // An own instance field would shadow a prototype method of the same name, so LazyQuery keeps its state in
  // private fields: a model with a relation called `query` (e.g. `SavedSearch.query`) keeps its fluent method.
  it("forwards relations named like its own internals, and still runs", async () => {
    const names = ["query", "execute", "createPrismaQuery", "load", "running", "prismaQuery"];
    const Query = withRelations(TestQuery, names);
    const inner = { ...prismaQuery(), ...Object.fromEntries(names.map((name) => [name, vi.fn(() => `related ${name}`)])) } as unknown as PrismaQueryLike;
    const lazy = new (Query as unknown as typeof TestQuery)(
      async () => 1,
      () => inner,
    ) as unknown as Record<string, () => unknown> & PromiseLike<number>;
    for (const name of names) expect(lazy[name]!()).toBe(`related ${name}`);
    expect(await lazy).toBe(1);
  });
});
