import { describe, expect, it } from '@jest/globals';
import { ErrorCode } from '#libs/common';
import { ExtractionFailingError, FAILURE_BUDGET_MIN_RECORDS, FailureBudget } from './failure-budget.js';

const refused = { code: ErrorCode.ExtractionRefused, reason: 'The openai model refused to extract from this text' };
const blocked = { code: ErrorCode.ContentBlocked, reason: 'gemini blocked the content (SAFETY)' };
const limits = { maxFailedRatio: 0.2, maxConsecutiveFailures: 25 };

describe(FailureBudget.name, () => {
  it(`judges the failed share only from ${FAILURE_BUDGET_MIN_RECORDS} records on`, () => {
    const budget = new FailureBudget(limits, 0, 0);
    for (let i = 0; i < FAILURE_BUDGET_MIN_RECORDS - 1; i++) budget.failedWith(refused);
    expect(() => budget.failedWith(refused)).toThrow(ExtractionFailingError);
  });

  it('stops past the share, naming the most common cause and its reason', () => {
    const budget = new FailureBudget(limits, 0, 0);
    for (let i = 0; i < 16; i++) budget.succeeded();
    budget.failedWith(blocked);
    budget.failedWith(refused);
    budget.failedWith(refused);
    budget.succeeded();
    budget.succeeded();
    budget.succeeded();
    // 3 of 22 failed: under 20%
    let thrown: unknown;
    try {
      budget.failedWith(refused); // 4 of 23: still under
      budget.failedWith(refused); // 5 of 24: over
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ExtractionFailingError);
    expect(thrown).toMatchObject({ code: 'EXTRACTION_FAILING' });
    expect((thrown as Error).message).toBe(
      'Backfill stopped: 5 of 24 records failed, most often EXTRACTION_REFUSED (4): The openai model refused to extract from this text. ' +
        'The records already done are kept; fix the cause, then retry the failed records.',
    );
  });

  it('stops after too many failures in a row, whatever the share', () => {
    const budget = new FailureBudget({ maxFailedRatio: 1, maxConsecutiveFailures: 3 }, 1_000, 0);
    budget.failedWith(refused);
    budget.failedWith(refused);
    expect(() => budget.failedWith(blocked)).toThrow('3 records failed in a row');
  });

  it('carries the counts of the pages committed before a resume', () => {
    const budget = new FailureBudget(limits, 30, 6);
    // 6 of 30 is exactly 20%: one more failure is over
    expect(() => budget.failedWith(refused)).toThrow('7 of 31 records failed');
  });
});
