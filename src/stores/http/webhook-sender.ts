import type { WebhookSender } from "../../core/monitoring/alerts/ports.js";

/** POSTs JSON with a timeout, so a hanging receiver cannot stall the delivery loop. */
export class FetchWebhookSender implements WebhookSender {
  constructor(private readonly timeoutMs = 10_000) {}

  async send(url: string, body: unknown, headers: Record<string, string>): Promise<number> {
    const res = await fetch(url, {
      method: "POST",
      headers,
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    await res.arrayBuffer().catch(() => undefined);
    return res.status;
  }
}
