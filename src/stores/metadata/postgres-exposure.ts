/**
 * Whether the Postgres store lets this server's user in without a password (`trust` in pg_hba.conf,
 * or `peer` over a Unix socket). Pipeline steps and models served as code share this host's network
 * namespace, run as this same user and see its sockets (a read-only mount does not stop connect(2)):
 * whatever reaches the database without a password from the server reaches it from a step too, and
 * the store is everything (tokens, approvals, the audit chain). The sandbox cannot close this
 * without cutting steps off the network they need (pip, S3, Tandem's own API for MLflow logging:
 * `--unshare-net` would take loopback away with the rest), so `tandem server` warns and
 * `tandem doctor` says what to fix.
 */
import pg from "pg";

/**
 * Connects as `url` says but with no password to give (neither the URL's, PGPASSWORD nor
 * ~/.pgpass): true when Postgres let it in. False when it asked for a password or refused;
 * null when it could not be reached at all (the store's own checks say why).
 */
export async function passwordlessPostgres(url: string, timeoutMs = 5_000): Promise<boolean | null> {
  const parsed = new URL(url);
  parsed.password = "";
  let asked = false;
  const client = new pg.Client({
    connectionString: parsed.toString(),
    connectionTimeoutMillis: timeoutMs,
    // Called only when the server asks for one (md5, scram): never with trust or peer.
    password: () => {
      asked = true;
      throw new Error("no password given");
    },
  });
  client.on("error", () => undefined);
  try {
    await client.connect();
    return true;
  } catch {
    return asked ? false : null;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** What `tandem server` and `tandem doctor` say of a store that lets anyone on this host in. */
export const PASSWORDLESS_STORE =
  "the Postgres store lets this server's user in without a password (trust or peer in pg_hba.conf): " +
  "pipeline steps and models served as code share this host's network and user, so they can connect " +
  "the same way and rewrite the store (tokens, approvals, audit). Give the database role a password " +
  "(scram-sha-256 in pg_hba.conf, the password in TANDEM_DATABASE_URL)";
