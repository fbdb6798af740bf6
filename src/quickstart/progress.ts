/**
 * The quickstart's display on stderr: one line per stage as it starts and ends (with its time), and
 * on a terminal a live status line (spinner, elapsed seconds, what it is doing) redrawn in place.
 * Off a terminal (CI logs) only the finished lines are written, so logs stay readable.
 */
const FRAMES = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

export class Progress {
  private readonly tty = Boolean(process.stderr.isTTY);
  private readonly started = Date.now();
  private stage: { n: number; title: string; at: number } | null = null;
  private status = "";
  private frame = 0;
  private timer: NodeJS.Timeout | null = null;
  private count = 0;
  /** Stage titles with their seconds, for the summary. */
  readonly stages: Array<{ title: string; seconds: number }> = [];

  constructor(private readonly write: (text: string) => void = (t) => void process.stderr.write(t)) {}

  private clear(): void {
    if (this.tty) this.write("\r\x1b[2K");
  }

  private draw(): void {
    if (!this.tty || !this.stage) return;
    const secs = ((Date.now() - this.stage.at) / 1000).toFixed(0);
    this.write(
      `\r\x1b[2K${FRAMES[this.frame++ % FRAMES.length]} ${this.stage.title} · ${secs}s${this.status ? ` · ${this.status}` : ""}`,
    );
  }

  begin(title: string): void {
    this.end();
    this.stage = { n: ++this.count, title, at: Date.now() };
    this.status = "";
    this.clear();
    this.write(`\n[${this.count}] ${title}\n`);
    if (this.tty) this.timer = setInterval(() => this.draw(), 120);
  }

  /** The live status of the current stage (terminal only). */
  update(status: string): void {
    this.status = status;
    this.draw();
  }

  /** A finished fact of the current stage. */
  line(text: string): void {
    this.clear();
    this.write(`    ${text}\n`);
    this.draw();
  }

  end(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    if (!this.stage) return;
    const seconds = (Date.now() - this.stage.at) / 1000;
    this.stages.push({ title: this.stage.title, seconds });
    this.clear();
    this.write(`    done in ${seconds.toFixed(1)} s\n`);
    this.stage = null;
  }

  elapsedSeconds(): number {
    return (Date.now() - this.started) / 1000;
  }
}
