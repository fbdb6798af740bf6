import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../config.js";
import { configSecrets, createLogger, RequestLogger } from "./logging.js";

function capture(isTTY = false) {
  const lines: string[] = [];
  const destination = Object.assign(
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString());
        done();
      },
    }),
    { isTTY },
  );
  return { lines, destination };
}

describe("the process logger", () => {
  it("writes one JSON object per line with an ISO time and the level's name", async () => {
    const out = capture();
    const log = await createLogger({ level: "info", destination: out.destination });
    log.child({ area: "monitor-scheduler" }).info({ project: "p", monitor: "m" }, "monitor ran");
    log.debug("not at info");
    expect(out.lines).toHaveLength(1);
    const line = JSON.parse(out.lines[0]!) as Record<string, unknown>;
    expect(line).toMatchObject({
      level: "info",
      area: "monitor-scheduler",
      project: "p",
      monitor: "m",
      msg: "monitor ran",
    });
    expect(new Date(line.time as string).toISOString()).toBe(line.time);
  });

  it("writes pino-pretty lines for a terminal (format auto)", async () => {
    const out = capture(true);
    const log = await createLogger({ level: "info", format: "auto", destination: out.destination });
    log.info({ run_id: "r1" }, "trigger started a run");
    expect(out.lines.join("")).toMatch(/INFO.*trigger started a run/);
    expect(() => JSON.parse(out.lines[0]!)).toThrow();
  });

  it("never writes a secret: tokens, credentials in URLs and headers, configured secret values", async () => {
    const secretKey = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    const s3Secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
    const token = "tdm_Q2hhbmdlTWVQbGVhc2VUaGlzSXNBVG9rZW5WYWx1ZQ";
    const config = loadConfig({
      TANDEM_HOME: "/tmp/x",
      TANDEM_SECRET_KEY: secretKey,
      TANDEM_ARTIFACTS: "s3://bucket/prefix",
      AWS_SECRET_ACCESS_KEY: s3Secret,
    });
    const out = capture();
    const log = await createLogger({ level: "debug", destination: out.destination, secrets: configSecrets(config) });
    const error = new Error(`connect to postgres://tandem:hunter2-db-password@db:5432/tandem failed for ${token}`);
    log.error({ err: error, url: `/api/v1/projects/p/runs/r/events?token=${token}&x=1` }, "internal error");
    log.warn({ authorization: `Bearer ${token}`, headers: { cookie: "tandem_session=abcdefgh12345678" } }, "x");
    log.info({ receiver: "http://alice:receiver-pass@hooks.local/alert" }, `key ${secretKey} and ${s3Secret}`);
    log.info(`Authorization: Basic ${Buffer.from(`u:${token}`).toString("base64")}`);
    const text = out.lines.join("");
    for (const secret of [token, "hunter2-db-password", "receiver-pass", secretKey, s3Secret, "abcdefgh12345678"]) {
      expect(text).not.toContain(secret);
    }
    expect(text.match(/\[redacted\]/g)!.length).toBeGreaterThanOrEqual(8);
    // What is not secret stays readable: the stack, the host, the route.
    const first = JSON.parse(out.lines[0]!) as { err: { stack: string }; url: string };
    expect(first.err.stack).toMatch(/logging\.test\.ts/);
    expect(first.err.stack).toContain("postgres://tandem:[redacted]@db:5432/tandem");
    expect(first.url).toBe("/api/v1/projects/p/runs/r/events?token=[redacted]&x=1");
  });

  it("a request's logger writes as the pino child it stands for, made only once a line is written", async () => {
    const out = capture();
    const log = await createLogger({ level: "info", destination: out.destination });
    // Counts the children made (pino's children inherit their parent's methods: `this` is the caller).
    let children = 0;
    const child = log.child;
    log.child = function (this: typeof log, ...args: Parameters<typeof log.child>) {
      children++;
      return child.apply(this, args);
    } as typeof log.child;
    const request = new RequestLogger(log, { request_id: "r-1" });
    request.debug({ url: "/v2/models/m/infer" }, "request completed");
    expect(request.isLevelEnabled("debug")).toBe(false);
    expect(request.level).toBe("info");
    expect(children).toBe(0);
    expect(out.lines).toEqual([]);
    request.warn({ token: "tdm_not-to-be-written-anywhere" }, "odd request");
    request.error("failed");
    expect(children).toBe(1);
    const lines = out.lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toEqual([
      expect.objectContaining({ level: "warn", request_id: "r-1", token: "[redacted]", msg: "odd request" }),
      expect.objectContaining({ level: "error", request_id: "r-1", msg: "failed" }),
    ]);
    request.child({ area: "serving" }).info("nested");
    expect(JSON.parse(out.lines[2]!)).toMatchObject({ request_id: "r-1", area: "serving", msg: "nested" });
  });
});
