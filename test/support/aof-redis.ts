/**
 * A private `redis-server` that persists every write before answering (`appendonly yes`, `appendfsync always`) in
 * its own temp dir, on a port from the range this suite may use (7200–7219). `kill()` is SIGKILL (no chance to
 * save anything more) and `start()` brings it back on the same dir and port, replaying the append-only file.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
// A server still loading its AOF answers -LOADING, which answersPing counts as not ready.
import { answersPing } from "./redis.ts";

export interface AofRedis {
  url: string;
  port: number;
  dir: string;
  /** Starts the server (again) on the same dir and port; resolves once it answers PING with its data loaded. */
  start(): Promise<void>;
  /** SIGKILL, and waits for the exit. */
  kill(): Promise<void>;
  /** Kills the server and removes its dir. */
  destroy(): Promise<void>;
}

const FIRST_PORT = 7200;
const LAST_PORT = 7219;

/** `persistence: false` starts the same server without AOF, to show what that loses. */
export async function startAofRedis(options: { persistence?: boolean } = {}): Promise<AofRedis> {
  const appendonly = options.persistence === false ? "no" : "yes";
  const dir = mkdtempSync(join(tmpdir(), "pcp-aof-"));
  let child: ChildProcess | undefined;
  let port = 0;
  const spawnOn = async (candidate: number): Promise<boolean> => {
    const proc = spawn("redis-server", ["--port", String(candidate), "--bind", "127.0.0.1", "--dir", dir, "--appendonly", appendonly, "--appendfsync", "always", "--save", ""], {
      stdio: "ignore",
    });
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline && proc.exitCode === null) {
      if (await answersPing(candidate, 500)) {
        child = proc;
        return true;
      }
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    if (proc.exitCode === null) proc.kill("SIGKILL");
    return false;
  };
  for (let candidate = FIRST_PORT; candidate <= LAST_PORT && child === undefined; candidate++) {
    // A port another helper's server holds answers PING already: skip it rather than share it.
    if (await answersPing(candidate, 500)) continue;
    if (await spawnOn(candidate)) port = candidate;
  }
  if (child === undefined) throw new Error(`no free port for a private redis-server in ${FIRST_PORT}–${LAST_PORT}`);
  const kill = async () => {
    const proc = child;
    child = undefined;
    if (proc === undefined || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = once(proc, "exit");
    proc.kill("SIGKILL");
    await exited;
  };
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    dir,
    start: async () => {
      if (child !== undefined) return;
      if (!(await spawnOn(port))) throw new Error(`redis-server did not restart on port ${port}`);
    },
    kill,
    destroy: async () => {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
