import { describe, expect, it } from "vitest";
import { CircuitBreaker } from "../../src/stores/circuit-breaker.ts";

describe("CircuitBreaker", () => {
  it("opens after `threshold` consecutive failures only; a success in between resets the count", () => {
    const opened: number[] = [];
    const breaker = new CircuitBreaker({ threshold: 3, probeTimeoutMs: 50, probe: () => new Promise(() => {}), opened: (n) => void opened.push(n) });
    breaker.failed();
    breaker.failed();
    breaker.succeeded();
    breaker.failed();
    breaker.failed();
    expect(breaker.isOpen).toBe(false);
    breaker.failed();
    expect(breaker.isOpen).toBe(true);
    breaker.failed();
    expect(opened).toEqual([3]);
  });

  it("probes while open and closes when a probe answers, telling its listeners", async () => {
    let answers = false;
    let probes = 0;
    const breaker = new CircuitBreaker({
      threshold: 1,
      probeMs: 5,
      probeTimeoutMs: 50,
      probe: async () => {
        probes++;
        if (!answers) throw new Error("down");
      },
    });
    let closed = 0;
    breaker.onClosed(() => closed++);
    breaker.failed();
    await expect.poll(() => probes).toBeGreaterThanOrEqual(2);
    expect(breaker.isOpen).toBe(true);
    answers = true;
    await expect.poll(() => breaker.isOpen).toBe(false);
    expect(closed).toBe(1);
  });

  it("a probe that never answers counts as failed after probeTimeoutMs", async () => {
    let probes = 0;
    const breaker = new CircuitBreaker({ threshold: 1, probeMs: 5, probeTimeoutMs: 10, probe: () => (probes++, new Promise(() => {})) });
    breaker.failed();
    await expect.poll(() => probes).toBeGreaterThanOrEqual(3);
    expect(breaker.isOpen).toBe(true);
  });
});
