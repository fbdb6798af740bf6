/** A background loop for `services.background`: runs `tick` every `intervalMs` until aborted; errors are logged, not fatal. */
export function everyInterval(name: string, intervalMs: number, tick: () => Promise<unknown>) {
  return {
    name,
    start(signal: AbortSignal): void {
      let running = false;
      const timer = setInterval(() => {
        if (running || signal.aborted) return;
        running = true;
        tick()
          .catch((error: unknown) =>
            process.stderr.write(`[${name}] ${error instanceof Error ? error.message : String(error)}\n`),
          )
          .finally(() => (running = false));
      }, intervalMs);
      timer.unref();
      signal.addEventListener("abort", () => clearInterval(timer), { once: true });
    },
  };
}
