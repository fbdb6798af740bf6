// autocannon ships no types; this declares the part the serving benchmark uses.
declare module "autocannon" {
  interface Result {
    /** `total` answered, `sent` written: the difference was in flight when the run stopped. */
    requests: { average: number; total: number; sent: number };
    latency: { p50: number; p99: number };
    errors: number;
    non2xx: number;
  }
  function autocannon(options: Record<string, unknown>): Promise<Result>;
  export default autocannon;
}
