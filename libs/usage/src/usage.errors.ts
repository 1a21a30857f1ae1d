import { AppError, ErrorCode } from '#libs/common';

/** Which limit of a hard budget a job ran into. */
export type BudgetLimitKind = 'monthly' | 'per-job';

/**
 * A hard budget is spent: a job is refused at pre-flight (before any record is fetched), or a running
 * backfill stops at a page boundary, resumable from its checkpoint once the budget is raised.
 */
export class BudgetExceededError extends AppError {
  constructor(
    readonly limit: BudgetLimitKind,
    detail: string,
  ) {
    super(
      ErrorCode.BudgetExceeded,
      limit === 'monthly'
        ? `The tenant's monthly budget is spent (${detail}). Raise the budget, or wait for the next month (UTC), and start the job again: it resumes from its checkpoint.`
        : `The job's budget cap is reached (${detail}). Raise perJobLimitUsd and start the job again: it resumes from its checkpoint.`,
    );
  }
}
