/** Polls until `check` holds (or throws after `timeoutMs`): waits on behaviour, never asserts on time. */
export async function eventually(check: () => boolean, what: string, timeoutMs = 10_000, pollMs = 10): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}

/** As `eventually`, for an async check. */
export async function eventuallyAsync(check: () => Promise<boolean>, what: string, timeoutMs = 10_000, pollMs = 20): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}
