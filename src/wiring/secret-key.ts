import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { parseSecretKey } from "../core/pipelines/secrets.js";
import { writeFileAtomic } from "../stores/files/atomic.js";

/**
 * The deployment's secret key: TANDEM_SECRET_KEY (which every server of a deployment shares), else
 * `<home>/secret.key` (made once, 0600). Secrets at rest are sealed with it; signing keys (step-agent
 * reports, multipart part URLs) are HMACs of it, so one server verifies what another signed.
 */
export async function loadSecretKey(home: string, configured?: string): Promise<Buffer> {
  if (configured) return parseSecretKey(configured);
  const file = join(home, "secret.key");
  const existing = await readFile(file, "utf8").catch(() => null);
  if (existing !== null) return parseSecretKey(existing);
  const key = randomBytes(32);
  await writeFileAtomic(file, `${key.toString("hex")}\n`, 0o600);
  // Two processes may race to create it: read back what won.
  return parseSecretKey(await readFile(file, "utf8"));
}
