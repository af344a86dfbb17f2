/**
 * One consumer per app: the processes sharing a store elect the one that streams the change feed through a lease
 * in that store. The leader renews it every third of its lifetime; when it dies, its lease expires and the next
 * process to ask takes it, so a takeover takes at most the lease time plus one polling interval.
 */

/** A lease in the shared store, as the feed needs it (the wiring adapts the store's `claimLease`). */
export interface FeedLease {
  /**
   * Takes the lease for `holder` for `ms` milliseconds if it is free, or renews it if `holder` has it; `ms` 0 gives
   * it up. Resolves to whether `holder` holds it now.
   */
  hold(holder: string, ms: number): Promise<boolean>;
}

/** A lease that is always held: the store is not shared (memory) or cannot hold leases, so every process leads. */
export const ALWAYS_HELD: FeedLease = { hold: async (_holder, ms) => ms > 0 };

export class LeaderElection {
  private timer: NodeJS.Timeout | undefined;
  private leading = false;
  private stopped = false;

  constructor(
    private readonly lease: FeedLease,
    private readonly holder: string,
    private readonly leaseMs: number,
    /** Called when this process becomes the leader, and when it stops being it (lost the lease, store failed). */
    private readonly onChange: (leading: boolean) => void,
    private readonly onError: (error: unknown) => void,
  ) {}

  get isLeader(): boolean {
    return this.leading;
  }

  /** Starts asking for (and renewing) the lease. */
  start(): void {
    void this.tick();
  }

  /** Stops, giving the lease up if held, so another process can take over at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    if (this.leading) {
      this.leading = false;
      this.onChange(false);
      await this.lease.hold(this.holder, 0).catch(() => {});
    }
  }

  private async tick(): Promise<void> {
    let held = false;
    try {
      held = await withTimeout(this.lease.hold(this.holder, this.leaseMs), this.leaseMs / 3);
    } catch (error) {
      // The store cannot confirm the lease: stop leading, since another process may take it once it expires.
      this.onError(error);
    }
    if (this.stopped) {
      if (held) await this.lease.hold(this.holder, 0).catch(() => {});
      return;
    }
    if (held !== this.leading) {
      this.leading = held;
      this.onChange(held);
    }
    this.timer = setTimeout(() => void this.tick(), this.leaseMs / 3);
    this.timer.unref();
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`the store did not answer the change feed's lease within ${Math.round(ms)} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
