/**
 * A circuit breaker for a store that can fail (Redis): after `threshold` consecutive failures or timeouts it opens,
 * and while open the plugin skips the store at once (a read costs the database query and nothing else; a write's
 * invalidation is recorded as pending). It probes the store in the background every `probeMs` and closes as soon as
 * a probe answers, telling its listeners (the invalidator retries what is pending right then).
 */
export interface CircuitBreakerOptions {
  /** Consecutive failures that open the circuit. @default 3 */
  threshold?: number;
  /** Time between probes while open, in milliseconds. @default 100 */
  probeMs?: number;
  /** Longest wait for one probe, in milliseconds. */
  probeTimeoutMs: number;
  /** Asks the store whether it answers (a PING). */
  probe: () => Promise<unknown>;
  /** Told once each time the circuit opens. */
  opened?: (failures: number) => void;
}

export class CircuitBreaker {
  private failures = 0;
  private openNow = false;
  private timer: NodeJS.Timeout | undefined;
  private readonly closedListeners: (() => void)[] = [];
  private readonly threshold: number;
  private readonly probeMs: number;

  constructor(private readonly options: CircuitBreakerOptions) {
    this.threshold = options.threshold ?? 3;
    this.probeMs = options.probeMs ?? 100;
  }

  /** True while the store is being skipped. */
  get isOpen(): boolean {
    return this.openNow;
  }

  /** Calls `listener` each time the circuit closes again (the store answers). */
  onClosed(listener: () => void): void {
    this.closedListeners.push(listener);
  }

  succeeded(): void {
    this.failures = 0;
  }

  failed(): void {
    if (this.openNow) return;
    if (++this.failures < this.threshold) return;
    this.openNow = true;
    this.options.opened?.(this.failures);
    this.scheduleProbe();
  }

  private scheduleProbe(): void {
    this.timer = setTimeout(() => void this.probe(), this.probeMs);
    this.timer.unref();
  }

  private async probe(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      // After the event loop has read waiting I/O: an answer that arrived in time is not lost to a late timer.
      timer = setTimeout(() => setImmediate(() => reject(new Error("probe timed out"))), this.options.probeTimeoutMs);
    });
    try {
      await Promise.race([this.options.probe(), late]);
    } catch {
      this.scheduleProbe();
      return;
    } finally {
      clearTimeout(timer);
    }
    this.openNow = false;
    this.failures = 0;
    for (const listener of this.closedListeners) listener();
  }
}
