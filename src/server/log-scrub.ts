/**
 * Keeps secrets out of log lines. `scrub` runs on every finished line (message, fields, an error's
 * message and stack, child bindings: one choke point), and masks:
 * - Tandem tokens (`tdm_…`), `Bearer`/`Basic` credentials, and the password of a URL
 *   (`postgres://user:secret@host` → `postgres://user:[redacted]@host`);
 * - query parameters that carry credentials (`?token=`, `access_token`, presigned S3 signatures);
 * - the exact values of the secrets this process was configured with (secret key, S3 secret key).
 * Fields named like a secret are replaced whole by pino's `redact` (REDACTED_FIELDS).
 */
export const REDACTED = "[redacted]";

const PATTERNS: Array<[RegExp, string]> = [
  [/\btdm_[A-Za-z0-9_-]{6,}/g, `tdm_${REDACTED}`],
  [/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{6,}/gi, `$1 ${REDACTED}`],
  [/(\b[a-z][a-z0-9+.-]*:\/\/[^:/?#@\s"]*:)[^@/\s"]+@/gi, `$1${REDACTED}@`],
  [
    /([?&](?:token|access_token|api_key|apikey|password|secret|client_secret|X-Amz-Signature|X-Amz-Credential|X-Amz-Security-Token)=)[^&\s#"]+/gi,
    `$1${REDACTED}`,
  ],
];

/** Paths (pino `redact` syntax) of fields whose whole value is a secret, at the top level or one down. */
export const REDACTED_FIELDS = ["authorization", "cookie", "token", "password", "secret", "api_key"].flatMap((f) => [
  f,
  `*.${f}`,
]);

export class LogScrubber {
  private readonly literals: string[];

  /** `secrets`: exact values to mask wherever they appear (values under 8 characters are ignored). */
  constructor(secrets: Array<string | undefined> = []) {
    this.literals = secrets.filter((s): s is string => typeof s === "string" && s.length >= 8);
  }

  scrub(text: string): string {
    let out = text;
    for (const literal of this.literals) if (out.includes(literal)) out = out.split(literal).join(REDACTED);
    for (const [pattern, replacement] of PATTERNS) out = out.replace(pattern, replacement);
    return out;
  }
}
