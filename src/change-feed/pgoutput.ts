/**
 * A decoder of Postgres's built-in logical decoding plugin, `pgoutput` (protocol version 1, text values, with
 * `messages 'true'`): the messages a replication stream carries inside its XLogData frames. Pure: bytes in, plain
 * objects out. Format: https://www.postgresql.org/docs/current/protocol-logicalrep-message-formats.html
 */

/** One column of a relation, as the Relation message describes it. */
export interface RelationColumn {
  name: string;
  /** Whether the column is part of the table's replica identity (its key, or every column with REPLICA IDENTITY FULL). */
  isKey: boolean;
  /** The column's type OID. */
  typeOid: number;
}

/** A table as the stream describes it, sent before the first change to it (and again after it changes). */
export interface Relation {
  id: number;
  schema: string;
  table: string;
  /** `d` default (primary key), `n` nothing, `f` full (every column), `i` an index. */
  replicaIdentity: "d" | "n" | "f" | "i";
  columns: RelationColumn[];
}

/**
 * A row's values in column order: the text of each value, `null` for SQL NULL, `undefined` for a value the stream
 * did not send (an unchanged TOASTed value, or a column outside the key of a key-only old row).
 */
export type Tuple = (string | null | undefined)[];

export type PgoutputMessage =
  | { type: "begin"; finalLsn: bigint; commitTime: Date; xid: number }
  | { type: "commit"; commitLsn: bigint; endLsn: bigint; commitTime: Date }
  | { type: "relation"; relation: Relation }
  | { type: "insert"; relationId: number; row: Tuple }
  | { type: "update"; relationId: number; old: Tuple | undefined; oldIsKeyOnly: boolean; row: Tuple }
  | { type: "delete"; relationId: number; old: Tuple; oldIsKeyOnly: boolean }
  | { type: "truncate"; relationIds: number[] }
  | { type: "message"; transactional: boolean; lsn: bigint; prefix: string; content: Buffer }
  | { type: "other"; tag: string };

/** Microseconds between the Unix epoch and Postgres's (2000-01-01), which replication timestamps count from. */
const PG_EPOCH_US = 946_684_800_000_000n;

/** A replication timestamp (microseconds since 2000-01-01) as a Date. */
export function pgTime(microseconds: bigint): Date {
  return new Date(Number((microseconds + PG_EPOCH_US) / 1000n));
}

/** Now, as a replication timestamp. */
export function pgNow(): bigint {
  return BigInt(Date.now()) * 1000n - PG_EPOCH_US;
}

/** An LSN as Postgres prints it (`16/B374D848`). */
export function formatLsn(lsn: bigint): string {
  return `${(lsn >> 32n).toString(16).toUpperCase()}/${(lsn & 0xffffffffn).toString(16).toUpperCase()}`;
}

/** Postgres's text form of an LSN as a number of bytes. */
export function parseLsn(text: string): bigint {
  const [high, low] = text.split("/");
  if (high === undefined || low === undefined || !/^[0-9A-Fa-f]+$/.test(high) || !/^[0-9A-Fa-f]+$/.test(low)) {
    throw new TypeError(`not an LSN: ${JSON.stringify(text)}`);
  }
  return (BigInt(`0x${high}`) << 32n) | BigInt(`0x${low}`);
}

/** Decodes one pgoutput message (the payload of an XLogData frame). */
export function decodePgoutput(data: Buffer): PgoutputMessage {
  const reader = new Reader(data);
  const tag = String.fromCharCode(reader.byte());
  switch (tag) {
    case "B":
      return { type: "begin", finalLsn: reader.int64(), commitTime: pgTime(reader.int64()), xid: reader.int32() };
    case "C":
      reader.byte(); // flags, unused
      return { type: "commit", commitLsn: reader.int64(), endLsn: reader.int64(), commitTime: pgTime(reader.int64()) };
    case "R":
      return { type: "relation", relation: relation(reader) };
    case "I": {
      const relationId = reader.int32();
      reader.byte(); // 'N'
      return { type: "insert", relationId, row: tuple(reader) };
    }
    case "U": {
      const relationId = reader.int32();
      let kind = String.fromCharCode(reader.byte());
      let old: Tuple | undefined;
      let oldIsKeyOnly = false;
      if (kind === "K" || kind === "O") {
        oldIsKeyOnly = kind === "K";
        old = tuple(reader);
        kind = String.fromCharCode(reader.byte());
      }
      return { type: "update", relationId, old, oldIsKeyOnly, row: tuple(reader) };
    }
    case "D": {
      const relationId = reader.int32();
      const kind = String.fromCharCode(reader.byte());
      return { type: "delete", relationId, oldIsKeyOnly: kind === "K", old: tuple(reader) };
    }
    case "T": {
      const count = reader.int32();
      reader.byte(); // options: CASCADE / RESTART IDENTITY
      const relationIds: number[] = [];
      for (let i = 0; i < count; i++) relationIds.push(reader.int32());
      return { type: "truncate", relationIds };
    }
    case "M": {
      const transactional = reader.byte() === 1;
      const lsn = reader.int64();
      const prefix = reader.cstring();
      const length = reader.int32();
      return { type: "message", transactional, lsn, prefix, content: reader.bytes(length) };
    }
    default:
      // Origin, Type: nothing to invalidate.
      return { type: "other", tag };
  }
}

function relation(reader: Reader): Relation {
  const id = reader.int32();
  const schema = reader.cstring() || "pg_catalog";
  const table = reader.cstring();
  const replicaIdentity = String.fromCharCode(reader.byte()) as Relation["replicaIdentity"];
  const count = reader.int16();
  const columns: RelationColumn[] = [];
  for (let i = 0; i < count; i++) {
    const isKey = (reader.byte() & 1) === 1;
    const name = reader.cstring();
    const typeOid = reader.int32();
    reader.int32(); // type modifier
    columns.push({ name, isKey, typeOid });
  }
  return { id, schema, table, replicaIdentity, columns };
}

function tuple(reader: Reader): Tuple {
  const count = reader.int16();
  const values: Tuple = [];
  for (let i = 0; i < count; i++) {
    const kind = String.fromCharCode(reader.byte());
    if (kind === "n") values.push(null);
    else if (kind === "u") values.push(undefined);
    else values.push(reader.bytes(reader.int32()).toString("utf8")); // 't' (text); 'b' needs the binary option
  }
  return values;
}

class Reader {
  private offset = 0;
  constructor(private readonly data: Buffer) {}

  byte(): number {
    this.need(1);
    return this.data[this.offset++]!;
  }

  int16(): number {
    this.need(2);
    const value = this.data.readUInt16BE(this.offset);
    this.offset += 2;
    return value;
  }

  int32(): number {
    this.need(4);
    const value = this.data.readUInt32BE(this.offset);
    this.offset += 4;
    return value;
  }

  int64(): bigint {
    this.need(8);
    const value = this.data.readBigUInt64BE(this.offset);
    this.offset += 8;
    return value;
  }

  cstring(): string {
    const end = this.data.indexOf(0, this.offset);
    if (end < 0) throw new RangeError("pgoutput: unterminated string");
    const text = this.data.toString("utf8", this.offset, end);
    this.offset = end + 1;
    return text;
  }

  bytes(length: number): Buffer {
    this.need(length);
    const value = this.data.subarray(this.offset, this.offset + length);
    this.offset += length;
    return value;
  }

  private need(length: number): void {
    if (this.offset + length > this.data.length) throw new RangeError("pgoutput: message ends early");
  }
}
