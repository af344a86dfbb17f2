/**
 * The one polling helper of the tests and benchmarks: wait for something to become true, with a deadline, instead of
 * sleeping for a guessed time.
 */

/**
 * Calls `attempt` every `intervalMs` until it returns anything but `false` without throwing, and resolves to what it
 * returned. After `timeoutMs` it rejects with an error naming `what`, its cause the last error `attempt` threw.
 * Conditions return a boolean; checks (`expect(...)`) throw until they pass.
 */
export async function waitFor<T>(attempt: () => T | Promise<T>, what: string, timeoutMs = 5_000, intervalMs = 5): Promise<Exclude<T, false>> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const result = await attempt();
      if (result !== false) return result as Exclude<T, false>;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      const reason = lastError === undefined ? "" : `; last failure: ${lastError instanceof Error ? lastError.message : String(lastError)}`;
      throw new Error(`${what}: not reached within ${timeoutMs} ms${reason}`, { cause: lastError });
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
