import type { FeedLease } from "./leader-election.ts";

/** The part of the store protocol the lease needs (stores/store.ts: `claimLease`). */
interface LeaseStore {
  claimLease?(key: string, token: string, ms: number): Promise<boolean>;
}

/**
 * The feed's lease in the plugin's store, one per prefix (the app's namespace); `undefined` when the store holds no
 * leases, and then every process streams (harmless: the bumps are the same, only the connections are more).
 */
export function storeLease(store: LeaseStore, prefix: string): FeedLease | undefined {
  if (store.claimLease === undefined) return undefined;
  // In the `{prefix}` hash slot like every other key of the namespace (see key.ts).
  const key = `{${prefix}}:l:change-feed`;
  return { hold: (holder, ms) => store.claimLease!(key, holder, ms) };
}
