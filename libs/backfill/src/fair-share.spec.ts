import { describe, expect, it } from '@jest/globals';
import { fairShare } from './fair-share.js';

const census = (running: Record<string, number>, waiting: string[] = []) => ({
  running: new Map(Object.entries(running)),
  waiting: new Set(waiting),
});

describe(fairShare.name, () => {
  it('gives a tenant its cap while nobody else waits', () => {
    expect(fairShare('big', census({ big: 4 }), 4, false)).toBe(4);
    expect(fairShare('big', census({ big: 3 }, ['big']), 4, true)).toBe(4);
  });

  it('shares the slots in use equally when another tenant waits', () => {
    expect(fairShare('big', census({ big: 4 }, ['small']), 4, false)).toBe(2);
    // the small tenant's own waiting job is no other tenant: it may take a slot up to its cap
    expect(fairShare('small', census({ big: 4 }, ['small']), 4, true)).toBe(4);
    expect(fairShare('big', census({ big: 3, small: 1 }, ['small']), 4, false)).toBe(2);
  });

  it('rounds up, so no slot idles, and never exceeds the cap', () => {
    expect(fairShare('a', census({ a: 3 }, ['b']), 2, false)).toBe(2);
    expect(fairShare('a', census({ a: 2, b: 1 }, ['c']), 8, false)).toBe(1);
    expect(fairShare('a', census({ a: 5 }, ['b']), 8, false)).toBe(3);
  });

  it('ignores a waiting tenant already at its own cap: its jobs wait for itself, not for others', () => {
    expect(fairShare('a', census({ a: 3, b: 2 }, ['b']), 2, false)).toBe(2);
    expect(fairShare('a', census({ a: 4, b: 2 }, ['b']), 4, false)).toBe(3);
  });
});
