import { describe, expect, it } from "vitest";
import { warm } from "../../src/warming/warm.ts";
import { deferred } from "../support/deferred.ts";

function fakeClient() {
  const calls: unknown[] = [];
  let running = 0;
  let most = 0;
  const gates: ReturnType<typeof deferred<void>>[] = [];
  let fills = 0;
  const client = {
    post: {
      async findUnique(args: { where: { id: number } }) {
        calls.push(args);
        running++;
        most = Math.max(most, running);
        const gate = deferred<void>();
        gates.push(gate);
        await gate.promise;
        running--;
        if (args.where.id < 0) throw new Error("no such post");
        fills++;
        return { id: args.where.id };
      },
    },
    $cache: { stats: () => ({ fills }) },
  };
  return { client, calls, gates, most: () => most };
}

describe("warm", () => {
  it("runs at most `concurrency` reads at once and reports fills and failures", async () => {
    const { client, gates, most } = fakeClient();
    const reads = [1, 2, -3, 4, 5].map((id) => ({ model: "Post", operation: "findUnique", args: { where: { id } } }));
    const done = warm(client, reads, { concurrency: 2 });
    // Release reads as they start, one tick at a time, until all five ran.
    for (let released = 0; released < 5; ) {
      await new Promise((resolve) => setImmediate(resolve));
      while (released < gates.length) gates[released++]!.resolve();
    }
    const result = await done;
    expect(most()).toBe(2);
    expect(result.ran).toBe(4);
    expect(result.filled).toBe(4);
    expect(result.failed).toHaveLength(1);
    expect(result.failed[0]!.read).toEqual(reads[2]);
  });

  it("takes a function of the client, and refuses operations that are not reads", async () => {
    const { client, gates } = fakeClient();
    const done = warm(client, [async (c) => c.post.findUnique({ where: { id: 9 } }), { model: "Post", operation: "deleteMany" }, { model: "Nope", operation: "findMany" }]);
    await new Promise((resolve) => setImmediate(resolve));
    gates[0]!.resolve();
    const result = await done;
    expect(result.ran).toBe(1);
    expect(result.failed.map((f) => String(f.error))).toEqual(["RangeError: warm(): deleteMany is not a read operation", "RangeError: warm(): the client has no Nope.findMany"]);
  });

  it("skips reads not yet started once aborted", async () => {
    const { client } = fakeClient();
    const result = await warm(client, [{ model: "Post", operation: "findUnique", args: { where: { id: 1 } } }], { signal: { aborted: true } });
    expect(result).toMatchObject({ ran: 0, skipped: 1, failed: [] });
  });
});
