import { AppError, ErrorCode } from '#libs/common';
import type { RecordFailure } from '#libs/graphrag';

/** Records done before the failed share is judged: a few early failures say little. */
export const FAILURE_BUDGET_MIN_RECORDS = 20;

export interface FailureBudgetLimits {
  /** Share of failed records (0-1) past which the job stops. */
  maxFailedRatio: number;
  /** Records failing in a row that stop the job. */
  maxConsecutiveFailures: number;
}

/** Too many records failed: the job stops spending the tenant's money. */
export class ExtractionFailingError extends AppError {
  constructor(message: string) {
    super(ErrorCode.ExtractionFailing, message);
  }
}

/**
 * Counts a backfill's record outcomes as they arrive and ends the job once too many records fail:
 * more than `maxFailedRatio` of them (judged from FAILURE_BUDGET_MIN_RECORDS on), or
 * `maxConsecutiveFailures` in a row. Counts carry over from the pages committed before a resume.
 */
export class FailureBudget {
  private consecutive = 0;
  private readonly byCode = new Map<string, { count: number; reason: string }>();

  constructor(
    private readonly limits: FailureBudgetLimits,
    private done: number,
    private failed: number,
  ) {}

  succeeded(): void {
    this.done++;
    this.consecutive = 0;
  }

  /** @throws ExtractionFailingError once the budget is spent, naming the most common cause */
  failedWith(failure: RecordFailure): void {
    this.done++;
    this.failed++;
    this.consecutive++;
    const seen = this.byCode.get(failure.code);
    this.byCode.set(failure.code, { count: (seen?.count ?? 0) + 1, reason: seen?.reason ?? failure.reason });
    const overRatio = this.done >= FAILURE_BUDGET_MIN_RECORDS && this.failed / this.done > this.limits.maxFailedRatio;
    const overRun = this.consecutive >= this.limits.maxConsecutiveFailures;
    if (!overRatio && !overRun) return;
    const [code, top] = [...this.byCode.entries()].sort((a, b) => b[1].count - a[1].count)[0];
    const why = overRun ? `${this.consecutive} records failed in a row` : `${this.failed} of ${this.done} records failed`;
    throw new ExtractionFailingError(
      `Backfill stopped: ${why}, most often ${code} (${top.count}): ${top.reason}. The records already done are kept; ` +
        'fix the cause, then retry the failed records.',
    );
  }
}
