/** `tandem/echo`: writes a message to the log (and optionally to an output file). For docs and tests. */
import { writeFile } from "node:fs/promises";
import { z } from "zod";
import { defineBuiltin } from "./contract.js";

export const echoBuiltin = defineBuiltin({
  name: "echo",
  description: "Writes `message` to the step log; with `output: <name>` also into that file output.",
  with: z.strictObject({ message: z.union([z.string(), z.number(), z.boolean()]), output: z.string().optional() }),
  async run(ctx) {
    const text = String(ctx.with.message);
    for (const line of text.split("\n")) ctx.log(line);
    if (ctx.with.output) {
      const path = ctx.outputs[ctx.with.output];
      if (!path) throw new Error(`with.output: step declares no output "${ctx.with.output}"`);
      await writeFile(path, `${text}\n`);
    }
  },
});
