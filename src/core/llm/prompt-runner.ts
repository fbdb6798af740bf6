/**
 * A prompt version in a serving slot. Serving's runtime loads, leases and swaps runners without
 * knowing what they run; for an LLM endpoint the "model" in a slot is a prompt version, and the
 * LLM gateway (not `predict`) answers its calls, with the endpoint's upstream.
 */
import { createHash } from "node:crypto";
import { UnprocessableError } from "../errors.js";
import type { ServableVersion } from "../serving/ports.js";
import type { ModelRunner } from "../serving/runtime.js";
import type { PromptVersion } from "./model.js";

export class PromptRunner implements ModelRunner {
  readonly signature = null;

  constructor(
    readonly model: ServableVersion,
    readonly prompt: PromptVersion,
  ) {}

  predict(): Promise<never> {
    return Promise.reject(
      new UnprocessableError(
        `${this.prompt.name}@${this.prompt.version} is a prompt: call the endpoint's /chat/completions (OpenAI-compatible), not /predict`,
      ),
    );
  }

  ready(): boolean {
    return true;
  }

  async close(): Promise<void> {}
}

export function promptServable(v: PromptVersion): ServableVersion {
  return {
    model: `prompt:${v.name}`,
    version: v.version,
    format: "prompt",
    storage: "blob",
    // Serving shares runners by this key: one per project, prompt and version, not per content.
    sha256: createHash("sha256").update(`${v.project}\0${v.name}\0${v.version}\0${v.sha256}`).digest("hex"),
    signature: null,
    gitCommit: null,
    payload: v,
  };
}
