/** The prompt rollback policy against the real prompt registry (embedded SQLite): a refused rollback is reported, not thrown. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.js";
import { createServices, type OpenedServices } from "../../src/main.js";
import { PromptRollbackPolicy } from "../../src/core/llm/closed-loop.js";

describe("the prompt rollback policy", () => {
  const home = mkdtempSync(join(tmpdir(), "llm-rollback-"));
  let opened: OpenedServices;
  beforeAll(async () => {
    opened = await createServices(loadConfig({ TANDEM_HOME: home, TANDEM_LOG_LEVEL: "error" }));
  });
  afterAll(async () => {
    await opened?.close();
    rmSync(home, { recursive: true, force: true });
  });

  it("refuses to roll back to a version an approver rejected, reports it, and rolls nothing", async () => {
    const prompts = opened.services.llm.prompts;
    for (const content of ["v1 {{ input }}", "v2 {{ input }}"]) {
      const { version } = await prompts.createVersion("alice", "p", "qa", { messages: [{ role: "user", content }] });
      await prompts.setAlias("alice", "p", `qa@${version.version}`, "production");
    }
    await prompts.approve("dana", "approver", "p", "qa@1", "reject", "leaks PII");
    const policy = new PromptRollbackPolicy(prompts, prompts.store, {
      policies: () =>
        Promise.resolve({
          loop: {
            applies_to: { prompts: ["qa@production"] },
            rollback: { on_alert: "quality" },
            accept_manual: false,
            require: [],
          },
        }),
    });
    const r = await policy.alertFired({ project: "p", name: "quality", id: "a1" });
    expect(r.moves).toEqual([]);
    expect(r.refused).toEqual([
      expect.objectContaining({ policy: "loop", prompt: "qa", alias: "production", toVersion: 1 }),
    ]);
    expect(r.refused[0]!.reason).toMatch(/rejected by dana: leaks PII/);
    expect((await prompts.store.getAlias("p", "qa", "production"))?.version).toBe(2);
    // Another alert's name moves nothing.
    expect(await policy.alertFired({ project: "p", name: "other", id: "a2" })).toEqual({ moves: [], refused: [] });
  });
});
