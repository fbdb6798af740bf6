import type { WebhookSender } from "../../core/monitoring/alerts/ports.js";
import type { AddressOutboundGuard } from "./outbound-guard.js";

/**
 * POSTs JSON with a timeout, so a hanging receiver cannot stall the delivery loop, through the SSRF
 * guard: a receiver's name is checked again when it is called, not only when it was added.
 */
export class FetchWebhookSender implements WebhookSender {
  constructor(
    private readonly guard: AddressOutboundGuard,
    private readonly timeoutMs = 10_000,
  ) {}

  async send(url: string, body: unknown, headers: Record<string, string>): Promise<number> {
    const res = await this.guard.fetch(url, "alert receiver", {
      method: "POST",
      headers,
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    await res.arrayBuffer().catch(() => undefined);
    return res.status;
  }
}
