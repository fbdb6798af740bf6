/** A prompt file (YAML: `messages`, `params`, `description`), checked before anything is sent. */
import { LineCounter, parseDocument } from "yaml";
import { promptContentSchema, type PromptContent } from "../core/llm/prompt-content.js";
import { templateVariables } from "../core/llm/template.js";
import { documentValue } from "../core/pipelines/spec/document.js";
import { SpecError } from "../core/pipelines/spec/load.js";
import { SpecLocator, type SpecPath } from "../core/pipelines/spec/positions.js";

/** Reads and checks a prompt file; every problem names file:line:column and the field. */
export function parsePromptFile(source: string, file: string): PromptContent {
  const lines = new LineCounter();
  const doc = parseDocument(source, { lineCounter: lines });
  const at = new SpecLocator(file, source, doc, lines);
  if (doc.errors.length)
    throw new SpecError(doc.errors.map((e) => at.issueAt(e.pos[0], "(yaml)", e.message.split("\n")[0]!)));
  const built = documentValue(doc);
  if (!("value" in built)) throw new SpecError([at.issueAt(built.offset, "(yaml)", built.message)]);
  const parsed = promptContentSchema.safeParse(built.value);
  if (!parsed.success)
    throw new SpecError(
      parsed.error.issues.map((i) =>
        i.code === "unrecognized_keys"
          ? at.issue([...(i.path as SpecPath), i.keys[0]!], `unknown key "${i.keys[0]}"`, { key: true })
          : at.issue(i.path as SpecPath, i.message),
      ),
    );
  const issues = parsed.data.messages.flatMap((m, i) => {
    try {
      templateVariables(m.content, `messages[${i}].content`);
      return [];
    } catch (error) {
      return [
        at.issue(["messages", i, "content"], (error as Error).message.replace(/^messages\[\d+\]\.content: /, "")),
      ];
    }
  });
  if (issues.length) throw new SpecError(issues);
  return parsed.data;
}
