/** A rate enforced with fixed windows: at most `perWindow` units in each window of `windowS` seconds. */
export interface WindowPlan {
  windowS: number;
  perWindow: number;
}

/**
 * The fixed windows that keep every sliding period of `periodS` seconds at or under `perPeriod`
 * units while letting through as much as they can. rate-limiter-flexible counts in fixed windows of
 * whole seconds, each starting at its first call; a sliding period meets at most
 * ceil(periodS / W) + 1 windows of W seconds, and one more when calls reach the provider up to
 * `slackS` later than they left (network and event-loop jitter), so each window may hold perPeriod /
 * (ceil((periodS + slackS) / W) + 1). Every W from 1 s to the period is tried and the one with the
 * highest rate wins (the smallest on a tie: it spreads the calls most evenly), subject to at least
 * `minPerWindow` units a window (one call's tokens must fit in a window). When no window fits, one
 * window a period holds half the allowance (at least `minPerWindow`, which may then exceed the
 * period's allowance: the caller clamps). Whole windows cost: 1,200 a minute -> 19 a second (95%);
 * 1,000 -> 16 (96%); 600 -> 9 a second (90%); 60 -> 6 every 7 s (86%); at least 91% from 1,000 a
 * minute up, 76% from 10.
 */
export function windowPlan(perPeriod: number, periodS = 60, minPerWindow = 1, slackS = 1): WindowPlan {
  let best: WindowPlan | undefined;
  for (let windowS = 1; windowS <= periodS; windowS++) {
    const perWindow = Math.floor(perPeriod / (Math.ceil((periodS + slackS) / windowS) + 1));
    if (perWindow < Math.max(1, minPerWindow)) continue;
    if (!best || perWindow / windowS > best.perWindow / best.windowS) best = { windowS, perWindow };
  }
  return best ?? { windowS: periodS, perWindow: Math.max(1, minPerWindow, Math.floor(perPeriod / 2)) };
}

/** Units a plan lets through per period (its ceiling, below the allowance by what whole windows cost). */
export function planRate(plan: WindowPlan, periodS = 60): number {
  return (plan.perWindow * periodS) / plan.windowS;
}
