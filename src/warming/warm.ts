/**
 * Warming: runs a list of reads through the cached client, a few at a time, so their entries are filled before
 * traffic asks for them. Reads are plain descriptions (`{ model, operation, args }`, e.g. from the shared hot-read
 * list) or functions of the client; failures are collected, never thrown.
 */

/** A read to warm: a model read as data, or any function of the client. */
export type WarmRead<Client> = ReadDescriptor | ((client: Client) => Promise<unknown>);

/** A model read as data: `prisma[model][operation](args)`. */
export interface ReadDescriptor {
  /** The model's name as in the schema (`Post`). */
  model: string;
  /** A read operation: `findUnique`, `findFirst`, `findMany`, `count`, ... */
  operation: string;
  args?: Record<string, unknown>;
}

export interface WarmOptions {
  /** Reads run at once. @default 4 */
  concurrency?: number;
  /** Stops starting reads once aborted (reads already running finish). */
  signal?: { readonly aborted: boolean };
}

export interface WarmResult<Client> {
  /** Reads that ran without error. */
  ran: number;
  /** Entries stored while warming (from `$cache.stats().fills`, when the client has it). */
  filled: number | undefined;
  /** Reads that threw, with their error. */
  failed: { read: WarmRead<Client>; error: unknown }[];
  /** Reads not started because `signal` aborted. */
  skipped: number;
}

const READ_OPERATIONS = new Set(["findUnique", "findUniqueOrThrow", "findFirst", "findFirstOrThrow", "findMany", "count", "aggregate", "groupBy"]);

interface StatsClient {
  $cache?: { stats(): { fills: number }; settled?(): Promise<void> };
}

/** Runs `reads` (or the one function `reads`) against `client`, `concurrency` at a time. */
export async function warm<Client extends object>(
  client: Client,
  reads: readonly WarmRead<Client>[] | ((client: Client) => Promise<unknown>),
  options: WarmOptions = {},
): Promise<WarmResult<Client>> {
  const list = typeof reads === "function" ? [reads] : reads;
  const concurrency = options.concurrency ?? 4;
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new RangeError(`warm() concurrency must be a positive integer, received: ${concurrency}`);
  const stats = (client as StatsClient).$cache;
  const fillsBefore = stats?.stats().fills;
  const failed: WarmResult<Client>["failed"] = [];
  let ran = 0;
  let skipped = 0;
  let next = 0;
  const worker = async () => {
    while (next < list.length) {
      const read = list[next++]!;
      if (options.signal?.aborted) {
        skipped++;
        continue;
      }
      try {
        await run(client, read);
        ran++;
      } catch (error) {
        failed.push({ read, error });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, list.length) }, worker));
  // Reads return before their fills are answered: warming is done once they are.
  await stats?.settled?.();
  const filled = fillsBefore === undefined ? undefined : stats!.stats().fills - fillsBefore;
  return { ran, filled, failed, skipped };
}

function run<Client extends object>(client: Client, read: WarmRead<Client>): Promise<unknown> {
  if (typeof read === "function") return read(client);
  if (!READ_OPERATIONS.has(read.operation)) return Promise.reject(new RangeError(`warm(): ${read.operation} is not a read operation`));
  const delegate = (client as Record<string, unknown>)[read.model.charAt(0).toLowerCase() + read.model.slice(1)] as Record<string, unknown> | undefined;
  const method = delegate?.[read.operation];
  if (typeof method !== "function") return Promise.reject(new RangeError(`warm(): the client has no ${read.model}.${read.operation}`));
  return Promise.resolve(method.call(delegate, read.args ?? {}));
}
