import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { planRate, windowPlan } from './window-plan.js';

/** The most a plan can let through in any sliding period, calls arriving up to a second late: every window the period meets, full. */
function worstSlidingPeriod(plan: { windowS: number; perWindow: number }, periodS = 60): number {
  return (Math.ceil((periodS + 1) / plan.windowS) + 1) * plan.perWindow;
}

describe(windowPlan.name, () => {
  it('plans the windows named in its documentation', () => {
    expect(windowPlan(1_200)).toEqual({ windowS: 1, perWindow: 19 });
    expect(windowPlan(1_000)).toEqual({ windowS: 1, perWindow: 16 });
    expect(windowPlan(600)).toEqual({ windowS: 1, perWindow: 9 });
    expect(windowPlan(60)).toEqual({ windowS: 7, perWindow: 6 });
  });

  it('never lets a sliding minute carry more than the allowance, and lets through at least 75% of it from 10 a minute up', () => {
    fc.assert(
      fc.property(fc.integer({ min: 10, max: 2_000_000 }), (perMinute) => {
        const plan = windowPlan(perMinute);
        expect(worstSlidingPeriod(plan)).toBeLessThanOrEqual(perMinute);
        expect(planRate(plan)).toBeGreaterThanOrEqual(0.75 * perMinute);
        if (perMinute >= 1_000) expect(planRate(plan)).toBeGreaterThanOrEqual(0.9 * perMinute);
      }),
    );
  });

  it('keeps windows large enough for one call, and clamps when even one window a period cannot hold it', () => {
    const plan = windowPlan(200_000, 60, 4_096);
    expect(plan.perWindow).toBeGreaterThanOrEqual(4_096);
    expect(worstSlidingPeriod(plan)).toBeLessThanOrEqual(200_000);
    expect(windowPlan(5_000, 60, 4_096)).toEqual({ windowS: 60, perWindow: 4_096 });
  });

  it('works on shorter periods too (tests run the limits on a few seconds)', () => {
    const plan = windowPlan(20, 4);
    expect(worstSlidingPeriod(plan, 4)).toBeLessThanOrEqual(20);
    expect(plan.perWindow).toBeGreaterThan(0);
  });
});
