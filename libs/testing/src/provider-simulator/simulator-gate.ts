import type { ProviderId } from '#libs/common';

/** Which requests a gate holds; every given field must match (none given: every request). */
export interface GateMatch {
  provider?: ProviderId;
  /** fingerprintForSimulator of the key the request carries. */
  keyFingerprint?: string;
  /** Text the request body must contain, e.g. a record's subject or a `[[marker]]` in its text. */
  marker?: string;
}

/** What a gate is shown of a request. */
export interface GatedRequest {
  provider: ProviderId;
  keyFingerprint: string | null;
  bodyText: string;
}

/**
 * Holds matching requests until the test lets them through, so a test can stop a job at an exact
 * point (mid-page, mid-run) instead of racing a latency against a poll interval.
 */
export class SimulatorGate {
  private readonly waiting: (() => void)[] = [];
  private readonly watchers: { count: number; resolve: () => void }[] = [];
  private allowance = 0;
  private opened = false;
  /** Requests that matched so far, held or let through. */
  arrived = 0;

  constructor(private readonly match: GateMatch) {}

  /** Requests waiting at the gate now. */
  get held(): number {
    return this.waiting.length;
  }

  matches(request: GatedRequest): boolean {
    const { provider, keyFingerprint, marker } = this.match;
    if (provider !== undefined && request.provider !== provider) return false;
    if (keyFingerprint !== undefined && request.keyFingerprint !== keyFingerprint) return false;
    return marker === undefined || request.bodyText.includes(marker);
  }

  /** Resolves when the request may go on. */
  pass(): Promise<void> {
    this.arrived++;
    if (this.opened) return Promise.resolve();
    if (this.allowance > 0) {
      this.allowance--;
      return Promise.resolve();
    }
    const passed = new Promise<void>((resolve) => this.waiting.push(resolve));
    for (const watcher of [...this.watchers]) {
      if (this.waiting.length >= watcher.count) {
        this.watchers.splice(this.watchers.indexOf(watcher), 1);
        watcher.resolve();
      }
    }
    return passed;
  }

  /** Resolves once at least `count` requests wait at the gate. */
  waitForHeld(count = 1): Promise<void> {
    if (this.waiting.length >= count) return Promise.resolve();
    return new Promise((resolve) => this.watchers.push({ count, resolve }));
  }

  /** Lets `count` requests through: held ones first, then the next to arrive. */
  release(count: number): void {
    let left = count;
    while (left > 0 && this.waiting.length > 0) {
      this.waiting.shift()!();
      left--;
    }
    this.allowance += left;
  }

  /** Lets every held request and every later one through. */
  open(): void {
    this.opened = true;
    for (const resolve of this.waiting.splice(0)) resolve();
  }
}
