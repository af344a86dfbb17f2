/**
 * In-memory collectors for the plugin's diagnostics channels: what a subscriber received, in order, for tests to
 * assert on (never by reading logs).
 */
import { channel, tracingChannel } from "node:diagnostics_channel";
import { CHANNEL_NAMES } from "../../src/index.ts";

/** One message as received: the channel (`read:start`, `stale`, ...) and its payload (the same object each phase). */
export interface Received {
  on: string;
  // biome-ignore lint/suspicious/noExplicitAny: payloads differ per channel; tests read the fields they assert on
  message: any;
}

export interface Collector {
  readonly received: Received[];
  /** Payloads received on `on` (`read:asyncEnd`, `bus`, ...). */
  // biome-ignore lint/suspicious/noExplicitAny: as above
  of(on: string): any[];
  clear(): void;
  close(): void;
}

const TRACED = ["read", "fill", "invalidate"] as const;
const PLAIN = ["stale", "refresh", "fillRefused", "breaker", "bus", "degraded", "error"] as const;
const PHASES = ["start", "end", "asyncStart", "asyncEnd", "error"] as const;

/** Subscribes to every channel of the plugin. `keep` filters what is kept (e.g. by key prefix). */
export function collectChannels(keep: (on: string, message: unknown) => boolean = () => true): Collector {
  const received: Received[] = [];
  const undo: (() => void)[] = [];
  for (const name of TRACED) {
    const traced = tracingChannel(CHANNEL_NAMES[name]);
    for (const phase of PHASES) {
      const on = `${name}:${phase}`;
      const listener = (message: unknown) => {
        if (keep(on, message)) received.push({ on, message });
      };
      traced[phase].subscribe(listener);
      undo.push(() => traced[phase].unsubscribe(listener));
    }
  }
  for (const name of PLAIN) {
    const plain = channel(CHANNEL_NAMES[name]);
    const listener = (message: unknown) => {
      if (keep(name, message)) received.push({ on: name, message });
    };
    plain.subscribe(listener);
    undo.push(() => plain.unsubscribe(listener));
  }
  return {
    received,
    of: (on) => received.filter((one) => one.on === on).map((one) => one.message),
    clear: () => void received.splice(0),
    close: () => {
      for (const stop of undo) stop();
    },
  };
}

/** Keeps the messages of one namespace (their key or prefix contains it), and those that name none. */
export function inNamespace(prefix: string): (on: string, message: unknown) => boolean {
  return (_, message) => {
    const { key, prefix: own } = message as { key?: string | null; prefix?: string };
    if (typeof key === "string") return key.startsWith(`${prefix}:`);
    if (typeof own === "string") return own.startsWith(prefix);
    return true;
  };
}
