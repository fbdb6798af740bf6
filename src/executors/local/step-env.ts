/**
 * The environment of what the server runs for its users (a step, a model served as code): this
 * process's own (PATH, HOME, locale…) without Tandem's settings, which would point a step's
 * `tandem` calls at the wrong store or leak the server's keys (TANDEM_DATABASE_URL,
 * TANDEM_SECRET_KEY), without MLflow's (a tracking token), and without the credentials the server
 * itself may run with (its S3 artifact store, its Postgres). A step that needs credentials of its
 * own gets them through `secrets:`, never the server's.
 */
const SERVER_CREDENTIALS = new Set([
  "AWS_ACCESS_KEY_ID",
  "AWS_SECRET_ACCESS_KEY",
  "AWS_SESSION_TOKEN",
  "PGPASSWORD",
  "PGPASSFILE",
  "DATABASE_URL",
]);

/** This process's environment without the server's settings and credentials, plus `jobEnv`. */
export function stepEnvironment(jobEnv: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v === undefined || k.startsWith("TANDEM_") || k.startsWith("MLFLOW_") || SERVER_CREDENTIALS.has(k)) continue;
    env[k] = v;
  }
  return { ...env, ...jobEnv };
}
