/**
 * Where the integration tests find Postgres and Redis.
 *
 * `DATABASE_URL` and `REDIS_URL` win. A service without a URL is started with testcontainers when a container
 * runtime answers; when neither is possible the run fails once, up front, with a message saying how to provide
 * the services, instead of every test file failing with ECONNREFUSED.
 */
import { execFile } from "node:child_process";
import { createRequire } from "node:module";

/** The services the integration tests run against. */
export interface Services {
  /** A Postgres URL whose user may create and drop databases. */
  databaseUrl: string;
  /** A Redis URL. Tests isolate their keys with unique prefixes, so a shared server is fine. */
  redisUrl: string;
  /** Which services were started as containers (empty when both came from the environment). */
  started: Array<"postgres" | "redis">;
  /** Stops the containers this call started; a no-op for services given by URL. */
  stop(): Promise<void>;
}

/** What `resolveServices` reads; injectable so the decision can be tested without touching the real environment. */
export interface ResolveServicesOptions {
  /** @default process.env */
  env?: Record<string, string | undefined>;
  /** Reports whether containers can be started. @default isContainerRuntimeAvailable */
  containerRuntime?: () => Promise<ContainerRuntimeStatus>;
  /** Whether Postgres is needed: the MySQL and SQLite projects need only Redis (`databaseUrl` is then ""). @default true */
  postgres?: boolean;
}

/** Whether a container runtime answered, and if not, why (shown in the failure message). */
export type ContainerRuntimeStatus = { available: true } | { available: false; reason: string };

/** Images used when a service has to be started; pinned so runs are reproducible. */
export const CONTAINER_IMAGES = { postgres: "postgres:15-alpine", redis: "redis:7-alpine" } as const;

/** How long the runtime check may take before it counts as "no runtime". */
export const RUNTIME_CHECK_TIMEOUT_MS = 10_000;

/** The one message shown when a service has neither a URL nor a container runtime. */
export function missingServicesMessage(missing: string[], runtimeReason: string): string {
  return [
    `Integration tests need Postgres and Redis, but ${missing.join(" and ")} ${missing.length > 1 ? "are" : "is"} not set and no container runtime is available (${runtimeReason}).`,
    "Either point the tests at running services:",
    "  DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test REDIS_URL=redis://127.0.0.1:6379 npx vitest run --project integration",
    "(the Postgres user must be allowed to CREATE DATABASE), or start Docker so testcontainers can run them.",
    "`npx vitest run --project unit` needs no services.",
  ].join("\n");
}

/**
 * Resolves the service URLs, starting containers only for the services that have no URL.
 * Throws one error naming every missing variable when containers cannot be started.
 */
export async function resolveServices(options: ResolveServicesOptions = {}): Promise<Services> {
  const env = options.env ?? process.env;
  const needsPostgres = options.postgres ?? true;
  const databaseUrl = needsPostgres ? nonEmpty(env.DATABASE_URL) : "";
  const redisUrl = nonEmpty(env.REDIS_URL);
  if (databaseUrl !== undefined && redisUrl) {
    return { databaseUrl, redisUrl, started: [], stop: async () => {} };
  }

  const missing = [databaseUrl !== undefined ? null : "DATABASE_URL", redisUrl ? null : "REDIS_URL"].filter((name): name is string => name !== null);
  const runtime = await (options.containerRuntime ?? isContainerRuntimeAvailable)();
  if (!runtime.available) throw new Error(missingServicesMessage(missing, runtime.reason));

  const stops: Array<() => Promise<unknown>> = [];
  const stopAll = async () => {
    await Promise.allSettled(stops.map((stop) => stop()));
  };
  try {
    const started: Services["started"] = [];
    let resolvedDatabaseUrl = databaseUrl;
    let resolvedRedisUrl = redisUrl;
    if (resolvedDatabaseUrl === undefined) {
      const { PostgreSqlContainer } = await import("@testcontainers/postgresql");
      const container = await new PostgreSqlContainer(CONTAINER_IMAGES.postgres).withDatabase("test").withUsername("postgres").withPassword("postgres").start();
      stops.push(() => container.stop());
      started.push("postgres");
      resolvedDatabaseUrl = container.getConnectionUri();
    }
    if (!resolvedRedisUrl) {
      const { RedisContainer } = await import("@testcontainers/redis");
      const container = await new RedisContainer(CONTAINER_IMAGES.redis).start();
      stops.push(() => container.stop());
      started.push("redis");
      resolvedRedisUrl = container.getConnectionUrl();
    }
    return { databaseUrl: resolvedDatabaseUrl, redisUrl: resolvedRedisUrl, started, stop: stopAll };
  } catch (error) {
    await stopAll();
    throw new Error(`Could not start ${missing.join(" and ")} with testcontainers. Set ${missing.join(" and ")} to running services instead.`, { cause: error });
  }
}

/**
 * Asks testcontainers itself whether it can reach a container runtime (Docker, Podman, DOCKER_HOST,
 * ~/.testcontainers.properties), bounded by a timeout so a wedged socket cannot hang the run.
 *
 * testcontainers 12 only loads on Node >= 22.22; on older Node, where it could not start containers anyway,
 * `docker info` decides which explanation the failure message gives.
 */
export async function isContainerRuntimeAvailable(timeoutMs: number = RUNTIME_CHECK_TIMEOUT_MS): Promise<ContainerRuntimeStatus> {
  let testcontainers: typeof import("testcontainers");
  try {
    testcontainers = await import("testcontainers");
  } catch (error) {
    const required = testcontainersNodeRange();
    const why = `testcontainers could not be loaded on Node ${process.versions.node}${required ? ` (it requires Node ${required})` : ""}: ${messageOf(error)}`;
    const engine = await dockerInfo(timeoutMs);
    return engine.ok ? { available: false, reason: `Docker answers, but ${why}` } : { available: false, reason: `${engine.reason}; ${why}` };
  }
  try {
    await withTimeout(testcontainers.getContainerRuntimeClient(), timeoutMs, "the container runtime check");
    return { available: true };
  } catch (error) {
    return { available: false, reason: messageOf(error) };
  }
}

/** Runs `docker info` with a deadline: the CLI may exist without an engine, and must then fail fast. */
export function dockerInfo(timeoutMs: number): Promise<{ ok: true } | { ok: false; reason: string }> {
  return new Promise((resolve) => {
    execFile("docker", ["info", "--format", "{{.ServerVersion}}"], { timeout: timeoutMs, killSignal: "SIGKILL" }, (error, stdout, stderr) => {
      if (!error && stdout.trim()) return resolve({ ok: true });
      const code = (error as NodeJS.ErrnoException | null)?.code;
      if (code === "ENOENT") return resolve({ ok: false, reason: "the docker CLI is not installed" });
      if (error?.killed) return resolve({ ok: false, reason: `docker info did not answer within ${timeoutMs} ms` });
      const detail = (stderr || stdout).trim().split("\n")[0] ?? "";
      resolve({ ok: false, reason: `docker info failed${detail ? `: ${detail}` : ""}` });
    });
  });
}

/** The Node range testcontainers declares, to explain a failed import in terms a user can act on. */
function testcontainersNodeRange(): string | undefined {
  try {
    const manifest = createRequire(import.meta.url)("testcontainers/package.json") as { engines?: { node?: string } };
    return manifest.engines?.node;
  } catch {
    return undefined;
  }
}

function withTimeout<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${timeoutMs} ms`)), timeoutMs);
    timer.unref();
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function nonEmpty(value: string | undefined): string | undefined {
  return value && value.trim() !== "" ? value.trim() : undefined;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
