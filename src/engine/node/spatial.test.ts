/**
 * Multichannel output, rendered and measured per channel: voices placed at the
 * speakers of a ring of eight land on those channels, a voice between two
 * speakers is shared by just those two at equal power, an orbiting voice
 * crosses the channels in order, and a fold-down to stereo keeps the level.
 */
import { describe, expect, it } from 'vitest';
import { renderOffline } from './render.ts';
import { parsePatchOrThrow } from '../core/patchLoader.ts';
import { pitch, rms } from '../core/analysis.ts';

const SR = 48000;
const midiToFreq = (m: number) => 440 * 2 ** ((m - 69) / 12);
const NOTES = ['C3', 'E3', 'G3', 'C4', 'E4', 'G4', 'C5', 'E5'];
const MIDI = [48, 52, 55, 60, 64, 67, 72, 76];

function patch(voices: string, output = '{ layout: ring, channels: 8 }'): ReturnType<typeof parsePatchOrThrow> {
  return parsePatchOrThrow(
    `
name: ring test
tempo: 60
key: C major
streams: { s: { default: 0 } }
output: ${output}
voices:
${voices}
`,
    'ring.yaml',
  );
}

const held = (name: string, note: string, position: string) =>
  `  ${name}: { synth: synth, oscillator: sine, poly: 1, notes: { mode: fixed, note: ${note} }, rhythm: { hold: true }, envelope: { attack: 0.01, release: 0.1 }, volume: -18, position: ${position} }`;

/** Mean square over all channels from `from` seconds on: the total power. */
const power = (chs: Float32Array[], from = 0.5) => chs.reduce((sum, ch) => sum + rms(ch, Math.round(from * SR)) ** 2, 0);

describe('a ring of eight', () => {
  it('each channel carries the voice placed at its speaker (its pitch, measured per channel)', async () => {
    const p = patch(NOTES.map((n, i) => held(`v${i + 1}`, n, `{ speaker: ${i + 1} }`)).join('\n'));
    const r = await renderOffline({ patch: p, duration: 2, sampleRate: SR });
    expect(r.errors).toEqual([]);
    expect(r.channels).toHaveLength(8);
    for (let c = 0; c < 8; c++) {
      const f = pitch(r.channels[c]!, SR, SR / 2, 2 * SR, 60, 1000);
      expect(Math.abs(12 * Math.log2(f / midiToFreq(MIDI[c]!))), `channel ${c + 1}: ${f.toFixed(1)} Hz`).toBeLessThan(0.3);
      expect(rms(r.channels[c]!, SR / 2)).toBeGreaterThan(0.003);
    }
  });

  it('a voice between two speakers sounds on just those two, at equal power (−3 dB each)', async () => {
    const at = await renderOffline({ patch: patch(held('v', 'A4', '90')), duration: 1.5, sampleRate: SR });
    const between = await renderOffline({ patch: patch(held('v', 'A4', '67.5')), duration: 1.5, sampleRate: SR });
    const level = (chs: Float32Array[]) => chs.map((ch) => rms(ch, SR / 2));
    const a = level(at.channels);
    const b = level(between.channels);
    // 90° is speaker 3 (channel index 2); 67.5° is half-way from speaker 2 (45°) to 3.
    a.forEach((x, c) => (c === 2 ? expect(x).toBeGreaterThan(0.003) : expect(x).toBeLessThan(1e-4)));
    b.forEach((x, c) => (c === 1 || c === 2 ? expect(20 * Math.log10(x / a[2]!)).toBeCloseTo(-3.01, 1) : expect(x).toBeLessThan(1e-4)));
    expect(10 * Math.log10(power(between.channels) / power(at.channels))).toBeCloseTo(0, 1);
  });

  it('an orbiting voice crosses the channels in order, one speaker per second at 8 s a turn', async () => {
    const r = await renderOffline({ patch: patch(held('v', 'A4', '{ orbit: 8 }')), duration: 8, sampleRate: SR });
    // The time each channel is loudest (50 ms windows).
    const win = SR / 20;
    const loudest = r.channels.map((ch, c) => {
      let best = -1;
      let at = 0;
      for (let w = 0; (w + 1) * win <= ch.length; w++) {
        const x = rms(ch, w * win, (w + 1) * win);
        // Channel 1 is loudest at 0 s and again at 8 s: look at its first half turn only.
        if (x > best && (c !== 0 || w * win < 4 * SR)) [best, at] = [x, (w + 0.5) / 20];
      }
      return at;
    });
    expect(loudest[0]!).toBeLessThan(0.2);
    for (let c = 1; c < 8; c++) expect(Math.abs(loudest[c]! - c), `channel ${c + 1} loudest at ${loudest[c]} s`).toBeLessThan(0.1);
  });

  it('folded down to stereo (a 2-channel output), the level stays within 1 dB', async () => {
    const voices = NOTES.map((n, i) => held(`v${i + 1}`, n, `{ speaker: ${i + 1} }`)).join('\n') + '\n' + held('o', 'A4', '{ orbit: 3 }');
    const eight = await renderOffline({ patch: patch(voices), duration: 3, sampleRate: SR });
    const two = await renderOffline({ patch: patch(voices), duration: 3, sampleRate: SR, channels: 2 });
    expect(two.channels).toHaveLength(2);
    const db = 10 * Math.log10(power(two.channels) / power(eight.channels));
    expect(Math.abs(db), `${db.toFixed(2)} dB`).toBeLessThan(1);
    // Both sides carry sound: the ring is spread across the pair, not summed into one.
    expect(rms(two.channels[0]!, SR / 2)).toBeGreaterThan(0.3 * rms(two.channels[1]!, SR / 2));
  });
});

describe('other layouts', () => {
  it('a line of four: a voice at 1/3 is on speaker 2, at 1 on speaker 4', async () => {
    const r = await renderOffline({ patch: patch(held('a', 'C4', '0.33333333') + '\n' + held('b', 'G4', '1'), '{ layout: line, channels: 4 }'), duration: 1.5, sampleRate: SR });
    const lv = r.channels.map((ch) => rms(ch, SR / 2));
    expect(lv[0]!).toBeLessThan(1e-3);
    expect(lv[2]!).toBeLessThan(1e-3);
    expect(Math.abs(pitch(r.channels[1]!, SR, SR / 2) - midiToFreq(60))).toBeLessThan(3);
    expect(Math.abs(pitch(r.channels[3]!, SR, SR / 2) - midiToFreq(67))).toBeLessThan(4);
  });

  it('zones: a voice in a named zone plays on that zone\'s channel', async () => {
    const r = await renderOffline({ patch: patch(held('a', 'C4', '{ zone: hall }'), '{ layout: zones, zones: [lobby, hall, garden] }'), duration: 1, sampleRate: SR });
    expect(r.channels).toHaveLength(3);
    const lv = r.channels.map((ch) => rms(ch, SR / 2));
    expect(lv[1]!).toBeGreaterThan(0.003);
    expect(lv[0]! + lv[2]!).toBeLessThan(1e-4);
  });
});
