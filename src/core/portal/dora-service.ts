/** DORA as the routes and the CLI ask for it: a period (`90d`), an optional target, computed now. */
import { parseDuration } from "../monitoring/monitors/definition.js";
import { InvalidInputError } from "../errors.js";
import { computeDora, DEFAULT_HOTFIX_WINDOW_MS } from "./dora.js";
import type { DoraReport } from "./dora-model.js";
import type { DoraFactsSource } from "./ports.js";

/** DORA's guide looks at a quarter at a time; so does `tandem dora` unless told. */
export const DEFAULT_PERIOD = "90d";
/** Ten years: anything longer is a typo, and would read the whole table. */
const MAX_PERIOD_MS = 3_650 * 86_400_000;

export class DoraService {
  constructor(
    private readonly options: {
      facts: DoraFactsSource;
      /** (default Date.now) */
      now?: () => number;
    },
  ) {}

  async report(
    project: string,
    query: { since?: string; target?: string | null; hotfixWindow?: string } = {},
  ): Promise<DoraReport> {
    const period = parseDuration(query.since ?? DEFAULT_PERIOD, "since");
    if (period <= 0 || period > MAX_PERIOD_MS)
      throw new InvalidInputError(`since: expected a period between 1m and 3650d, got ${JSON.stringify(query.since)}`);
    const hotfixWindowMs = query.hotfixWindow
      ? parseDuration(query.hotfixWindow, "hotfix_window")
      : DEFAULT_HOTFIX_WINDOW_MS;
    const until = (this.options.now ?? Date.now)();
    const since = until - period;
    const facts = await this.options.facts.collect(project, since, until);
    return computeDora(facts, { since, until, target: query.target ?? null, hotfixWindowMs });
  }
}
