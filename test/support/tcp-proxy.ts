/**
 * A TCP proxy in front of a server (Redis here) for outage tests: it can delay each direction, cut every
 * connection, black-hole (keep connections open and accept new ones, but forward nothing: a partition with TCP up),
 * and pause/resume (hold bytes, then deliver them in order).
 */
import { once } from "node:events";
import { connect, createServer, type Socket } from "node:net";

export interface TcpProxy {
  /** The proxy's port on 127.0.0.1. */
  readonly port: number;
  /** Connections currently open through the proxy. */
  readonly connections: number;
  /** Adds `ms` of latency to bytes from client to server (`up`) and from server to client (`down`). */
  setLatency(latency: { up?: number; down?: number }): void;
  /** Destroys every open connection (clients see a reset); new ones are still accepted. */
  cutAll(): void;
  /** Refuses new connections (closed at once) until `unblock()`. */
  block(): void;
  unblock(): void;
  /** Accepts connections and reads from them, but never forwards a byte, until `heal()`; what it swallowed is lost. */
  blackHole(): void;
  heal(): void;
  /** Holds every byte (both directions) until `resume()`, which delivers them in order. */
  pause(): void;
  resume(): void;
  close(): Promise<void>;
}

/** One direction of one connection: delays, holds or drops chunks, keeping their order. */
class Pipe {
  private readonly queue: { chunk: Buffer; at: number }[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly to: Socket,
    private readonly state: { latency: () => number; paused: () => boolean; dropping: () => boolean },
  ) {}

  push(chunk: Buffer): void {
    if (this.state.dropping()) return;
    this.queue.push({ chunk, at: Date.now() + this.state.latency() });
    this.flush();
  }

  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.state.paused()) return;
    const now = Date.now();
    while (this.queue.length > 0 && this.queue[0]!.at <= now) {
      const { chunk } = this.queue.shift()!;
      if (!this.to.destroyed) this.to.write(chunk);
    }
    if (this.queue.length > 0) this.timer = setTimeout(() => this.flush(), this.queue[0]!.at - now);
  }

  drop(): void {
    this.queue.length = 0;
  }

  stop(): void {
    clearTimeout(this.timer);
    this.queue.length = 0;
  }
}

export async function startTcpProxy(targetPort: number, options: { port?: number; targetHost?: string } = {}): Promise<TcpProxy> {
  let up = 0;
  let down = 0;
  let blocked = false;
  let paused = false;
  let holed = false;
  const links = new Set<{ sockets: Socket[]; pipes: Pipe[] }>();

  const server = createServer((client) => {
    if (blocked) {
      client.destroy();
      return;
    }
    const target = connect(targetPort, options.targetHost ?? "127.0.0.1");
    const toServer = new Pipe(target, { latency: () => up, paused: () => paused, dropping: () => holed });
    const toClient = new Pipe(client, { latency: () => down, paused: () => paused, dropping: () => holed });
    const link = { sockets: [client, target], pipes: [toServer, toClient] };
    links.add(link);
    const end = () => {
      if (!links.delete(link)) return;
      toServer.stop();
      toClient.stop();
      client.destroy();
      target.destroy();
    };
    client.on("data", (chunk: Buffer) => toServer.push(chunk));
    target.on("data", (chunk: Buffer) => toClient.push(chunk));
    for (const socket of [client, target]) socket.on("error", end).on("close", end);
  });
  server.listen(options.port ?? 0, "127.0.0.1");
  await once(server, "listening");
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("the proxy has no port");

  const destroyAll = () => {
    for (const link of [...links]) for (const socket of link.sockets) socket.destroy();
  };
  return {
    port: address.port,
    get connections() {
      return links.size;
    },
    setLatency(latency) {
      up = latency.up ?? up;
      down = latency.down ?? down;
    },
    cutAll: destroyAll,
    block() {
      blocked = true;
    },
    unblock() {
      blocked = false;
    },
    blackHole() {
      holed = true;
      for (const link of links) for (const pipe of link.pipes) pipe.drop();
    },
    heal() {
      holed = false;
    },
    pause() {
      paused = true;
    },
    resume() {
      paused = false;
      for (const link of links) for (const pipe of link.pipes) pipe.flush();
    },
    async close() {
      destroyAll();
      server.close();
      await once(server, "close");
    },
  };
}
