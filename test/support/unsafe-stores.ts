/**
 * Stores with a coherence guard deliberately removed, to show that the checker catches the races the guards
 * prevent. Never use outside tests.
 */
import type { CacheStore, FillRequest } from "../../src/index.ts";

/**
 * Takes the fill's fence at fill time instead of before the database read (the bug bentocache and others had):
 * a write that commits and invalidates during the read no longer stops the old row from being stored. A random
 * pause of up to `maxPauseMs` before filling widens the window, as a slow network would.
 */
export function lateFenceStore(inner: CacheStore, maxPauseMs = 4): CacheStore {
  return {
    name: `late-fence(${inner.name})`,
    lookup: (requests) => inner.lookup(requests),
    bump: (stamps) => inner.bump(stamps),
    close: () => inner.close(),
    ...(inner.release && { release: (key: string, lease: string) => inner.release!(key, lease) }),
    async fill(request: FillRequest) {
      await new Promise((resolve) => setTimeout(resolve, Math.random() * maxPauseMs));
      const [current] = await inner.lookup([{ key: request.key, stamps: request.stamps, stampLifeMs: request.ttlMs + request.swrMs }]);
      return inner.fill({ ...request, fence: current!.fence });
    },
  };
}
