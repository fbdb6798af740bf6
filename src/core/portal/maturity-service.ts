/** Maturity as the routes and the CLI ask for it: the project's facts, graded now. */
import { gradeMaturity } from "./maturity.js";
import type { MaturityReport } from "./maturity-model.js";
import type { MaturityFactsSource } from "./ports.js";

export class MaturityService {
  constructor(
    private readonly options: {
      facts: MaturityFactsSource;
      /** (default Date.now) */
      now?: () => number;
    },
  ) {}

  async grade(project: string): Promise<MaturityReport> {
    const facts = await this.options.facts.collect(project);
    return gradeMaturity(facts, (this.options.now ?? Date.now)());
  }
}
