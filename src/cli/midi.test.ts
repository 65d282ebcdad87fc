import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import tonejsMidi from '@tonejs/midi';
import { PROJECT_ROOT, loadPatchFile, resolvePatchPath } from '../engine/node/files.ts';
import { openMidiSystem, virtualPorts, type MidiSystem } from '../engine/node/midi/system.ts';
import { learnArg, midiCommand, NO_MIDI } from './midi.ts';
import { renderCommand } from './render.ts';
import { validateCommand } from './info.ts';
import { main } from './main.ts';
import { UsageError } from './common.ts';
import { refuseSuspendPoints } from '../../tests/support/faults.ts';

const { Midi } = tonejsMidi;

function ecosym(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(process.execPath, [resolve(PROJECT_ROOT, 'bin/ecosym.mjs'), ...args], { cwd: PROJECT_ROOT, env: { ...process.env, ...env }, timeout: 120_000 }, (err, stdout, stderr) =>
      done({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
    );
  });
}

describe('ecosym midi', () => {
  it('says that MIDI is unavailable and why, exit 4', async () => {
    const lines: string[] = [];
    const code = await midiCommand(undefined, { availability: { ok: false, reason: 'no ALSA sequencer on this machine (/dev/snd/seq is missing)' } }, (s) => lines.push(s));
    expect(code).toBe(NO_MIDI);
    expect(lines).toStrictEqual(['MIDI is unavailable: no ALSA sequencer on this machine (/dev/snd/seq is missing).']);
    const json: string[] = [];
    await midiCommand('ports', { json: true, availability: { ok: false, reason: 'x' } }, (s) => json.push(s));
    expect(JSON.parse(json[0]!)).toStrictEqual({ available: false, reason: 'x' });
  });

  it('as a process: one clear line and exit code 4 (MIDI turned off here)', async () => {
    const r = await ecosym(['midi'], { ECOSYM_MIDI: 'off' });
    expect(r.code).toBe(4);
    expect(r.stdout.trim()).toBe('MIDI is unavailable: MIDI is turned off (ECOSYM_MIDI=off).');
    expect(r.stderr).toBe('');
  });

  it('lists the ports there are', async () => {
    const system = (await openMidiSystem({ virtual: true })) as MidiSystem;
    const ports = await virtualPorts();
    ports.addInput('Keys In');
    ports.addOutput('Synth Out', () => undefined);
    const lines: string[] = [];
    expect(await midiCommand('ports', { system }, (s) => lines.push(s))).toBe(0);
    expect(lines).toStrictEqual(['MIDI inputs (virtual ports only):', '  Keys In  (virtual)', 'MIDI outputs:', '  Synth Out  (virtual)']);
    const json: string[] = [];
    await midiCommand(undefined, { system, json: true }, (s) => json.push(s));
    expect(JSON.parse(json[0]!)).toMatchObject({ available: true, kind: 'virtual', inputs: [{ name: 'Keys In' }], outputs: [{ name: 'Synth Out' }] });
  });

  it('refuses an unknown subcommand', async () => {
    await expect(midiCommand('list', { availability: { ok: false, reason: 'x' } })).rejects.toThrow(UsageError);
  });
});

describe('ecosym play --midi-learn', () => {
  const pf = loadPatchFile(resolvePatchPath('warming-stripes'));
  it('takes a target or stream:NAME, and names what is wrong otherwise', () => {
    expect(learnArg(pf, 'lead.detune')).toStrictEqual({ to: 'lead.detune' });
    expect(learnArg(pf, 'stream:anomaly')).toStrictEqual({ stream: 'anomaly' });
    expect(() => learnArg(pf, 'stream:nope')).toThrow('the patch has no stream "nope" (streams: anomaly)');
    expect(() => learnArg(pf, 'lead.nope')).toThrow('voice "lead" has no parameter "nope"');
  });

  it('a bad target is a usage error before anything plays', async () => {
    await expect(main(['play', 'warming-stripes', '--sink', 'none', '--midi-learn', 'nothing.volume'])).rejects.toThrow(UsageError);
  });
});

describe('ecosym validate and the midi section', () => {
  it('reports what the midi section names that the patch lacks, one line each, exit 1', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ecosym-midi-'));
    const file = join(dir, 'm.yaml');
    writeFileSync(
      file,
      readFileSync(join(PROJECT_ROOT, 'patches/warming-stripes.yaml'), 'utf8') +
        '\nmidi:\n  play: { keys: 1 }\n  controls: [{ cc: 1, to: lead.detune }, { cc: 2, stream: wind }]\n',
    );
    const errors: string[] = [];
    expect(validateCommand([file], () => undefined, (s) => errors.push(s))).toBe(2);
    expect(errors).toStrictEqual([
      `${file}: midi.play.keys: unknown voice (voices: ${Object.keys(loadPatchFile(resolvePatchPath('warming-stripes')).patch.voices).join(', ')})`,
      `${file}: midi.controls[1]: unknown stream "wind" (streams: anomaly)`,
    ]);
  });
});

describe('ecosym render --midi', () => {
  it('writes the notes as a MIDI file beside the WAV: a track per voice, as many notes as the render played', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ecosym-midi-'));
    const lines: string[] = [];
    const summary = await renderCommand(
      { patch: 'carbon-pulse', duration: '6s', out: join(dir, 'x.wav'), midi: join(dir, 'x.mid'), data: [], sampleRate: '22050' },
      (s) => lines.push(s),
    );
    const file = new Midi(readFileSync(join(dir, 'x.mid')));
    const pf = loadPatchFile(resolvePatchPath('carbon-pulse'));
    expect(file.tracks.map((t) => t.name)).toStrictEqual(Object.keys(pf.patch.voices));
    expect(file.tracks.reduce((n, t) => n + t.notes.length, 0)).toBe(summary.notes);
    expect(file.header.tempos.length).toBeGreaterThan(0);
    expect(summary.midiFile).toBe(join(dir, 'x.mid'));
    expect(lines.at(-1)).toMatch(new RegExp(`^Wrote .*x\\.mid: ${summary.notes} notes on ${file.tracks.length} tracks`));
  });

  it('a render that starts over (a refused suspend point) writes the same WAV, MIDI and OSC log as a clean one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ecosym-restart-'));
    const bounce = async (name: string) => {
      const f = (ext: string) => join(dir, `${name}.${ext}`);
      await renderCommand({ patch: 'carbon-pulse', duration: '4s', out: f('wav'), midi: f('mid'), oscLog: f('jsonl'), data: [], sampleRate: '22050', quiet: true });
      return ['wav', 'mid', 'jsonl'].map((ext) => readFileSync(f(ext)));
    };
    const clean = await bounce('clean');
    const fault = refuseSuspendPoints(1, 1.3, 1);
    let again: Buffer[];
    try {
      again = await bounce('again');
    } finally {
      fault.restore();
    }
    expect(fault.renders).toBe(2); // it did start over
    expect(new Midi(clean[1]!).tracks.reduce((n, t) => n + t.notes.length, 0)).toBeGreaterThan(0);
    for (let i = 0; i < 3; i++) expect(again[i]!.equals(clean[i]!)).toBe(true);
  });

  it('wants a .mid file name', async () => {
    await expect(renderCommand({ patch: 'carbon-pulse', duration: '1s', midi: 'x.wav', data: [] })).rejects.toThrow('--midi "x.wav": expected a .mid file');
  });
});
