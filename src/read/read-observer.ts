import type { ReadPlan } from "./plans.ts";
import type { Loader } from "./read-through.ts";

/**
 * What the read path tells the opt-in reports (the cost report and sizing curve, the hot-read list) about each
 * cacheable read. Called synchronously on the read path, so each method must be cheap and must not throw.
 */
export interface ReadObserver {
  /** A read answered from the cache; `bytes` is the entry's encoded length, `local` whether L1 answered. */
  hit(plan: ReadPlan, source: Loader, bytes: number, local: boolean): void;
  /** A cacheable read that goes to the database (or joins a load of the same key already running). */
  miss(plan: ReadPlan, source: Loader): void;
  /** A background refresh (swr, early refresh, refresh-ahead) starts a database read. */
  refresh(plan: ReadPlan): void;
  /** A database read of a miss or refresh ended, after `loadMs`. */
  loaded(plan: ReadPlan, loadMs: number): void;
}

/** One observer that tells every given one; undefined when none is given (the read path then skips the calls). */
export function observeAll(observers: readonly (ReadObserver | undefined)[]): ReadObserver | undefined {
  const list = observers.filter((observer): observer is ReadObserver => observer !== undefined);
  if (list.length <= 1) return list[0];
  return {
    hit: (plan, source, bytes, local) => {
      for (const observer of list) observer.hit(plan, source, bytes, local);
    },
    miss: (plan, source) => {
      for (const observer of list) observer.miss(plan, source);
    },
    refresh: (plan) => {
      for (const observer of list) observer.refresh(plan);
    },
    loaded: (plan, loadMs) => {
      for (const observer of list) observer.loaded(plan, loadMs);
    },
  };
}
