import type pg from "pg";
import { pgNow } from "./pgoutput.ts";
import { quoteIdent } from "./publication.ts";

/**
 * One walsender session: a `pg` connection opened with `replication=database`, which creates a temporary logical
 * slot and streams it (the streaming replication protocol's CopyBoth mode). A temporary slot belongs to the session
 * that created it, so creating and streaming must happen on this same connection; the server drops the slot when
 * the connection ends, however it ends, and never keeps WAL for a stopped app.
 *
 * `pg` is loaded when a session opens, so apps that never use the change feed do not need it installed.
 */

/** What the stream delivers: XLogData frames (a pgoutput message each) and the server's keepalives. */
export interface ReplicationHandler {
  /** `walEnd`: the server's current end of WAL; `payload`: one pgoutput message. */
  data(walStart: bigint, walEnd: bigint, payload: Buffer): void;
  /** The server's current end of WAL; `replyRequested`: it wants a status update now. */
  keepalive(walEnd: bigint, replyRequested: boolean): void;
}

/** pg's connection object, of which a replication stream needs only the raw CopyData writer. */
interface CopyConnection {
  sendCopyFromChunk(chunk: Buffer): void;
}

/** `pg`, loaded on first use (an optional peer dependency); its default export under ESM and CommonJS alike. */
export async function loadPg(): Promise<typeof pg> {
  const loaded = (await import("pg")) as unknown as { default?: typeof pg } & typeof pg;
  return loaded.default ?? loaded;
}

export class ReplicationConnection {
  private ended = false;

  private constructor(
    private readonly client: pg.Client,
    /** Set once the stream runs: sends CopyData frames to the server. */
    private connection: CopyConnection | undefined,
  ) {}

  /** Opens a walsender connection. */
  static async open(config: pg.ClientConfig): Promise<ReplicationConnection> {
    const pgModule = await loadPg();
    const client = new pgModule.Client({ ...config, replication: "database" } as pg.ClientConfig);
    // Failures reach the caller through the pending command or the stream; without a listener they would crash.
    client.on("error", () => {});
    await client.connect();
    return new ReplicationConnection(client, undefined);
  }

  /** The walsender's backend process id (what `pg_stat_replication.pid` shows). */
  get pid(): number | undefined {
    return (this.client as unknown as { processID?: number }).processID;
  }

  /** Creates a temporary `pgoutput` slot on this session; resolves to the LSN from which it streams consistently. */
  async createTemporarySlot(name: string): Promise<string> {
    // The pre-15 spelling, which 15+ still accepts: NOEXPORT_SNAPSHOT, since nothing reads the slot's snapshot.
    const result = await this.client.query<{ consistent_point: string }>(`CREATE_REPLICATION_SLOT ${quoteIdent(name)} TEMPORARY LOGICAL pgoutput NOEXPORT_SNAPSHOT`);
    const point = result.rows[0]?.consistent_point;
    if (point === undefined) throw new Error("CREATE_REPLICATION_SLOT returned no consistent point");
    return point;
  }

  /**
   * Streams the slot from `startLsn` until the connection ends: resolves when `close()` ended it, rejects with the
   * reason otherwise (the server terminated the backend, the network failed).
   */
  stream(slot: string, startLsn: string, options: { publication: string; messages: boolean }, handler: ReplicationHandler): Promise<void> {
    const pluginOptions = [`proto_version '1'`, `publication_names ${quoteLiteral(quoteIdent(options.publication))}`];
    if (options.messages) pluginOptions.push(`messages 'true'`);
    const command = `START_REPLICATION SLOT ${quoteIdent(slot)} LOGICAL ${startLsn} (${pluginOptions.join(", ")})`;
    return new Promise<void>((resolve, reject) => {
      const finish = (error?: unknown) => (this.ended ? resolve() : reject(error ?? new Error("the replication stream ended")));
      // A pg "submittable": pg hands it every backend message while it is the active command, which for
      // START_REPLICATION lasts as long as the stream.
      const submittable = {
        submit: (connection: CopyConnection & { query(text: string): void }) => {
          this.connection = connection;
          connection.query(command);
        },
        handleCopyData: (message: { chunk: Buffer }) => {
          const frame = message.chunk;
          if (frame[0] === 0x77) handler.data(frame.readBigUInt64BE(1), frame.readBigUInt64BE(9), frame.subarray(25));
          else if (frame[0] === 0x6b) handler.keepalive(frame.readBigUInt64BE(1), frame[17] === 1);
        },
        handleError: (error: unknown) => finish(error),
        handleReadyForQuery: () => finish(),
        handleCommandComplete: () => {},
        handleRowDescription: () => {},
        handleDataRow: () => {},
        handleEmptyQuery: () => {},
        handlePortalSuspended: () => {},
        handleCopyInResponse: () => {},
      };
      this.client.once("end", () => finish(new Error("the replication connection closed")));
      this.client.query(submittable as unknown as pg.QueryConfig);
    });
  }

  /**
   * A standby status update: everything up to `lsn` is applied, so the server may recycle the WAL before it.
   * `replyRequested` asks for a keepalive at once (which carries the server's end of WAL).
   */
  sendStatus(lsn: bigint, replyRequested = false): void {
    if (this.connection === undefined || this.ended) return;
    const frame = Buffer.alloc(34);
    frame[0] = 0x72; // 'r'
    frame.writeBigUInt64BE(lsn, 1); // written
    frame.writeBigUInt64BE(lsn, 9); // flushed
    frame.writeBigUInt64BE(lsn, 17); // applied
    frame.writeBigInt64BE(pgNow(), 25);
    frame[33] = replyRequested ? 1 : 0;
    this.connection.sendCopyFromChunk(frame);
  }

  /** Ends the session; the server drops its temporary slot. */
  async close(): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    try {
      await Promise.race([this.client.end(), new Promise((resolve) => setTimeout(resolve, 2_000).unref())]);
    } catch {
      // Already gone.
    }
  }
}

function quoteLiteral(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}
