/** Polls until `check` holds (or throws after `timeoutMs`): waits on behaviour, never asserts on time. */
export async function eventually(check: () => boolean, what: string, timeoutMs = 10_000, pollMs = 10): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}
