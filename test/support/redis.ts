/**
 * Redis for the integration tests: the shared server from global setup (keys isolated by prefix), and private
 * `redis-server` processes that a test may stop, restart or freeze to see how the cache behaves in an outage.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { createConnection, createServer } from "node:net";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis, type RedisOptions } from "ioredis";

// Only under vitest: `npm run bench` imports this module (through the coherence checker) outside of it, where
// importing vitest throws.
const { inject } = process.env.VITEST
  ? await import("vitest")
  : {
      inject: (): never => {
        throw new Error("redisUrl() needs vitest's global setup");
      },
    };

/** The shared Redis server's URL, as resolved by global setup. */
export function redisUrl(): string {
  return inject("redisUrl");
}

/** An ioredis client for `url` (the shared server by default). The caller closes it with `quit()` or `disconnect()`. */
export function createRedis(url: string = redisUrl(), options: RedisOptions = {}): Redis {
  return new Redis(url, options);
}

/**
 * A key prefix no other test file or run uses: `t_<name>_<random>`. `name` is reduced to `[a-z0-9]` so the prefix
 * needs no escaping in SCAN patterns or hash tags.
 */
export function uniquePrefix(name: string): string {
  const slug =
    name
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, "-")
      .replace(/^-+|-+$/g, "")
      .slice(0, 32) || "test";
  return `t_${slug}_${randomBytes(4).toString("hex")}`;
}

/**
 * Deletes every key starting with `prefix`, or with `{prefix}` (a hash-tagged layout such as `{prefix}:key`),
 * and returns how many were deleted. Uses SCAN and UNLINK so a large keyspace never blocks the server.
 */
export async function deleteKeysWithPrefix(redis: Redis, prefix: string): Promise<number> {
  let deleted = 0;
  for (const pattern of [`${escapeGlob(prefix)}*`, `{${escapeGlob(prefix)}}*`]) {
    let cursor = "0";
    do {
      const [next, keys] = await redis.scan(cursor, "MATCH", pattern, "COUNT", 500);
      cursor = next;
      if (keys.length > 0) deleted += await redis.unlink(...keys);
    } while (cursor !== "0");
  }
  return deleted;
}

/** A private `redis-server` process on a loopback port, with no persistence. */
export interface RedisServer {
  /** `redis://127.0.0.1:<port>`; stays the same across `restart()`. */
  url: string;
  port: number;
  /** The running process's id (changes on restart); undefined while stopped. */
  readonly pid: number | undefined;
  /** Stops the server and waits for the process to exit. Safe to call twice. */
  stop(): Promise<void>;
  /** Stops the server if it runs and starts an empty one on the same port, resolving once it answers PING. */
  restart(): Promise<void>;
  /** Freezes the process (SIGSTOP): connections stay open but nothing is answered, like a hung server. */
  pause(): void;
  /** Thaws a paused process (SIGCONT). */
  resume(): void;
  /** Kills the process at once (SIGKILL), as a crash would, and waits for it to exit. */
  kill(): Promise<void>;
}

/** Options for `startRedisServer`. */
export interface StartRedisServerOptions {
  /** How long to wait for the server to answer PING, in milliseconds. @default 10_000 */
  startTimeoutMs?: number;
  /** Extra `redis-server` arguments, e.g. `["--maxmemory", "1mb"]`. */
  args?: string[];
  /** A fixed port (a test's private range) instead of a free one. */
  port?: number;
  /** Working directory (dump files, cluster config). @default a fresh temp dir */
  dir?: string;
}

const running = new Set<ChildProcess>();
process.once("exit", () => {
  // A test that forgot stop() must not leave a redis-server behind; SIGKILL also ends a paused process.
  for (const child of running) child.kill("SIGKILL");
});

/**
 * Starts a `redis-server` on a free loopback port and resolves once it answers PING.
 * Requires the `redis-server` binary on PATH.
 */
export async function startRedisServer(options: StartRedisServerOptions = {}): Promise<RedisServer> {
  const startTimeoutMs = options.startTimeoutMs ?? 10_000;
  const extraArgs = options.args ?? [];

  // The free port is found by binding port 0 and releasing it, so another process can take it before
  // redis-server binds; a few fresh ports make that race harmless.
  const dir = options.dir ?? (await mkdtemp(join(tmpdir(), "redis-")));
  let port = 0;
  let child: ChildProcess | undefined;
  let lastError: unknown;
  for (let attempt = 0; attempt < 3 && !child; attempt++) {
    port = options.port ?? (await freePort());
    try {
      child = await spawnRedis(port, extraArgs, startTimeoutMs, dir);
    } catch (error) {
      lastError = error;
    }
  }
  if (!child) throw lastError;

  let current: ChildProcess | undefined = child;
  const stop = async () => {
    const proc = current;
    current = undefined;
    if (proc) await terminate(proc);
  };
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    get pid() {
      return current?.pid;
    },
    stop,
    restart: async () => {
      await stop();
      current = await spawnRedis(port, extraArgs, startTimeoutMs, dir);
    },
    pause: () => {
      if (!current) throw new Error(`redis-server on port ${port} is not running; cannot pause it.`);
      current.kill("SIGSTOP");
    },
    resume: () => {
      current?.kill("SIGCONT");
    },
    kill: async () => {
      const proc = current;
      current = undefined;
      if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
      const exited = once(proc, "exit");
      proc.kill("SIGKILL");
      await exited;
    },
  };
}

/** Spawns `redis-server` on `port` and waits until it answers PING, or kills it and throws with its output. */
async function spawnRedis(port: number, extraArgs: string[], startTimeoutMs: number, dir: string): Promise<ChildProcess> {
  const args = ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir, ...extraArgs];
  const child = spawn("redis-server", args, { stdio: ["ignore", "pipe", "pipe"] });
  running.add(child);
  child.once("exit", () => running.delete(child));
  let output = "";
  const collect = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4_000);
  };
  child.stdout?.on("data", collect);
  child.stderr?.on("data", collect);
  let spawnError: Error | undefined;
  child.once("error", (error) => {
    spawnError = error;
  });

  const deadline = Date.now() + startTimeoutMs;
  while (Date.now() < deadline) {
    if (spawnError) break;
    if (child.exitCode !== null || child.signalCode !== null) break;
    if (await answersPing(port, Math.min(500, Math.max(1, deadline - Date.now())))) return child;
    await delay(25);
  }
  await terminate(child);
  const why = spawnError ? spawnError.message : child.exitCode !== null ? `exited with code ${child.exitCode}` : `did not answer PING within ${startTimeoutMs} ms`;
  throw new Error(`redis-server on port ${port} ${why}.\n${output.trim()}`, { cause: spawnError });
}

/** Sends an inline PING over a raw socket: unlike ioredis it neither retries nor queues. */
export function answersPing(port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: "127.0.0.1", port });
    let reply = "";
    const finish = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => finish(false));
    socket.once("error", () => finish(false));
    socket.once("connect", () => socket.write("PING\r\n"));
    socket.on("data", (chunk) => {
      reply += chunk.toString();
      if (reply.includes("\r\n")) finish(reply.startsWith("+PONG"));
    });
  });
}

/** Ends the process, waking it first if paused (a stopped process would not act on SIGTERM). */
async function terminate(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, "exit");
  child.kill("SIGCONT");
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
  try {
    await exited;
  } finally {
    clearTimeout(timer);
  }
}

/** A port that was free a moment ago on 127.0.0.1. */
async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const address = server.address();
  server.close();
  await once(server, "close");
  if (address === null || typeof address === "string") throw new Error("Could not read the port of a probe socket.");
  return address.port;
}

/** Escapes the characters SCAN's glob treats specially (braces are literal there). */
function escapeGlob(text: string): string {
  return text.replace(/[\\*?[\]]/g, (char) => `\\${char}`);
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
