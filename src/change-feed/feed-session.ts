import type pg from "pg";
import { coarsen, type ChangeStamps } from "./change-stamps.ts";
import { decodePgoutput, parseLsn, type Relation } from "./pgoutput.ts";
import { ensurePublication, type PublicationResult } from "./publication.ts";
import { loadPg, ReplicationConnection } from "./replication-connection.ts";

/**
 * One connected session of the change feed, from connecting to the stream's end: set up the publication, create a
 * temporary slot, advance every model's stamps (changes before the slot's consistent point are lost to us), then
 * stream: collect each transaction's stamps and advance them once it commits (rolled-back transactions never
 * reach the stream), coalescing commits that arrive while a previous advance is in flight.
 */

/** Heartbeats carry this prefix; other feeds on the same database ignore ours (and we theirs) by slot name. */
export const HEARTBEAT_PREFIX = "prisma-cache-plugin";

/** A transaction (or the pending batch) with more row stamps than this advances its models' unique lookups instead. */
const MAX_ROW_STAMPS = 10_000;
/** How often the server hears how far the feed got, in milliseconds (it drops the connection after `wal_sender_timeout`). */
const STATUS_INTERVAL_MS = 1_000;

export interface SessionConfig {
  client: pg.ClientConfig;
  publication: string;
  slot: string;
  heartbeatMs: number;
  stamps: ChangeStamps;
  advance(stamps: Iterable<string>): Promise<void>;
}

/** Counters the session adds to; the feed reports them. */
export interface SessionCounters {
  changes: number;
  transactions: number;
  stampsAdvanced: number;
  lagBytes: number | undefined;
  heartbeatLagMs: number | undefined;
  commitLagMs: number | undefined;
}

/** Why a session ended before or while streaming. */
export class SessionFailure extends Error {
  constructor(
    readonly phase: "setup" | "stream",
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

export class FeedSession {
  private control: pg.Client | undefined;
  private replication: ReplicationConnection | undefined;
  private aborted = false;
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly relations = new Map<number, Relation>();
  /** Stamps of the open transaction. */
  private transaction: Set<string> | undefined;
  /** Committed, not yet advanced. */
  private pending = new Set<string>();
  private pendingLsn = 0n;
  private pendingCommitTime = 0;
  private advancing = false;
  /** Everything up to here has been applied (or needed nothing). */
  private appliedLsn = 0n;
  private heartbeatSentAt = new Map<string, number>();
  private heartbeatBusy = false;
  private heartbeatFailed = false;
  /** Ends the stream with an error found while handling it (a message that cannot be decoded). */
  private breakStream: (error: unknown) => void = () => {};

  constructor(
    private readonly config: SessionConfig,
    private readonly counters: SessionCounters,
    /** Called once the stream runs. */
    private readonly onStreaming: () => void,
    /** Reports a non-fatal problem (a table that cannot be published, heartbeats refused). */
    private readonly onWarning: (message: string, cause?: unknown) => void,
  ) {}

  /** Runs until `abort()` (resolves) or a failure (rejects with a `SessionFailure`). */
  async run(): Promise<void> {
    const pgModule = await loadPg();
    let startLsn: string;
    let messages: boolean;
    try {
      const control = new pgModule.Client(this.config.client);
      control.on("error", () => {});
      this.control = control;
      await control.connect();
      const version = Number((await control.query<{ server_version_num: string }>("SHOW server_version_num")).rows[0]?.server_version_num);
      // pgoutput carries logical messages (our heartbeats) from Postgres 14 on.
      messages = version >= 140_000 && this.config.heartbeatMs > 0;
      const publication = await ensurePublication(control, this.config.publication, this.config.stamps.watched);
      this.warnSkipped(publication);
      if (publication.published.length === 0) throw new Error("none of the cached models' tables can be published");
      if (this.aborted) return;
      this.replication = await ReplicationConnection.open(this.config.client);
      if (this.aborted) return;
      startLsn = await this.replication.createTemporarySlot(this.config.slot);
      this.appliedLsn = parseLsn(startLsn);
      // Changes committed before the slot's consistent point were never seen: treat every model as changed.
      await this.config.advance(this.config.stamps.everything());
    } catch (error) {
      if (this.aborted) return;
      throw new SessionFailure("setup", describe(error), { cause: error });
    }
    if (this.aborted) return;
    this.every(STATUS_INTERVAL_MS, () => this.replication?.sendStatus(this.appliedLsn));
    if (messages) this.every(this.config.heartbeatMs, () => void this.heartbeat());
    const streaming = this.replication.stream(
      this.config.slot,
      startLsn,
      { publication: this.config.publication, messages },
      {
        data: (_start, _end, payload) => {
          try {
            this.receive(payload);
          } catch (error) {
            this.breakStream(error);
          }
        },
        keepalive: (walEnd, replyRequested) => {
          // Nothing open or in flight: the server has sent everything up to walEnd, and none of it needed stamps.
          if (this.transaction === undefined && !this.advancing && this.pending.size === 0 && walEnd > this.appliedLsn) this.appliedLsn = walEnd;
          if (replyRequested) this.replication?.sendStatus(this.appliedLsn);
        },
      },
    );
    const broken = new Promise<never>((_, reject) => (this.breakStream = reject));
    this.onStreaming();
    try {
      await Promise.race([streaming, broken]);
    } catch (error) {
      if (!this.aborted) throw new SessionFailure("stream", describe(error), { cause: error });
    }
  }

  /** Ends the session: closes both connections (the server drops the slot with its connection). */
  async abort(): Promise<void> {
    this.aborted = true;
    for (const timer of this.timers) clearInterval(timer);
    await Promise.all([this.replication?.close(), this.control?.end().catch(() => {})]);
  }

  /** The walsender's backend pid, while connected. */
  get backendPid(): number | undefined {
    return this.replication?.pid;
  }

  private receive(payload: Buffer): void {
    const message = decodePgoutput(payload);
    const stamps = this.config.stamps;
    switch (message.type) {
      case "begin":
        this.transaction = new Set();
        return;
      case "relation":
        this.relations.set(message.relation.id, message.relation);
        return;
      case "commit":
        this.counters.transactions++;
        this.commit(this.transaction ?? new Set(), message.endLsn, message.commitTime.getTime());
        this.transaction = undefined;
        return;
      case "message":
        this.heartbeatReceived(message.prefix, message.content.toString("utf8"));
        if (!message.transactional && this.pending.size === 0 && !this.advancing && message.lsn > this.appliedLsn) this.appliedLsn = message.lsn;
        return;
      case "other":
        return;
    }
    const into = this.transaction ?? (this.transaction = new Set());
    this.counters.changes++;
    if (message.type === "truncate") {
      for (const id of message.relationIds) {
        const relation = this.relations.get(id);
        if (relation) stamps.truncate(relation, into);
      }
    } else {
      const relation = this.relations.get(message.relationId);
      // pgoutput sends a table's Relation before its first change on a connection; a missing one is a protocol error.
      if (relation === undefined) throw new Error(`pgoutput: change to unknown relation ${message.relationId}`);
      if (message.type === "insert") stamps.insert(relation, message.row, into);
      else if (message.type === "update") stamps.update(relation, message.old, message.oldIsKeyOnly, message.row, into);
      else stamps.delete(relation, message.old, message.oldIsKeyOnly, into);
    }
    if (into.size > MAX_ROW_STAMPS) coarsen(into);
  }

  private commit(stamps: Set<string>, endLsn: bigint, commitTime: number): void {
    if (stamps.size === 0) {
      if (this.pending.size === 0 && !this.advancing) this.appliedLsn = endLsn;
      else this.pendingLsn = endLsn;
      return;
    }
    for (const stamp of stamps) this.pending.add(stamp);
    if (this.pending.size > MAX_ROW_STAMPS) coarsen(this.pending);
    this.pendingLsn = endLsn;
    this.pendingCommitTime = commitTime;
    void this.advancePending();
  }

  /** Advances what is pending; commits arriving meanwhile go into the next batch. */
  private async advancePending(): Promise<void> {
    if (this.advancing) return;
    this.advancing = true;
    try {
      while (this.pending.size > 0 && !this.aborted) {
        const batch = this.pending;
        const lsn = this.pendingLsn;
        const committedAt = this.pendingCommitTime;
        this.pending = new Set();
        await this.config.advance(batch);
        this.counters.stampsAdvanced += batch.size;
        this.counters.commitLagMs = Date.now() - committedAt;
        if (lsn > this.appliedLsn) this.appliedLsn = lsn;
      }
    } finally {
      this.advancing = false;
    }
  }

  /** Emits a heartbeat into the WAL and samples how far behind the server's end of WAL the feed is. */
  private async heartbeat(): Promise<void> {
    const control = this.control;
    if (this.heartbeatBusy || control === undefined) return;
    this.heartbeatBusy = true;
    const content = `${this.config.slot} ${Date.now()}`;
    this.heartbeatSentAt.set(content, performance.now());
    try {
      const { rows } = await control.query<{ current: string }>("SELECT pg_current_wal_lsn()::text AS current, pg_logical_emit_message(false, $1, $2)", [
        HEARTBEAT_PREFIX,
        content,
      ]);
      const behind = parseLsn(rows[0]!.current) - this.appliedLsn;
      this.counters.lagBytes = behind > 0n ? Number(behind) : 0;
    } catch (error) {
      this.heartbeatSentAt.delete(content);
      if (!this.heartbeatFailed && !this.aborted) this.onWarning("heartbeats failed; lag is not measured", error);
      this.heartbeatFailed = true;
    } finally {
      this.heartbeatBusy = false;
      // Unanswered heartbeats (lost with a restarted stream) must not accumulate.
      if (this.heartbeatSentAt.size > 100) this.heartbeatSentAt.clear();
    }
  }

  private heartbeatReceived(prefix: string, content: string): void {
    if (prefix !== HEARTBEAT_PREFIX) return;
    const sentAt = this.heartbeatSentAt.get(content);
    if (sentAt === undefined) return;
    this.heartbeatSentAt.delete(content);
    this.counters.heartbeatLagMs = performance.now() - sentAt;
  }

  private warnSkipped(result: PublicationResult): void {
    if (result.skipped.length === 0) return;
    const list = result.skipped.map(({ table, reason }) => `${table} (${reason})`).join(", ");
    this.onWarning(`not watching ${list}: writes to them outside this client are bounded by the TTL only`);
  }

  private every(ms: number, fn: () => void): void {
    const timer = setInterval(fn, ms);
    timer.unref();
    this.timers.push(timer);
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
