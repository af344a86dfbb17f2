/**
 * Loads in flight in this process, by entry key and fence: concurrent misses of one key under one fence share one
 * database read. Same key and same fence means no write was applied since that load began, so its result is as
 * fresh as a new one would be.
 */

/** A load's outcome, shared by every read that joined it. */
export interface Flight {
  result: unknown;
  /** The result's encoding, which joiners decode into their own copy; undefined if it could not be encoded. */
  encoded: string | undefined;
  /** The fill of the result, while it is being stored: later misses of the entry still join the flight until then. */
  filled?: Promise<void>;
}

/** The id of an entry as filled under one fence: a flight's id, and refresh-ahead's unit of heat. */
export function flightId(key: string, fence: string): string {
  return `${key}\n${fence}`;
}

export class Flights {
  private readonly running = new Map<string, Promise<Flight>>();

  /** The load of this entry already running in this process, if any. */
  get(id: string): Promise<Flight> | undefined {
    return this.running.get(id);
  }

  has(id: string): boolean {
    return this.running.has(id);
  }

  /** Starts a load that later misses of the same entry join until it lands (is stored, or known not to be). */
  start(id: string, load: () => Promise<Flight>): Promise<Flight> {
    const flight = load();
    this.running.set(id, flight);
    const land = () => {
      if (this.running.get(id) === flight) this.running.delete(id);
    };
    flight.then((landed) => (landed.filled ? landed.filled.then(land) : land()), land);
    return flight;
  }
}
