/**
 * Git push webhooks: GitHub (`X-Hub-Signature-256: sha256=<HMAC-SHA256 of the raw body>`) and
 * GitLab (`X-Gitlab-Token: <shared secret>`). The secret is the project's secret
 * `GIT_WEBHOOK_SECRET` (`tandem secrets set GIT_WEBHOOK_SECRET`). Comparisons are constant-time.
 */
import { createHmac, timingSafeEqual } from "node:crypto";

export const WEBHOOK_SECRET_NAME = "GIT_WEBHOOK_SECRET";

export type Headers = Record<string, string | string[] | undefined>;

const header = (h: Headers, name: string): string | undefined => {
  const v = h[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
};

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Which provider signed the request, if the signature checks out against `secret`. */
export function verifyGitWebhook(headers: Headers, rawBody: Buffer, secret: string): "github" | "gitlab" | null {
  const signature = header(headers, "x-hub-signature-256");
  if (signature) {
    const expected = `sha256=${createHmac("sha256", secret).update(rawBody).digest("hex")}`;
    return safeEqual(signature, expected) ? "github" : null;
  }
  const token = header(headers, "x-gitlab-token");
  if (token) return safeEqual(token, secret) ? "gitlab" : null;
  return null;
}

export interface GitPush {
  branch: string;
  commit: string;
  repository: string | null;
  pusher: string | null;
}

/** A push event's branch and head commit; null for other events (tags, pings, deletions). */
export function parseGitPush(provider: "github" | "gitlab", body: unknown): GitPush | null {
  const b = (body ?? {}) as Record<string, unknown>;
  const ref = typeof b.ref === "string" ? b.ref : "";
  if (!ref.startsWith("refs/heads/")) return null;
  const commit = (provider === "gitlab" ? (b.checkout_sha ?? b.after) : b.after) as unknown;
  if (typeof commit !== "string" || /^0+$/.test(commit)) return null;
  const repo = (
    provider === "github"
      ? (b.repository as { full_name?: unknown } | undefined)?.full_name
      : (b.project as { path_with_namespace?: unknown } | undefined)?.path_with_namespace
  ) as unknown;
  // GitHub's `sender` is the account GitHub authenticated for the push; `pusher.name` is what the
  // pusher's git config says. Prefer the account.
  const pusher = (
    provider === "github"
      ? ((b.sender as { login?: unknown } | undefined)?.login ?? (b.pusher as { name?: unknown } | undefined)?.name)
      : b.user_username
  ) as unknown;
  return {
    branch: ref.slice("refs/heads/".length),
    commit,
    repository: typeof repo === "string" ? repo : null,
    pusher: typeof pusher === "string" ? pusher : null,
  };
}
