/**
 * `tandem … | head -1` or `| grep -q …`: the reader may close the pipe before tandem has written
 * everything. Node then emits EPIPE on process.stdout, and an unhandled stream error ends the process
 * with a stack trace. A closed stdout means nobody reads the rest, so tandem ends at once, quietly,
 * with exit code 0 — as ripgrep does. (A Unix tool killed by SIGPIPE would exit 141, which turns every
 * `tandem … | grep -q` into a failure under `set -o pipefail`.)
 */
export function endQuietlyWhenOutputCloses(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on("error", (error: NodeJS.ErrnoException) => {
      if (error.code === "EPIPE") process.exit(0);
      throw error;
    });
  }
}
