import { describe, expect, it } from '@jest/globals';
import { AimdController, type AimdState } from './aimd.js';

/** A clock the test moves by hand. */
function fakeClock(start = 1_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

describe(AimdController.name, () => {
  const policy = { decreaseFactor: 0.5, minFraction: 0.1, increaseStep: 0.1, increaseAfterMs: 10_000, decreaseCooldownMs: 5_000 };

  it('halves the rate on a 429, once for the 429s that answer calls sent together', () => {
    const clock = fakeClock();
    const aimd = new AimdController(policy, clock.now);
    let state = aimd.initial();
    state = aimd.rateLimited(state);
    expect(state.fraction).toBe(0.5);
    clock.advance(1_000);
    state = aimd.rateLimited(state);
    expect(state.fraction).toBe(0.5);
    clock.advance(5_000);
    state = aimd.rateLimited(state);
    expect(state.fraction).toBe(0.25);
  });

  it('never goes below its floor', () => {
    const clock = fakeClock();
    const aimd = new AimdController(policy, clock.now);
    let state = aimd.initial();
    for (let i = 0; i < 10; i++) {
      state = aimd.rateLimited(state);
      clock.advance(5_000);
    }
    expect(state.fraction).toBe(0.1);
  });

  it('adds a step back for every window of successes, up to the configured limit', () => {
    const clock = fakeClock();
    const aimd = new AimdController(policy, clock.now);
    let state: AimdState = aimd.rateLimited(aimd.initial());
    expect(state.fraction).toBe(0.5);
    clock.advance(9_999);
    expect(aimd.wouldIncrease(state)).toBe(false);
    expect(aimd.succeeded(state)).toBe(state);
    const fractions: number[] = [];
    for (let i = 0; i < 7; i++) {
      clock.advance(10_000);
      state = aimd.succeeded(state);
      // many successes within one window add one step, not one each
      state = aimd.succeeded(state);
      fractions.push(Math.round(state.fraction * 100) / 100);
    }
    expect(fractions).toEqual([0.6, 0.7, 0.8, 0.9, 1, 1, 1]);
  });

  it('starts a new window of successes after a decrease', () => {
    const clock = fakeClock();
    const aimd = new AimdController(policy, clock.now);
    let state = aimd.rateLimited(aimd.initial());
    clock.advance(10_000);
    state = aimd.succeeded(state);
    expect(state.fraction).toBeCloseTo(0.6);
    clock.advance(6_000);
    state = aimd.rateLimited(state);
    expect(state.fraction).toBeCloseTo(0.3);
    clock.advance(9_000);
    expect(aimd.succeeded(state).fraction).toBeCloseTo(0.3);
  });
});
