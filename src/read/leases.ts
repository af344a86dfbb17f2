import type { GuardedStore } from "../stores/guarded-store.ts";
import { tokenSource, type LookupRequest, type LookupResult } from "../stores/store.ts";
import type { ReadPlan } from "./plans.ts";

/**
 * Cross-process stampede protection, for stores shared between processes: the lookup that misses takes the key's
 * lease and loads; the others poll for the entry until it appears, or the lease is given up without one (the load
 * was refused by a write, or failed), or `leaseWaitMs` passed, and then load it themselves (never an error).
 */
export class Leases {
  private readonly nextToken = tokenSource();

  constructor(
    private readonly store: GuardedStore,
    private readonly options: { leaseMs: number; leaseWaitMs: number; pollFirstMs: number; pollMaxMs: number },
  ) {}

  /** The plan as a store lookup, asking for the key's lease where the store shares it with other processes. */
  request(plan: ReadPlan): LookupRequest {
    if (this.options.leaseMs === 0 || this.store.store.release === undefined) return plan;
    return { key: plan.key, stamps: plan.stamps, stampLifeMs: plan.stampLifeMs, lease: { token: this.nextToken(), ms: this.options.leaseMs } };
  }

  /** Gives a lease back, so that waiting processes go now rather than at its expiry. */
  release(key: string, token: string | undefined): void {
    if (token !== undefined) void this.store.release(key, token);
  }

  /**
   * While another process holds the lease and no entry is stored, polls (with `lookup`, which asks for no lease)
   * until that changes, the store fails or `leaseWaitMs` passed. Returns the last answer the store gave.
   */
  async waitForOther(plan: ReadPlan, found: LookupResult, lookup: (request: LookupRequest) => Promise<LookupResult | undefined>): Promise<LookupResult> {
    let current = found;
    const { leaseWaitMs, pollFirstMs, pollMaxMs } = this.options;
    const deadline = performance.now() + leaseWaitMs;
    const peek: LookupRequest = { key: plan.key, stamps: plan.stamps, stampLifeMs: plan.stampLifeMs, lease: { token: "", ms: 0 } };
    for (let pollMs = pollFirstMs; current.leaseBusy && current.value === undefined && performance.now() < deadline; pollMs = Math.min(pollMs * 2, pollMaxMs)) {
      await delay(pollMs);
      const next = await lookup(peek);
      if (next === undefined) break; // the store failed: load without it
      current = next;
    }
    return current;
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
