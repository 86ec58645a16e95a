/**
 * Waits until `check` holds, polling every `intervalMs`; fails with `what` when it does not
 * within `timeoutMs`: "timed out after N ms waiting for <what>", with the check's error when its
 * last poll threw. The one way tests wait for a condition (never a bare sleep).
 */
export async function eventually(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 30_000, intervalMs = 100): Promise<void> {
  const started = Date.now();
  let lastError: unknown;
  for (;;) {
    try {
      if (await check()) return;
      lastError = undefined; // the check ran and said no: an earlier error is no longer the reason
    } catch (error) {
      lastError = error;
    }
    if (Date.now() - started > timeoutMs) {
      const reason = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${reason}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
