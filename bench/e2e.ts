/**
 * 8. End to end: the Fastify app of bench/e2e-app.ts in a process of its own, under autocannon (32 connections,
 * Zipf(1.0) ids, 90% GET / 10% POST), without the plugin, with redisStore, with tieredStore and with tieredStore and
 * write-through; then the harness's
 * ceiling (a route answering without the database), which bounds what any cache can show here.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import autocannon from "autocannon";
import { zipf } from "./zipf.ts";

export interface EndToEndRun {
  store: string;
  requestsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  non2xx: number;
}

/** Runs the five configurations one after another, each for `durationMs` after a short warm-up. */
export async function endToEnd(options: { databaseUrl: string; redisUrl: string; ids: number[]; prefix: string; durationMs: number; port: number }): Promise<EndToEndRun[]> {
  const runs: EndToEndRun[] = [];
  for (const [i, store] of (["none", "redis", "tiered", "tiered-wt", "ceiling"] as const).entries()) {
    const port = options.port + i;
    const app = await start(store === "ceiling" ? "none" : store, port, options);
    try {
      const sample = zipf(options.ids.length, 1.0, Math.random);
      const load = (ms: number) =>
        autocannon({
          url: `http://127.0.0.1:${port}`,
          connections: 32,
          duration: ms / 1000,
          requests: [
            {
              setupRequest: (request) => {
                const id = options.ids[sample()]!;
                if (store === "ceiling") return { ...request, method: "GET", path: `/ceiling/${id}` };
                return Math.random() < 0.9 ? { ...request, method: "GET", path: `/posts/${id}` } : { ...request, method: "POST", path: `/posts/${id}/view` };
              },
            },
          ],
        });
      await load(Math.min(3_000, options.durationMs / 2)); // warm-up: the cache's steady state
      const result = await load(options.durationMs);
      runs.push({
        store,
        requestsPerSec: Math.round(result.requests.average),
        p50Ms: result.latency.p50,
        p99Ms: result.latency.p99,
        errors: result.errors,
        non2xx: result.non2xx,
      });
    } finally {
      app.kill("SIGTERM");
      await once(app, "exit");
    }
  }
  return runs;
}

async function start(store: string, port: number, options: { databaseUrl: string; redisUrl: string; prefix: string }): Promise<ChildProcess> {
  const app = spawn(process.execPath, ["--import", "tsx", new URL("./e2e-app.ts", import.meta.url).pathname], {
    env: { ...process.env, DATABASE_URL: options.databaseUrl, REDIS_URL: options.redisUrl, PORT: String(port), E2E_STORE: store, E2E_PREFIX: `${options.prefix}_e2e_${store}` },
    stdio: ["ignore", "pipe", "inherit"],
  });
  let output = "";
  app.stdout!.setEncoding("utf8");
  await new Promise<void>((resolve, reject) => {
    app.stdout!.on("data", (chunk: string) => {
      output += chunk;
      if (output.includes("listening")) resolve();
    });
    app.once("exit", (code) => reject(new Error(`the e2e app (${store}) exited with ${code} before listening`)));
  });
  return app;
}
