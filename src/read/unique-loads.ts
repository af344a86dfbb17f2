/**
 * Prisma answers the `findUnique` calls of one tick on one model with a single statement and matches its rows back
 * to the calls in JavaScript, by value. Where the database matches a value the comparison does not (a `@db.Uuid` in
 * upper case, a case-insensitive collation, `citext`), the calls spelled unlike the stored row get `null` although
 * alone they would get the row (test/fuzz/FINDINGS.md, F5 and P1). Such a `null` must not be cached: a later read
 * alone would be served it. Which calls Prisma merged is not visible from outside, so a load counts as possibly
 * merged when any other `findUnique` of its model ran through this client while it was in flight.
 */

/** Operations Prisma merges across the calls of a tick. */
const MERGED_OPERATIONS = new Set(["findUnique", "findUniqueOrThrow"]);

/** The findUnique loads of one model in flight, and how many have started. */
interface ModelLoads {
  running: number;
  started: number;
}

/** Whether a load ran alone, known once it has settled. */
export interface TrackedLoad<T> {
  result: Promise<T>;
  /** True if no other findUnique of the model overlapped the load (meaningful once `result` settles). */
  alone(): boolean;
}

export class UniqueLoads {
  // One small record per model that ever loaded: bounded by the schema.
  readonly #models = new Map<string, ModelLoads>();

  /** Runs `load` (the call of `operation` on `model`), counting it when it is an operation Prisma merges. */
  run<T>(model: string, operation: string, load: () => PromiseLike<T>): TrackedLoad<T> {
    if (!MERGED_OPERATIONS.has(operation)) return { result: Promise.resolve(load()), alone: () => true };
    let loads = this.#models.get(model);
    if (loads === undefined) {
      loads = { running: 0, started: 0 };
      this.#models.set(model, loads);
    }
    const othersAtStart = loads.running > 0;
    const startedBefore = loads.started;
    loads.running += 1;
    loads.started += 1;
    let othersDuring = false;
    const settle = () => {
      othersDuring = loads.started !== startedBefore + 1;
      loads.running -= 1;
    };
    let result: Promise<T>;
    try {
      result = Promise.resolve(load());
    } catch (error) {
      settle();
      return { result: Promise.reject(error), alone: () => false };
    }
    result.then(settle, settle);
    return { result, alone: () => !othersAtStart && !othersDuring };
  }
}
