/**
 * The store contract suite: registers vitest tests for the store protocol (src/stores/store.ts) against any store,
 * directly, without the plugin. A store passes if it keeps the three rules (the fence, fills refused after a bump,
 * lost stamps invalidate) and what the optional parts promise (leases, write-through's unchanged-since check, TTLs, bounds).
 *
 *   describeStoreContract("redisStore", async () => ({ store: redisStore({ client }), close: async () => {} }));
 */
import { randomBytes } from "node:crypto";
import { afterEach, describe, expect, it as vitestIt } from "vitest";
import { entryKeyOf } from "../../src/read/keys.ts";
import { stampKey } from "../../src/stamps/names.ts";
import type { CacheStore, LookupRequest, LookupResult } from "../../src/stores/store.ts";

export interface ContractSubject {
  store: CacheStore;
  /** A second store on the same shared backend (another process), for stores shared between processes. */
  peer?: CacheStore;
  /** Removes stamps behind the store's back, as eviction, a restart or FLUSHALL would. */
  loseStamps?(keys: string[]): Promise<void>;
  /** The store's entry bound, when it evicts by count (the memory store, L1). */
  maxEntries?: number;
  /** Releases what the factory made (the stores are closed by the suite). */
  close(): Promise<void>;
}

export interface ContractOptions {
  /** Whether the store keeps leases (shared stores). @default store.release !== undefined */
  leases?: boolean;
  /** Tests (by name start) the store is known to fail today, registered with `it.fails` so fixing them is noticed. */
  knownGaps?: string[];
}

/** Polls `check` until it holds or `ms` pass. */
async function until(check: () => Promise<boolean>, what: string, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** `make` gets the namespace the test's keys start with (`<namespace>:{tag}:…`), e.g. for a tiered store's channel. */
export function describeStoreContract(name: string, make: (namespace: string) => Promise<ContractSubject>, options: ContractOptions = {}): void {
  describe(`store contract: ${name}`, () => {
    const it = (title: string, test: () => Promise<void>) => (options.knownGaps?.some((gap) => title.startsWith(gap)) ? vitestIt.fails : vitestIt)(title, test);
    let subject: ContractSubject | undefined;
    afterEach(async () => {
      if (!subject) return;
      await subject.store.close();
      await subject.peer?.close();
      await subject.close();
      subject = undefined;
    });

    /** A fresh namespace: keys laid out as the plugin lays them out (`ns:{tag}:e:…`, `ns:{tag}:s:…`: spread on Cluster). */
    async function setup() {
      const ns = `contract_${randomBytes(4).toString("hex")}`;
      subject = await make(ns);
      const entry = (id: string) => entryKeyOf(ns, "M", "findUnique", id);
      const stamp = (id: string) => stampKey(ns, id);
      const request = (key: string, stamps: string[], extra: Partial<LookupRequest> = {}): LookupRequest => ({ key, stamps, stampLifeMs: 60_000, ...extra });
      const one = async (req: LookupRequest, store = subject!.store): Promise<LookupResult> => (await store.lookup([req]))[0]!;
      const fill = (req: LookupRequest, fence: string, value: string, extra: { ttlMs?: number; swrMs?: number; lease?: string } = {}, store = subject!.store) =>
        store.fill({
          key: req.key,
          stamps: req.stamps,
          fence,
          value,
          ttlMs: extra.ttlMs ?? 60_000,
          swrMs: extra.swrMs ?? 0,
          loadMs: 3,
          ...(extra.lease && { lease: extra.lease }),
        });
      return { subject, entry, stamp, request, one, fill };
    }

    it("a miss returns a fence; a fill under it is stored and then returned with its freshness and load time", async () => {
      const { request, entry, stamp, one, fill } = await setup();
      const req = request(entry("1"), [stamp("*"), stamp("m:M"), stamp("r:M:1")]);
      const miss = await one(req);
      expect(miss.value).toBeUndefined();
      expect(miss.fence.split(",")).toHaveLength(3);
      expect(await fill(req, miss.fence, "v1")).toBe(true);
      const hit = await one(req);
      expect(hit).toMatchObject({ fence: miss.fence, value: "v1", loadMs: 3 });
      expect(hit.freshForMs!).toBeGreaterThan(50_000);
    });

    it("the fence rule: a fill is refused after a bump of any stamp it read, and the next lookup gets a new fence", async () => {
      const { request, entry, stamp, one, fill, subject } = await setup();
      const stamps = [stamp("*"), stamp("m:M"), stamp("r:M:1")];
      for (const bumped of stamps) {
        const req = request(entry(`fence-${bumped}`), stamps);
        const { fence } = await one(req);
        await subject.store.bump([bumped]);
        expect(await fill(req, fence, "old"), `fill after bumping ${bumped}`).toBe(false);
        const after = await one(req);
        expect(after.value).toBeUndefined();
        expect(after.fence).not.toBe(fence);
      }
    });

    it("a bump invalidates a stored entry; a fill under the new fence is stored again", async () => {
      const { request, entry, stamp, one, fill, subject } = await setup();
      const req = request(entry("2"), [stamp("*"), stamp("r:M:2")]);
      await fill(req, (await one(req)).fence, "before");
      expect((await one(req)).value).toBe("before");
      await subject.store.bump([stamp("r:M:2")]);
      const miss = await one(req);
      expect(miss.value).toBeUndefined();
      expect(await fill(req, miss.fence, "after")).toBe(true);
      expect((await one(req)).value).toBe("after");
    });

    it("a bump of an entry key drops that entry only; entries sharing its stamps stay, and it can be filled again", async () => {
      const { request, entry, stamp, one, fill, subject } = await setup();
      const stamps = [stamp("*"), stamp("m:M")];
      const [dropped, kept] = [request(entry("drop"), stamps), request(entry("keep"), stamps)];
      for (const req of [dropped, kept]) await fill(req, (await one(req)).fence, req.key);
      await subject.store.bump([dropped.key]);
      const miss = await one(dropped);
      expect(miss.value).toBeUndefined();
      expect((await one(kept)).value, "an entry with the same stamps stays").toBe(kept.key);
      expect(await fill(dropped, miss.fence, "again")).toBe(true);
      expect((await one(dropped)).value).toBe("again");
    });

    it("shared stores: a bump of an entry key through one store drops the entry another store (process) served", async () => {
      const { request, entry, stamp, one, fill, subject } = await setup();
      const peer = subject.peer;
      if (!peer) return;
      const req = request(entry("shared-drop"), [stamp("*"), stamp("m:M")]);
      await fill(req, (await one(req, peer)).fence, "v1", {}, peer);
      expect((await one(req, peer)).value).toBe("v1");
      expect((await one(req, peer)).value).toBe("v1");
      await subject.store.bump([req.key]);
      expect((await one(req, peer)).value, "the peer no longer serves it once the bump returned").toBeUndefined();
    });

    it("invalidateAll (a bump of the namespace epoch) drops every entry that depends on it", async () => {
      const { request, entry, stamp, one, fill, subject } = await setup();
      const reqs = ["a", "b", "c"].map((id) => request(entry(id), [stamp("*"), stamp(`r:M:${id}`)]));
      for (const req of reqs) await fill(req, (await one(req)).fence, req.key);
      for (const req of reqs) expect((await one(req)).value).toBe(req.key);
      await subject.store.bump([stamp("*")]);
      for (const req of reqs) expect((await one(req)).value).toBeUndefined();
    });

    it("bump racing a fill: whichever lands first, no later lookup returns the filled value", async () => {
      const { request, entry, stamp, one, fill, subject } = await setup();
      for (let round = 0; round < 20; round++) {
        const req = request(entry(`race${round}`), [stamp("*"), stamp(`r:M:race${round}`)]);
        const { fence } = await one(req);
        await Promise.all([fill(req, fence, "raced"), subject.store.bump([stamp(`r:M:race${round}`)])]);
        expect((await one(req)).value, `round ${round}`).toBeUndefined();
      }
    });

    it("lost stamps are recreated with new tokens, so they invalidate (never validate) old entries", async () => {
      const { request, entry, stamp, one, fill, subject } = await setup();
      const req = request(entry("lost"), [stamp("*"), stamp("r:M:lost")]);
      const { fence } = await one(req);
      await fill(req, fence, "old");
      if (subject.loseStamps) await subject.loseStamps([stamp("r:M:lost")]);
      else await subject.store.bump([stamp("r:M:lost")]);
      const after = await one(req);
      expect(after.value).toBeUndefined();
      expect(after.fence).not.toBe(fence);
      // A fill from before the loss stays refused, even though its stamps exist again.
      expect(await fill(req, fence, "old")).toBe(false);
      expect((await one(req)).value).toBeUndefined();
    });

    it("fillMany stores each entry under its own fence and refuses only those whose stamps moved", async () => {
      const { request, entry, stamp, one, subject } = await setup();
      const reqs = [0, 1, 2].map((i) => request(entry(`many${i}`), [stamp("*"), stamp(`r:M:many${i}`)]));
      const fences = await Promise.all(reqs.map(async (req) => (await one(req)).fence));
      await subject.store.bump([stamp("r:M:many1")]);
      const fills = reqs.map((req, i) => ({ key: req.key, stamps: req.stamps, fence: fences[i]!, value: `v${i}`, ttlMs: 60_000, swrMs: 0, loadMs: 1 }));
      const stored = subject.store.fillMany ? await subject.store.fillMany(fills) : await Promise.all(fills.map((f) => subject.store.fill(f)));
      expect(stored).toEqual([true, false, true]);
      expect((await one(reqs[0]!)).value).toBe("v0");
      expect((await one(reqs[1]!)).value).toBeUndefined();
    });

    it("TTL: an entry turns stale after ttl, is served within swr with negative freshness, and is gone after", async () => {
      const { request, entry, stamp, one, fill } = await setup();
      const req = request(entry("ttl"), [stamp("*")]);
      await fill(req, (await one(req)).fence, "short", { ttlMs: 100, swrMs: 400 });
      expect((await one(req)).freshForMs!).toBeGreaterThan(0);
      await until(async () => ((await one(req)).freshForMs ?? 1) <= 0, "the entry turns stale");
      const stale = await one(req);
      if (stale.value !== undefined) expect(stale.value).toBe("short");
      await until(async () => (await one(req)).value === undefined, "the entry expires for good");
    });

    it("write-through: stores the written record when its stamps were unchanged since; only bumps when one moved", async () => {
      const { request, entry, stamp, one, subject } = await setup();
      const store = subject.store;
      if (!store.writeThrough) return;
      const rowStamps = [stamp("*"), stamp("r:M:wt")];
      const read = request(entry("wt"), rowStamps);
      const unchangedSince = { stamps: rowStamps, fence: (await one(read)).fence };
      const fills = [{ key: read.key, stamps: rowStamps, value: "written", ttlMs: 60_000, swrMs: 0 }];
      expect(await store.writeThrough({ unchangedSince, bump: [stamp("r:M:wt")], fills })).toBe(true);
      expect((await one(read)).value).toBe("written");

      // Another write moved one of the stamps between their read and this write-through: no fill, bump still applied.
      const readBefore = { stamps: rowStamps, fence: (await one(read)).fence };
      await store.bump([stamp("r:M:wt")]);
      const other = request(entry("wt-other"), [stamp("*"), stamp("m:M")]);
      const otherFence = (await one(other)).fence;
      expect(await store.writeThrough({ unchangedSince: readBefore, bump: [stamp("m:M")], fills: [{ ...fills[0]!, value: "lost race" }] })).toBe(false);
      expect((await one(read)).value).toBeUndefined();
      expect((await one(other)).fence, "the bump was applied").not.toBe(otherFence);
    });

    if (options.leases ?? true) {
      it("leases: one caller takes it, others see it busy (also by peeking), release frees it, a fill releases it", async () => {
        const { request, entry, stamp, one, fill, subject } = await setup();
        if (!subject.store.release) return;
        const key = entry("lease");
        const taker = await one(request(key, [stamp("*")], { lease: { token: "t1", ms: 10_000 } }));
        expect(taker.leased).toBe(true);
        expect((await one(request(key, [stamp("*")], { lease: { token: "t2", ms: 10_000 } }))).leaseBusy).toBe(true);
        expect((await one(request(key, [stamp("*")], { lease: { token: "t3", ms: 0 } }))).leaseBusy).toBe(true);
        await subject.store.release(key, "t2"); // not the holder: no effect
        expect((await one(request(key, [stamp("*")], { lease: { token: "t3", ms: 0 } }))).leaseBusy).toBe(true);
        await subject.store.release(key, "t1");
        const second = await one(request(key, [stamp("*")], { lease: { token: "t4", ms: 10_000 } }));
        expect(second.leased).toBe(true);
        expect(await fill(request(key, [stamp("*")]), second.fence, "loaded", { lease: "t4" })).toBe(true);
        const after = await one(request(key, [stamp("*")], { lease: { token: "t5", ms: 0 } }));
        expect(after.value).toBe("loaded");
        expect(after.leaseBusy).toBeFalsy();
      });

      it("leases expire: a holder that never fills nor releases blocks others only for the lease time", async () => {
        const { request, entry, stamp, one, subject } = await setup();
        if (!subject.store.release) return;
        const key = entry("lease-expiry");
        expect((await one(request(key, [stamp("*")], { lease: { token: "t1", ms: 150 } }))).leased).toBe(true);
        expect((await one(request(key, [stamp("*")], { lease: { token: "t2", ms: 150 } }))).leaseBusy).toBe(true);
        await until(async () => (await one(request(key, [stamp("*")], { lease: { token: "t2", ms: 150 } }))).leased === true, "the lease expires");
      });
    }

    it("memory stays bounded: past maxEntries, old entries are evicted and lookups of them miss", async () => {
      const { request, entry, stamp, one, fill, subject } = await setup();
      const max = subject.maxEntries;
      if (max === undefined) return;
      const reqs = Array.from({ length: max * 3 }, (_, i) => request(entry(`evict${i}`), [stamp("*")]));
      for (const req of reqs) await fill(req, (await one(req)).fence, req.key);
      let present = 0;
      for (const req of reqs) if ((await one(req)).value !== undefined) present++;
      expect(present).toBeLessThanOrEqual(max);
      expect(present, "the most recent entries are kept").toBeGreaterThan(0);
    });

    it("shared stores: a bump through one store invalidates what another store (process) had cached", async () => {
      const { request, entry, stamp, one, fill, subject } = await setup();
      const peer = subject.peer;
      if (!peer) return;
      const req = request(entry("shared"), [stamp("*"), stamp("r:M:shared")]);
      await fill(req, (await one(req, peer)).fence, "v1", {}, peer);
      // Read it twice on the peer: a tiered peer now answers from its L1.
      expect((await one(req, peer)).value).toBe("v1");
      expect((await one(req, peer)).value).toBe("v1");
      expect((await one(req)).value, "the other process sees the shared entry").toBe("v1");
      await subject.store.bump([stamp("r:M:shared")]);
      expect((await one(req, peer)).value, "the peer no longer serves it once the bump returned").toBeUndefined();
    });
  });
}
