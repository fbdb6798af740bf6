/**
 * Whether a tandem.lock holds nothing but the given pipeline's entry, read from its lines as
 * `tandem run` writes them (top-level `schema:` and `pipelines:`, one pipeline key at two spaces).
 * Then the file need not be parsed before it is rewritten: parsing a 200-step lock with the `yaml`
 * package took 400 ms at load ~18, on every run but the first. In YAML a line indented by exactly two
 * spaces under `pipelines:` can only start another key of that mapping (a nested value's lines are
 * indented further), so one line not of the expected shape sends the caller back to a full parse.
 */
export function holdsOnlyPipeline(text: string, pipeline: string): boolean {
  let inPipelines = false;
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    if (!line.startsWith(" ")) {
      if (line === "pipelines:") inPipelines = true;
      else if (/^schema: \d+$/.test(line)) inPipelines = false;
      else return false;
      continue;
    }
    if (!inPipelines) return false;
    if (line.startsWith("  ") && line[2] !== " " && line !== `  ${pipeline}:`) return false;
    if (line[1] !== " ") return false;
  }
  return true;
}
