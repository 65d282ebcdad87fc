/**
 * The Settings screen's audio output controls in headless Chromium against a
 * real session (sink none, 44.1 kHz) and server: the device list from
 * `list devices`, and switching the sample rate 44100 → 48000 re-opens the
 * output (GET /api/state engine.sampleRate) while the patch plays on.
 * Screenshot in test-artifacts/ui/.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import type { Snapshot } from '../../src/shared/protocol.ts';
import { ARTIFACTS, startShow, type Show } from './support.ts';

let show: Show;
beforeAll(async () => {
  show = await startShow('carbon-pulse', { sampleRate: 44100 });
}, 120_000);
afterAll(async () => {
  await show?.close();
});

const snapshot = async () => (await show.state()) as unknown as Snapshot;

describe('UI: Settings output', () => {
  it('lists the output choices and switches the sample rate 44100 → 48000 (the session re-opens its output)', async () => {
    expect((await snapshot()).engine.sampleRate).toBe(44100);
    const { page, problems } = await show.page();
    await page.goto(`${show.server.baseUrl}?token=${show.server.token}#/Settings`);
    await page.getByRole('status', { name: 'Connection' }).getByText('connected').waitFor();
    const device = page.getByRole('combobox', { name: 'Output device' });
    const rate = page.getByRole('combobox', { name: 'Sample rate' });
    // The page shows what plays now: no device (sink none) at 44.1 kHz.
    await page.waitForFunction(() => (document.getElementById('rate') as HTMLSelectElement | null)?.value === '44100');
    expect(await device.inputValue()).toBe('none');
    expect(await device.locator('option').allTextContents()).toEqual(expect.arrayContaining(['Default device', 'No output (silent)']));
    await page.getByText(/^\s*(\d+ devices? found\.|No output devices listed)/).waitFor();

    await rate.selectOption('48000');
    await page.getByRole('button', { name: 'Apply output' }).click();
    await page.getByRole('status', { name: 'Output status' }).getByText('Playing on none at 48000 Hz').waitFor({ timeout: 60_000 });
    const s = await snapshot();
    expect(s.engine.sampleRate).toBe(48000);
    expect(s.engine.sink).toBe('none');
    expect(s.patch?.name).toBe('Carbon Pulse');
    // The control follows the session's state once the choice is applied.
    await page.waitForFunction(() => (document.getElementById('rate') as HTMLSelectElement | null)?.value === '48000');
    await page.screenshot({ path: join(ARTIFACTS, 'settings-output-1280x800.png'), fullPage: true });
    expect(problems).toEqual([]);
  }, 180_000);

  it('a device the session cannot open changes nothing and says why', async () => {
    const before = (await snapshot()).engine;
    const { page } = await show.page();
    await page.goto(`${show.server.baseUrl}?token=${show.server.token}#/Settings`);
    await page.getByRole('status', { name: 'Connection' }).getByText('connected').waitFor();
    // No device here to pick: an unknown id, as a stale list would have, through the same control.
    await page.getByRole('combobox', { name: 'Output device' }).evaluate((sel) => {
      const s = sel as HTMLSelectElement;
      s.add(new Option('Gone', 'no-such-device-xyz'));
      s.value = 'no-such-device-xyz';
      s.dispatchEvent(new Event('change', { bubbles: true }));
    });
    await page.getByRole('button', { name: 'Apply output' }).click();
    await page.getByRole('status', { name: 'Output status' }).getByText(/^Not changed: /).waitFor({ timeout: 60_000 });
    expect((await snapshot()).engine).toMatchObject({ sink: before.sink, sampleRate: before.sampleRate });
  }, 120_000);
});
