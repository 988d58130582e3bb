import { describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/wait.js';

describe('waitFor', () => {
  it('returns the first truthy value of the condition', async () => {
    let n = 0;
    expect(await waitFor(() => (++n >= 3 ? n : 0), { timeoutMs: 1000, intervalMs: 1 })).toBe(3);
  });
  it('throws at the deadline, naming what it waited for', async () => {
    const t0 = Date.now();
    await expect(waitFor(async () => false, { timeoutMs: 50, intervalMs: 5, what: 'nothing' })).rejects.toThrow(/timed out after 50 ms waiting for nothing/);
    expect(Date.now() - t0).toBeLessThan(1000);
  });
});
