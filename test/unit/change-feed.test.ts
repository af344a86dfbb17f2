import { afterEach, describe, expect, it, vi } from "vitest";
import { cacheSchema } from "../../generated/cache/index.ts";
import { ChangeStamps, coarsen } from "../../src/change-feed/change-stamps.ts";
import { LeaderElection } from "../../src/change-feed/leader-election.ts";
import { decodePgoutput, formatLsn, parseLsn, pgNow, pgTime, type Relation, type Tuple } from "../../src/change-feed/pgoutput.ts";
import { storeLease } from "../../src/change-feed/store-lease.ts";
import { postgresChangeFeed } from "../../src/change-feed/postgres-change-feed.ts";
import { readStamps as readDependencies } from "../../src/stamps/read-stamps.ts";
import { CacheConfigError } from "../../src/errors.ts";
import { graphFromRuntime, graphFromSchema } from "../../src/schema/model-graph.ts";
import { memoryStore } from "../../src/stores/memory-store.ts";

const graph = graphFromSchema(cacheSchema);
const stamps = ChangeStamps.of(graph, cacheSchema, "public");

/** What a read depends on, to check that a change advances exactly the stamps reads use. */
const readOf = (model: string, where: unknown) => readDependencies(graph, model, "findUnique", { where }, []);
const rowStampOf = (model: string, where: unknown) => readOf(model, where).find((stamp) => stamp.startsWith("r:"))!;

const user = (identity: Relation["replicaIdentity"] = "d"): Relation => ({
  id: 1,
  schema: "public",
  table: "User",
  replicaIdentity: identity,
  columns: [
    { name: "id", isKey: true, typeOid: 23 },
    { name: "email", isKey: identity === "f", typeOid: 25 },
    { name: "name", isKey: identity === "f", typeOid: 25 },
    { name: "role", isKey: identity === "f", typeOid: 0 },
    { name: "createdAt", isKey: identity === "f", typeOid: 1114 },
    { name: "invitedById", isKey: identity === "f", typeOid: 23 },
  ],
});
const userRow = (id: number, email: string): Tuple => [String(id), email, null, "USER", "2026-12-01 10:00:00.123", null];

describe("change → stamps", () => {
  it("an INSERT advances the model and the row under every unique constraint, as lookups name them", () => {
    const into = new Set<string>();
    stamps.insert(user(), userRow(5, "a@x"), into);
    expect([...into].sort()).toEqual(["m:User", rowStampOf("User", { email: "a@x" }), rowStampOf("User", { id: 5 })].sort());
  });

  it("an UPDATE without old values advances the unique-lookup stamp when the model has uniques beyond its key", () => {
    const into = new Set<string>();
    stamps.update(user(), undefined, false, userRow(5, "b@x"), into);
    expect(into).toEqual(new Set(["m:User", "u:User", rowStampOf("User", { id: 5 }), rowStampOf("User", { email: "b@x" })]));
  });

  it("an UPDATE of a model whose only unique is its key needs no unique-lookup stamp", () => {
    const audit: Relation = {
      id: 2,
      schema: "public",
      table: "audit_logs",
      replicaIdentity: "d",
      columns: [
        { name: "id", isKey: true, typeOid: 23 },
        { name: "action_name", isKey: false, typeOid: 25 },
        { name: "at", isKey: false, typeOid: 1114 },
      ],
    };
    const into = new Set<string>();
    stamps.update(audit, undefined, false, ["3", "x", "2026-12-01 10:00:00"], into);
    expect(into).toEqual(new Set(["m:AuditLog", rowStampOf("AuditLog", { id: 3 })]));
  });

  it("with REPLICA IDENTITY FULL an UPDATE advances the old unique values' row stamps instead", () => {
    const into = new Set<string>();
    stamps.update(user("f"), userRow(5, "old@x"), false, userRow(5, "new@x"), into);
    expect(into).toEqual(new Set(["m:User", rowStampOf("User", { id: 5 }), rowStampOf("User", { email: "old@x" }), rowStampOf("User", { email: "new@x" })]));
  });

  it("a DELETE with only the old key advances that row and the unique-lookup stamp; key-only nulls are not read as values", () => {
    const into = new Set<string>();
    stamps.delete(user(), ["5", null, null, null, null, null], true, into);
    expect(into).toEqual(new Set(["m:User", "u:User", rowStampOf("User", { id: 5 })]));
  });

  it("row stamps of BigInt, compound and DateTime-free keys match the lookups' stamps", () => {
    const comment: Relation = {
      id: 3,
      schema: "public",
      table: "Comment",
      replicaIdentity: "d",
      columns: [
        { name: "id", isKey: true, typeOid: 20 },
        { name: "body", isKey: false, typeOid: 25 },
        { name: "postId", isKey: false, typeOid: 23 },
        { name: "authorId", isKey: false, typeOid: 23 },
      ],
    };
    const into = new Set<string>();
    stamps.insert(comment, ["9007199254740993", "b", "1", null], into);
    expect(into).toContain(rowStampOf("Comment", { id: 9007199254740993n }));
    const postTag: Relation = {
      id: 4,
      schema: "public",
      table: "PostTag",
      replicaIdentity: "d",
      columns: [
        { name: "postId", isKey: true, typeOid: 23 },
        { name: "tagId", isKey: true, typeOid: 23 },
        { name: "assignedAt", isKey: false, typeOid: 1114 },
      ],
    };
    const tagInto = new Set<string>();
    stamps.delete(postTag, ["1", "2", null], true, tagInto);
    expect(tagInto).toEqual(new Set(["m:PostTag", rowStampOf("PostTag", { postId_tagId: { postId: 1, tagId: 2 } })]));
  });

  it("an implicit m-n join table advances both models; a TRUNCATE the model and its lookups; other tables nothing", () => {
    const join: Relation = {
      id: 5,
      schema: "public",
      table: "_CategoryToPost",
      replicaIdentity: "d",
      columns: [
        { name: "A", isKey: true, typeOid: 23 },
        { name: "B", isKey: true, typeOid: 23 },
      ],
    };
    const into = new Set<string>();
    stamps.insert(join, ["1", "2"], into);
    expect(into).toEqual(new Set(["m:Category", "m:Post"]));
    const truncated = new Set<string>();
    stamps.truncate(user(), truncated);
    expect(truncated).toEqual(new Set(["m:User", "u:User"]));
    const none = new Set<string>();
    stamps.insert({ ...user(), table: "elsewhere" }, userRow(1, "x"), none);
    stamps.insert({ ...user(), schema: "other" }, userRow(1, "x"), none);
    expect(none.size).toBe(0);
  });

  it("without the generator's schema every change advances the model and its unique lookups", () => {
    const coarse = ChangeStamps.of(graphFromRuntime({ models: { User: { dbName: null, fields: [{ name: "id", kind: "scalar", type: "Int" }] } } }), undefined, "public");
    const into = new Set<string>();
    coarse.update(user(), undefined, false, userRow(1, "x"), into);
    expect(into).toEqual(new Set(["m:User", "u:User"]));
  });

  it("on (re)connect, every model's stamps advance", () => {
    const all = stamps.everything();
    for (const model of graph.models.keys()) expect(all).toContain(`m:${model}`);
    expect(all).toContain("u:User");
  });

  it("coarsens row stamps into their models' unique-lookup stamps", () => {
    const set = new Set(["m:User", "r:User:id=#1", 'r:User:email="a"', "r:Post:id=#2"]);
    coarsen(set);
    expect(set).toEqual(new Set(["m:User", "u:User", "u:Post"]));
  });
});

/** Builders of pgoutput messages, as the server writes them. */
const int16 = (n: number) => Buffer.from([n >> 8, n & 255]);
const int32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
};
const int64 = (n: bigint) => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(n);
  return b;
};
const cstr = (s: string) => Buffer.concat([Buffer.from(s), Buffer.from([0])]);
const tag = (t: string) => Buffer.from(t);
const tuple = (values: (string | null | undefined)[]) =>
  Buffer.concat([
    int16(values.length),
    ...values.map((v) => (v === null ? tag("n") : v === undefined ? tag("u") : Buffer.concat([tag("t"), int32(Buffer.byteLength(v)), Buffer.from(v)]))),
  ]);

describe("pgoutput decoder", () => {
  it("decodes Relation, Insert, Update (with and without old row), Delete, Truncate, Message, Begin and Commit", () => {
    const relation = decodePgoutput(
      Buffer.concat([
        tag("R"),
        int32(7),
        cstr("public"),
        cstr("User"),
        tag("f"),
        int16(2),
        Buffer.from([1]),
        cstr("id"),
        int32(23),
        int32(0xffffffff),
        Buffer.from([0]),
        cstr("name"),
        int32(25),
        int32(0xffffffff),
      ]),
    );
    expect(relation).toEqual({
      type: "relation",
      relation: {
        id: 7,
        schema: "public",
        table: "User",
        replicaIdentity: "f",
        columns: [
          { name: "id", isKey: true, typeOid: 23 },
          { name: "name", isKey: false, typeOid: 25 },
        ],
      },
    });
    expect(decodePgoutput(Buffer.concat([tag("I"), int32(7), tag("N"), tuple(["1", null])]))).toEqual({ type: "insert", relationId: 7, row: ["1", null] });
    expect(decodePgoutput(Buffer.concat([tag("U"), int32(7), tag("N"), tuple(["1", undefined])]))).toEqual({
      type: "update",
      relationId: 7,
      old: undefined,
      oldIsKeyOnly: false,
      row: ["1", undefined],
    });
    expect(decodePgoutput(Buffer.concat([tag("U"), int32(7), tag("O"), tuple(["1", "é"]), tag("N"), tuple(["2", "é"])]))).toEqual({
      type: "update",
      relationId: 7,
      old: ["1", "é"],
      oldIsKeyOnly: false,
      row: ["2", "é"],
    });
    expect(decodePgoutput(Buffer.concat([tag("D"), int32(7), tag("K"), tuple(["1", null])]))).toEqual({ type: "delete", relationId: 7, old: ["1", null], oldIsKeyOnly: true });
    expect(decodePgoutput(Buffer.concat([tag("T"), int32(2), Buffer.from([1]), int32(7), int32(8)]))).toEqual({ type: "truncate", relationIds: [7, 8] });
    const message = decodePgoutput(Buffer.concat([tag("M"), Buffer.from([0]), int64(0x1_0000_0010n), cstr("pfx"), int32(2), Buffer.from("hi")]));
    expect(message).toMatchObject({ type: "message", transactional: false, lsn: 0x1_0000_0010n, prefix: "pfx" });
    const time = pgNow();
    expect(decodePgoutput(Buffer.concat([tag("B"), int64(5n), int64(time), int32(42)]))).toEqual({ type: "begin", finalLsn: 5n, commitTime: pgTime(time), xid: 42 });
    expect(decodePgoutput(Buffer.concat([tag("C"), Buffer.from([0]), int64(5n), int64(6n), int64(time)]))).toEqual({
      type: "commit",
      commitLsn: 5n,
      endLsn: 6n,
      commitTime: pgTime(time),
    });
    expect(decodePgoutput(tag("Y"))).toEqual({ type: "other", tag: "Y" });
  });

  it("rejects a truncated message instead of reading past its end", () => {
    expect(() => decodePgoutput(Buffer.concat([tag("I"), int32(7), tag("N"), int16(1), tag("t"), int32(10), Buffer.from("ab")]))).toThrow(RangeError);
  });

  it("reads and prints LSNs and replication timestamps", () => {
    expect(parseLsn("16/B374D848")).toBe(0x16_b374d848n);
    expect(formatLsn(0x16_b374d848n)).toBe("16/B374D848");
    expect(pgTime(0n).toISOString()).toBe("2000-01-01T00:00:00.000Z");
    expect(() => parseLsn("nope")).toThrow(TypeError);
  });
});

describe("leader election", () => {
  afterEach(() => vi.useRealTimers());

  it("elects one holder of the store's lease; when it stops, the other takes over at its next try", async () => {
    vi.useFakeTimers();
    const lease = storeLease(memoryStore(), "app")!;
    const changes: string[] = [];
    const a = new LeaderElection(
      lease,
      "a",
      900,
      (leading) => changes.push(`a:${leading}`),
      () => {},
    );
    const b = new LeaderElection(
      lease,
      "b",
      900,
      (leading) => changes.push(`b:${leading}`),
      () => {},
    );
    a.start();
    await vi.advanceTimersByTimeAsync(0);
    b.start();
    await vi.advanceTimersByTimeAsync(1_000);
    expect([a.isLeader, b.isLeader]).toEqual([true, false]);
    await a.stop();
    await vi.advanceTimersByTimeAsync(300);
    expect([a.isLeader, b.isLeader]).toEqual([false, true]);
    expect(changes).toEqual(["a:true", "a:false", "b:true"]);
    await b.stop();
  });

  it("steps down when the store cannot confirm the lease", async () => {
    vi.useFakeTimers();
    let fail = false;
    const errors: unknown[] = [];
    const election = new LeaderElection(
      { hold: async () => (fail ? Promise.reject(new Error("down")) : true) },
      "a",
      900,
      () => {},
      (e) => errors.push(e),
    );
    election.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(election.isLeader).toBe(true);
    fail = true;
    await vi.advanceTimersByTimeAsync(300);
    expect(election.isLeader).toBe(false);
    expect(errors).toHaveLength(1);
    await election.stop();
  });
});

describe("postgresChangeFeed options", () => {
  it("names the field at fault", () => {
    expect(() => postgresChangeFeed({ connectionString: "mysql://x" })).toThrow(CacheConfigError);
    expect(() => postgresChangeFeed({ connectionString: "postgresql://x/db", publication: "no-dashes" })).toThrow(/changeFeed.publication/);
    expect(() => postgresChangeFeed({ connectionString: "postgresql://x/db", leaseMs: 10 })).toThrow(/changeFeed.leaseMs/);
    expect(() => postgresChangeFeed({ connectionString: "postgresql://x/db", heartbeatMs: 0 })).not.toThrow();
    expect(() => postgresChangeFeed({ connectionString: "postgresql://x/db", extra: 1 } as never)).toThrow(/changeFeed.extra/);
  });
});
