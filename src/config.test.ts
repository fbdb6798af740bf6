import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "./config.js";

describe("loadConfig", () => {
  it("defaults to the embedded stores under ./.tandem", () => {
    const c = loadConfig({});
    expect(c.home).toMatch(/\.tandem$/);
    expect(c.database).toEqual({ kind: "sqlite", file: `${c.home}/tandem.db` });
    expect(c.artifacts).toEqual({ kind: "fs", root: `${c.home}/artifacts` });
    expect(c.port).toBe(7300);
    expect(c.host).toBe("127.0.0.1");
    expect(c.runLeaseMs).toBe(15_000);
    expect(loadConfig({ TANDEM_RUN_LEASE_MS: "60000" }).runLeaseMs).toBe(60_000);
  });

  it("reads TANDEM_ARTIFACTS_FSYNC for a filesystem store (unset: the store's default, on)", () => {
    expect(loadConfig({}).artifacts).not.toHaveProperty("fsync", false);
    expect(loadConfig({ TANDEM_ARTIFACTS_FSYNC: "off" }).artifacts).toMatchObject({ kind: "fs", fsync: false });
    expect(loadConfig({ TANDEM_ARTIFACTS_FSYNC: "ON" }).artifacts).toMatchObject({ kind: "fs", fsync: true });
    expect(loadConfig({ TANDEM_ARTIFACTS: "/srv/a", TANDEM_ARTIFACTS_FSYNC: "off" }).artifacts).toEqual({
      kind: "fs",
      root: "/srv/a",
      fsync: false,
    });
  });

  it("reads TANDEM_STEP_WRITABLE as absolute folders separated by colons", () => {
    expect(loadConfig({}).stepWritable).toEqual([]);
    expect(loadConfig({ TANDEM_STEP_WRITABLE: "/srv/data::/scratch/" }).stepWritable).toEqual([
      "/srv/data",
      "/scratch",
    ]);
    expect(() => loadConfig({ TANDEM_STEP_WRITABLE: "/srv/data:data" })).toThrow(ConfigError);
  });

  it("reads Postgres and S3 settings", () => {
    const c = loadConfig({
      TANDEM_DATABASE_URL: "postgres://u@db:5432/tandem",
      TANDEM_ARTIFACTS: "s3://bucket/team/models/",
      TANDEM_S3_ENDPOINT: "http://127.0.0.1:9000",
      AWS_ACCESS_KEY_ID: "k",
      AWS_SECRET_ACCESS_KEY: "s",
    });
    expect(c.database).toEqual({ kind: "postgres", url: "postgres://u@db:5432/tandem" });
    expect(c.artifacts).toMatchObject({
      kind: "s3",
      bucket: "bucket",
      prefix: "team/models",
      endpoint: "http://127.0.0.1:9000",
      region: "us-east-1",
    });
  });

  it.each([
    [{ TANDEM_PORT: "70000" }, "TANDEM_PORT"],
    [{ TANDEM_PORT: "abc" }, "TANDEM_PORT"],
    [{ TANDEM_DATABASE_URL: "mysql://x" }, "TANDEM_DATABASE_URL"],
    [{ TANDEM_ARTIFACTS: "s3://" }, "TANDEM_ARTIFACTS"],
    [{ TANDEM_ARTIFACTS: "gs://bucket" }, "TANDEM_ARTIFACTS"],
    [{ TANDEM_ARTIFACTS: "s3://b", TANDEM_S3_ENDPOINT: "not a url" }, "TANDEM_S3_ENDPOINT"],
    [{ TANDEM_URL: "::" }, "TANDEM_URL"],
    [{ TANDEM_CONCURRENCY: "0" }, "TANDEM_CONCURRENCY"],
    [{ TANDEM_RUN_LEASE_MS: "2000" }, "TANDEM_RUN_LEASE_MS"],
    [{ TANDEM_RUN_LEASE_MS: "15s" }, "TANDEM_RUN_LEASE_MS"],
    [{ TANDEM_ARTIFACTS_FSYNC: "no" }, "TANDEM_ARTIFACTS_FSYNC"],
  ])("names the variable of a wrong value (%o)", (env, variable) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(new RegExp(`^${variable}:`));
  });
});
