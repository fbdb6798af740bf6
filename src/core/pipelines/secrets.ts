/**
 * Secrets: `tandem secrets set NAME` stores a value encrypted at rest with AES-256-GCM (a fresh
 * 96-bit nonce per value; the tag authenticates it, and the project and name are bound in as
 * additional data so a sealed value copied to another row fails to open). The key comes from
 * TANDEM_SECRET_KEY, else `<home>/secret.key` (created 0600 by the wiring). Values never appear in
 * a run record; the engine masks them in logs.
 */
import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from "node:crypto";
import type { AuditLog } from "../governance/audit.js";
import { audited } from "../governance/audited.js";
import { InvalidInputError, NotFoundError } from "../errors.js";
import { nowMs } from "../ids.js";
import type { MetadataStore } from "../ports.js";
import type { PipelineStore } from "./ports.js";

export const SECRET_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;

/** Parses a 32-byte key written as 64 hex characters or base64. */
export function parseSecretKey(text: string): Buffer {
  const t = text.trim();
  const key = /^[0-9a-fA-F]{64}$/.test(t) ? Buffer.from(t, "hex") : Buffer.from(t, "base64");
  if (key.length !== 32) throw new InvalidInputError("the secret key must be 32 bytes, as 64 hex characters or base64");
  return key;
}

export class SecretBox {
  /** A key of its own for fingerprints, derived from the sealing key (never the sealing key itself). */
  private readonly fingerprintKey: Buffer;

  constructor(private readonly key: Buffer) {
    this.fingerprintKey = Buffer.from(hkdfSync("sha256", key, Buffer.alloc(0), "tandem step cache key", 32));
  }

  /**
   * HMAC-SHA256 of a value under a key only this server has: equal values give equal fingerprints
   * (a cache key changes when a secret is rotated), and a fingerprint kept in a step's record tells
   * nothing of the value to whoever reads it, where a plain sha256 of a short token could be
   * looked up. `aad` binds it to the secret's project and name.
   */
  fingerprint(plain: string, aad: string): string {
    return createHmac("sha256", this.fingerprintKey).update(aad).update("\0").update(plain).digest("hex");
  }

  seal(plain: string, aad: string): string {
    const nonce = randomBytes(12);
    const cipher = createCipheriv("aes-256-gcm", this.key, nonce);
    cipher.setAAD(Buffer.from(aad));
    const body = Buffer.concat([cipher.update(plain, "utf8"), cipher.final()]);
    return Buffer.concat([nonce, body, cipher.getAuthTag()]).toString("base64");
  }

  open(sealed: string, aad: string): string {
    const raw = Buffer.from(sealed, "base64");
    const decipher = createDecipheriv("aes-256-gcm", this.key, raw.subarray(0, 12));
    decipher.setAAD(Buffer.from(aad));
    decipher.setAuthTag(raw.subarray(raw.length - 16));
    return Buffer.concat([decipher.update(raw.subarray(12, raw.length - 16)), decipher.final()]).toString("utf8");
  }
}

export class SecretService {
  constructor(
    private readonly metadata: MetadataStore,
    private readonly audit: AuditLog,
    private readonly store: PipelineStore,
    private readonly box: SecretBox,
  ) {}

  async set(actor: string, project: string, name: string, value: string): Promise<void> {
    if (!SECRET_NAME.test(name))
      throw new InvalidInputError(
        `secret name ${JSON.stringify(name)}: use letters, digits and '_' (an environment variable name)`,
      );
    if (name === "__proto__")
      throw new InvalidInputError(
        'secret name "__proto__": the name is reserved (every JavaScript object has it; a step\'s secret map would drop it): use another name',
        { field: "name" },
      );
    if (value.length === 0) throw new InvalidInputError(`secret ${name}: the value is empty`);
    await audited(this.metadata, this.audit, async (tx, record) => {
      await this.store.putSecret(
        { project, name, sealed: this.box.seal(value, `${project}/${name}`), updatedAt: nowMs(), updatedBy: actor },
        tx,
      );
      // The audit event names the secret, never its value.
      await record({ actor, project, action: "secret.set", target: `secret:${name}`, summary: { name } });
    });
  }

  async delete(actor: string, project: string, name: string): Promise<void> {
    await audited(this.metadata, this.audit, async (tx, record) => {
      if (!(await this.store.deleteSecret(project, name, tx)))
        throw new NotFoundError(`secret ${name} is not set in project ${project}`);
      await record({ actor, project, action: "secret.delete", target: `secret:${name}`, summary: { name } });
    });
  }

  list(project: string) {
    return this.store.listSecrets(project);
  }

  /** Plain values for a step; a missing one fails the step with a hint. */
  async values(project: string, names: string[]): Promise<Record<string, string>> {
    // Keyed by the user's names: read as own keys only (constructor is a name like any other).
    const out: Record<string, string> = Object.create(null) as Record<string, string>;
    for (const name of names) {
      const s = await this.store.getSecret(project, name);
      if (!s)
        throw new InvalidInputError(
          `secret ${name} is not set in project ${project} (set it with: tandem secrets set ${name})`,
        );
      out[name] = this.box.open(s.sealed, `${project}/${name}`);
    }
    return out;
  }

  /**
   * Each set secret's fingerprint (SecretBox.fingerprint), for a step's cache key. A secret not set
   * is left out: the step fails when it asks for the values (values()), never served from a cache
   * entry, which only a step that had the secret can have stored.
   */
  async fingerprints(project: string, names: string[]): Promise<Record<string, string>> {
    const out: Record<string, string> = Object.create(null) as Record<string, string>;
    for (const name of names) {
      const s = await this.store.getSecret(project, name);
      if (s) out[name] = this.box.fingerprint(this.box.open(s.sealed, `${project}/${name}`), `${project}/${name}`);
    }
    return out;
  }

  async value(project: string, name: string): Promise<string | null> {
    const s = await this.store.getSecret(project, name);
    return s ? this.box.open(s.sealed, `${project}/${name}`) : null;
  }
}
