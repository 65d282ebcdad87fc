import { describe, expect, it } from 'vitest';
import { ALSA_SEQ, matchPort, midiAvailability, openMidiSystem } from './system.ts';

describe('midiAvailability', () => {
  const linux = { platform: 'linux', arch: 'x64', setting: '' };

  it('says why there is no MIDI on Linux without the ALSA sequencer, touching nothing native', () => {
    const asked: string[] = [];
    const a = midiAvailability({ ...linux, exists: (p) => (asked.push(p), false) });
    expect(a).toStrictEqual({ ok: false, reason: expect.stringContaining(`no ALSA sequencer on this machine (${ALSA_SEQ} is missing`) });
    expect(asked).toStrictEqual([ALSA_SEQ]);
  });

  it('is available with the device, or on macOS and Windows', () => {
    expect(midiAvailability({ ...linux, exists: () => true })).toStrictEqual({ ok: true, kind: 'native' });
    expect(midiAvailability({ platform: 'darwin', arch: 'arm64', setting: '', exists: () => false })).toStrictEqual({ ok: true, kind: 'native' });
    expect(midiAvailability({ platform: 'win32', arch: 'x64', setting: '', exists: () => false })).toStrictEqual({ ok: true, kind: 'native' });
  });

  it('has no driver where jazz-midi has no binary', () => {
    expect(midiAvailability({ platform: 'linux', arch: 'arm64', setting: '', exists: () => true })).toStrictEqual({
      ok: false,
      reason: 'no MIDI driver for linux on arm64 (jazz-midi has none)',
    });
  });

  it('ECOSYM_MIDI turns it off, or to virtual ports only', () => {
    expect(midiAvailability({ ...linux, exists: () => true, setting: 'off' })).toStrictEqual({ ok: false, reason: 'MIDI is turned off (ECOSYM_MIDI=off)' });
    expect(midiAvailability({ ...linux, exists: () => false, setting: 'virtual' })).toStrictEqual({ ok: true, kind: 'virtual' });
  });

  it('openMidiSystem passes the reason on instead of starting anything', async () => {
    expect(await openMidiSystem({ availability: { ok: false, reason: 'because' } })).toStrictEqual({ unavailable: 'because' });
  });
});

describe('matchPort', () => {
  const ports = [{ name: 'Launchkey MK3 MIDI 1' }, { name: 'launchkey mk3 DAW' }, { name: 'IAC Bus 1' }];
  it('takes the exact name, then any case, then a part of it', () => {
    expect(matchPort(ports, 'launchkey mk3 DAW')).toBe('launchkey mk3 DAW');
    expect(matchPort(ports, 'iac bus 1')).toBe('IAC Bus 1');
    expect(matchPort(ports, 'LAUNCHKEY')).toBe('Launchkey MK3 MIDI 1');
    expect(matchPort(ports, 'daw')).toBe('launchkey mk3 DAW');
    expect(matchPort(ports, 'Korg')).toBeUndefined();
    expect(matchPort(ports, '  ')).toBeUndefined();
  });
});
