/**
 * Delta debugging (Zeller's ddmin) over a failing program's operations: the smallest list found, within a budget of
 * replays, that still makes a read of the cached client differ from Prisma's.
 */
import type { Op } from "./operations.ts";

export interface ShrinkOptions {
  /** Replays the ops and says whether they still fail. */
  fails(ops: Op[]): Promise<boolean>;
  maxRuns: number;
  deadline: number;
}

export async function shrink(ops: Op[], options: ShrinkOptions): Promise<{ ops: Op[]; runs: number }> {
  let runs = 0;
  const budgetLeft = () => runs < options.maxRuns && Date.now() < options.deadline;
  const test = async (candidate: Op[]) => {
    runs++;
    return options.fails(candidate);
  };
  let current = ops;
  let granularity = 2;
  while (current.length >= 2 && budgetLeft()) {
    const size = Math.ceil(current.length / granularity);
    let reduced = false;
    for (let start = 0; start < current.length && budgetLeft(); start += size) {
      const complement = [...current.slice(0, start), ...current.slice(start + size)];
      if (complement.length > 0 && (await test(complement))) {
        current = complement;
        granularity = Math.max(granularity - 1, 2);
        reduced = true;
        break;
      }
    }
    if (!reduced) {
      if (granularity >= current.length) break;
      granularity = Math.min(granularity * 2, current.length);
    }
  }
  // Then the calls inside bursts and transactions, one at a time.
  for (let i = 0; i < current.length && budgetLeft(); i++) {
    const op = current[i]!;
    if (op.kind !== "burst" && op.kind !== "batch" && op.kind !== "interactive") continue;
    for (let j = op.calls.length - 1; j >= 0 && op.calls.length > 1 && budgetLeft(); j--) {
      const smaller = { ...op, calls: op.calls.filter((_, k) => k !== j) } as Op;
      const candidate = [...current.slice(0, i), smaller, ...current.slice(i + 1)];
      if (await test(candidate)) {
        current = candidate;
        (op as { calls: unknown[] }).calls = (smaller as { calls: unknown[] }).calls;
      }
    }
  }
  return { ops: current, runs };
}
