/**
 * A private Postgres server for tests that need server settings the shared one must keep (`wal_level=logical`):
 * Debian's binaries, a data directory under the OS temp dir, a loopback port, trust auth. `initdb` and `pg_ctl`
 * refuse root, so they run as the `postgres` user when the tests run as root. Stopped (and its directory removed)
 * by `stop()`; a process exit stops it too.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, chownSync, existsSync } from "node:fs";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import pg from "pg";
import { MIGRATIONS_DIR } from "./global-setup.ts";

const run = promisify(execFile);
const BIN = "/usr/lib/postgresql/15/bin";

export interface PrivatePostgres {
  port: number;
  /** `postgresql://postgres@127.0.0.1:<port>/<database>` */
  url(database?: string): string;
  /** The postmaster's process id. */
  pid: number;
  stop(): Promise<void>;
}

export interface PrivatePostgresOptions {
  port: number;
  /** @default "logical" */
  walLevel?: "logical" | "replica" | "minimal";
}

const running = new Map<string, number>();
process.once("exit", () => {
  for (const pid of running.values()) {
    try {
      process.kill(pid, "SIGQUIT"); // immediate shutdown
    } catch {
      // already gone
    }
  }
});

export async function startPrivatePostgres(options: PrivatePostgresOptions): Promise<PrivatePostgres> {
  const dir = mkdtempSync(join(tmpdir(), `pcp-pg-${options.port}-`));
  const data = join(dir, "data");
  const asRoot = userInfo().uid === 0;
  if (asRoot) {
    const { stdout } = await run("id", ["-u", "postgres"]);
    const { stdout: gid } = await run("id", ["-g", "postgres"]);
    chownSync(dir, Number(stdout.trim()), Number(gid.trim()));
  }
  const as = (command: string, args: string[]) => (asRoot ? run("runuser", ["-u", "postgres", "--", command, ...args]) : run(command, args));
  await as(`${BIN}/initdb`, ["-D", data, "-A", "trust", "-U", "postgres", "--no-sync"]);
  const settings = [
    `-p ${options.port}`,
    `-k ${dir}`,
    "-c listen_addresses=127.0.0.1",
    `-c wal_level=${options.walLevel ?? "logical"}`,
    ...(options.walLevel === "minimal" ? ["-c max_wal_senders=0"] : []),
    "-c fsync=off",
    "-c max_connections=60",
  ].join(" ");
  await as(`${BIN}/pg_ctl`, ["-D", data, "-o", settings, "-l", join(dir, "log"), "-w", "-t", "60", "start"]);
  const pid = Number(readFileSync(join(data, "postmaster.pid"), "utf8").split("\n")[0]);
  running.set(dir, pid);
  let stopped = false;
  return {
    port: options.port,
    pid,
    url: (database = "postgres") => `postgresql://postgres@127.0.0.1:${options.port}/${database}`,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      try {
        await as(`${BIN}/pg_ctl`, ["-D", data, "-m", "fast", "-w", "-t", "30", "stop"]);
      } catch {
        try {
          process.kill(pid, "SIGQUIT");
        } catch {
          // already gone
        }
      }
      running.delete(dir);
      if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Creates `database` on the server and applies the test bed's migrations to it. */
export async function createMigratedDatabase(server: PrivatePostgres, database: string): Promise<string> {
  const admin = new pg.Client({ connectionString: server.url() });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${pg.escapeIdentifier(database)}`);
  } finally {
    await admin.end();
  }
  const client = new pg.Client({ connectionString: server.url(database) });
  await client.connect();
  try {
    for (const name of readdirSync(MIGRATIONS_DIR).sort()) {
      const file = join(MIGRATIONS_DIR, name, "migration.sql");
      if (existsSync(file)) await client.query(readFileSync(file, "utf8"));
    }
  } finally {
    await client.end();
  }
  return server.url(database);
}
