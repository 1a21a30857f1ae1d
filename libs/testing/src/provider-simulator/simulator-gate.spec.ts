import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { fingerprintForSimulator } from './fingerprint.js';
import { ProviderSimulator } from './provider-simulator.js';
import type { SimulatorUrls } from './simulator-types.js';

const KEY_A = 'sk-gate-spec-key-a-000000000000000001';
const KEY_B = 'sk-gate-spec-key-b-000000000000000002';

describe('ProviderSimulator gates', () => {
  const simulator = new ProviderSimulator({ validKeys: { openai: [KEY_A, KEY_B] } });
  let urls: SimulatorUrls;

  beforeAll(async () => {
    urls = await simulator.start();
  });
  afterEach(() => simulator.reset());
  afterAll(() => simulator.stop());

  const complete = (key: string, text: string) =>
    fetch(`${urls.openaiBaseUrl}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: text }] }),
    }).then((response) => response.status);

  it('holds matching requests until released, one by one', async () => {
    const gate = simulator.gate({ marker: '[[hold]]' });
    const answered: string[] = [];
    const held = [1, 2].map((n) => complete(KEY_A, `[[hold]] ${n}`).then(() => answered.push(`held ${n}`)));
    await expect(complete(KEY_A, 'not gated')).resolves.toBe(200);

    await gate.waitForHeld(2);
    expect(gate.held).toBe(2);
    expect(answered).toEqual([]);
    gate.release(1);
    await Promise.race(held);
    expect(answered).toHaveLength(1);
    gate.open();
    await Promise.all(held);
    expect(answered).toHaveLength(2);
    expect(gate.arrived).toBe(2);
  });

  it('holds only the key it names', async () => {
    const gate = simulator.gate({ keyFingerprint: fingerprintForSimulator(KEY_B) });
    const b = complete(KEY_B, 'b');
    await expect(complete(KEY_A, 'a')).resolves.toBe(200);
    await gate.waitForHeld(1);
    gate.release(1);
    await expect(b).resolves.toBe(200);
  });

  it('lets requests through in advance, and reset opens what is still held', async () => {
    const gate = simulator.gate({ provider: 'openai' });
    gate.release(1);
    await expect(complete(KEY_A, 'first passes at once')).resolves.toBe(200);
    const second = complete(KEY_A, 'second waits');
    await gate.waitForHeld(1);
    simulator.reset();
    await expect(second).resolves.toBe(200);
    await expect(complete(KEY_A, 'the gate is gone')).resolves.toBe(200);
  });
});
