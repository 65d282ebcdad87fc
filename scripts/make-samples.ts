/**
 * Synthesises the short audio samples shipped in `samples/`.
 *
 *   npx tsx scripts/make-samples.ts            # writes into <repo>/samples
 *   npx tsx scripts/make-samples.ts <outDir>   # writes into another directory
 *
 * Everything is rendered with node-web-audio-api's OfflineAudioContext and is
 * deterministic: no Math.random (noise comes from the engine's seeded mulberry32),
 * no clock-dependent values, so rendering twice gives byte-identical WAVs.
 *
 * Output: mono, 48 kHz, 16-bit PCM WAV, each under 1.5 s, peak-normalised to
 * -3 dBFS, with a silent lead-in of a few ms and a cosine fade-out so they do not click.
 * The generated audio is the project's own work (MIT, like the rest of the repo).
 */
import { mkdirSync, realpathSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { OfflineAudioContext } from 'node-web-audio-api';
import wavefilePkg from 'wavefile';
import { mulberry32 } from '../src/engine/core/random.ts';

// wavefile is a CommonJS package: under ESM only the default export (module.exports) exists.
const { WaveFile } = wavefilePkg;

export const SAMPLE_RATE = 48_000;
/** Target peak level in dBFS. */
export const PEAK_DBFS = -3;
/** Silence before each sound starts, so the first 2 ms of every file are (near) zero. */
const LEAD_IN = 0.003;
/** Linear attack after the lead-in. */
const ATTACK = 0.002;

type Ctx = InstanceType<typeof OfflineAudioContext>;

/**
 * Gain envelope: 0 until `start`, linear attack to `peak`, then exponential decay
 * with time constant `tau` (seconds).
 */
function decayEnvelope(ctx: Ctx, start: number, peak: number, tau: number): GainNode {
  const g = ctx.createGain();
  g.gain.setValueAtTime(0, 0);
  g.gain.setValueAtTime(0, start);
  g.gain.linearRampToValueAtTime(peak, start + ATTACK);
  g.gain.setTargetAtTime(0, start + ATTACK, tau);
  return g;
}

async function render(duration: number, build: (ctx: Ctx) => void): Promise<Float32Array> {
  const length = Math.round(duration * SAMPLE_RATE);
  const ctx = new OfflineAudioContext(1, length, SAMPLE_RATE);
  build(ctx);
  const buffer = await ctx.startRendering();
  return Float32Array.from(buffer.getChannelData(0));
}

// ---------------------------------------------------------------- instruments

export interface DropSpec {
  /** Final (perceived) pitch of the droplet in Hz. */
  pitch: number;
  /** Chirp start frequency as a fraction of `pitch`. */
  chirpFrom: number;
  /** Duration of the upward exponential chirp in seconds. */
  chirpTime: number;
  /** Amplitude decay time constant in seconds. */
  tau: number;
  duration: number;
}

/** Water droplet: a sine with a fast upward exponential pitch chirp and exponential decay. */
export function renderDrop(spec: DropSpec): Promise<Float32Array> {
  return render(spec.duration, (ctx) => {
    const osc = ctx.createOscillator();
    osc.type = 'sine';
    osc.frequency.setValueAtTime(spec.pitch * spec.chirpFrom, 0);
    osc.frequency.setValueAtTime(spec.pitch * spec.chirpFrom, LEAD_IN);
    osc.frequency.exponentialRampToValueAtTime(spec.pitch, LEAD_IN + spec.chirpTime);
    const env = decayEnvelope(ctx, LEAD_IN, 1, spec.tau);
    osc.connect(env).connect(ctx.destination);
    osc.start(0);
    osc.stop(spec.duration);
  });
}

/** Wooden knock: a band-passed (seeded) noise burst plus a damped ~400 Hz sine, ~80 ms. */
export function renderKnock(seed = 0x5eed_0001): Promise<Float32Array> {
  const duration = 0.12;
  return render(duration, (ctx) => {
    const rand = mulberry32(seed);
    const noiseBuf = ctx.createBuffer(1, Math.round(duration * SAMPLE_RATE), SAMPLE_RATE);
    const data = new Float32Array(noiseBuf.length);
    for (let i = 0; i < data.length; i++) data[i] = rand() * 2 - 1;
    noiseBuf.copyToChannel(data, 0);

    const noise = ctx.createBufferSource();
    noise.buffer = noiseBuf;
    const band = ctx.createBiquadFilter();
    band.type = 'bandpass';
    band.frequency.value = 1200;
    band.Q.value = 4;
    const noiseEnv = decayEnvelope(ctx, LEAD_IN, 1.4, 0.006);
    noise.connect(band).connect(noiseEnv).connect(ctx.destination);
    noise.start(0);

    // Body resonance: damped sine with a tiny downward pitch settle (420 -> 400 Hz).
    const body = ctx.createOscillator();
    body.type = 'sine';
    body.frequency.setValueAtTime(420, 0);
    body.frequency.setValueAtTime(420, LEAD_IN);
    body.frequency.exponentialRampToValueAtTime(400, LEAD_IN + 0.02);
    const bodyEnv = decayEnvelope(ctx, LEAD_IN, 0.8, 0.016);
    body.connect(bodyEnv).connect(ctx.destination);
    body.start(0);
    body.stop(duration);
  });
}

/** Inharmonic bell partials: [frequency ratio, relative amplitude, decay time constant (s)]. */
export const BELL_PARTIALS: ReadonlyArray<readonly [number, number, number]> = [
  [1.0, 1.0, 0.42],
  [2.0, 0.6, 0.3],
  [2.76, 0.42, 0.2],
  [5.4, 0.25, 0.1],
  [8.93, 0.15, 0.05],
];

/** Bell from inharmonic partials (ratios 1, 2, 2.76, 5.40, 8.93), 1.2 s. */
export function renderBell(fundamental = 523.25): Promise<Float32Array> {
  const duration = 1.2;
  return render(duration, (ctx) => {
    for (const [ratio, amp, tau] of BELL_PARTIALS) {
      const osc = ctx.createOscillator();
      osc.type = 'sine';
      osc.frequency.value = fundamental * ratio;
      const env = decayEnvelope(ctx, LEAD_IN, amp, tau);
      osc.connect(env).connect(ctx.destination);
      osc.start(0);
      osc.stop(duration);
    }
  });
}

// ---------------------------------------------------------------- post + WAV

/** Half-cosine fade-out over the last `fadeOut` seconds, a short fade-in, then peak-normalise. */
export function finish(x: Float32Array, fadeOut: number, peakDbfs = PEAK_DBFS): Float32Array {
  const y = Float32Array.from(x);
  const fadeIn = Math.round(0.001 * SAMPLE_RATE);
  for (let i = 0; i < fadeIn && i < y.length; i++) y[i]! *= i / fadeIn;
  const n = Math.min(y.length, Math.round(fadeOut * SAMPLE_RATE));
  for (let i = 0; i < n; i++) {
    const k = y.length - n + i;
    y[k]! *= 0.5 * (1 + Math.cos((Math.PI * (i + 1)) / n));
  }
  let peak = 0;
  for (const v of y) if (Number.isFinite(v)) peak = Math.max(peak, Math.abs(v));
  if (!(peak > 0)) throw new Error('rendered silence');
  const gain = 10 ** (peakDbfs / 20) / peak;
  for (let i = 0; i < y.length; i++) y[i]! *= gain;
  return y;
}

/** Encode mono float samples as a 16-bit PCM WAV (rounded, clamped). */
export function encodeWav16(x: Float32Array, sampleRate = SAMPLE_RATE): Uint8Array {
  const pcm = new Int16Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const v = Math.round(x[i]! * 32767);
    pcm[i] = Math.max(-32768, Math.min(32767, v));
  }
  const wav = new WaveFile();
  wav.fromScratch(1, sampleRate, '16', pcm);
  return wav.toBuffer();
}

export const DROPS: Readonly<Record<string, DropSpec>> = {
  // Roughly C6, E6, G6 perceived pitch (the pitch the chirp settles on).
  'drop-1.wav': { pitch: 1046.5, chirpFrom: 0.45, chirpTime: 0.03, tau: 0.1, duration: 0.5 },
  'drop-2.wav': { pitch: 1318.51, chirpFrom: 0.5, chirpTime: 0.025, tau: 0.085, duration: 0.45 },
  'drop-3.wav': { pitch: 1567.98, chirpFrom: 0.4, chirpTime: 0.02, tau: 0.065, duration: 0.4 },
};

/** Render every sample and write it under `outDir`. Returns the relative paths written. */
export async function makeSamples(outDir: string): Promise<string[]> {
  const jobs: Array<[string, () => Promise<Float32Array>, number]> = [];
  for (const [name, spec] of Object.entries(DROPS)) {
    jobs.push([join('drops', name), () => renderDrop(spec), 0.05]);
  }
  jobs.push([join('wood', 'knock.wav'), () => renderKnock(), 0.02]);
  jobs.push([join('bells', 'bell-c5.wav'), () => renderBell(523.25), 0.2]);

  const written: string[] = [];
  for (const [rel, make, fadeOut] of jobs) {
    const samples = finish(await make(), fadeOut);
    const file = join(outDir, rel);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, encodeWav16(samples));
    written.push(rel);
  }
  return written;
}

function isMain(): boolean {
  const entry = process.argv[1];
  if (!entry) return false;
  try {
    return import.meta.url === pathToFileURL(realpathSync(entry)).href;
  } catch {
    return import.meta.url === pathToFileURL(resolve(entry)).href;
  }
}

if (isMain()) {
  const defaultOut = fileURLToPath(new URL('../samples/', import.meta.url));
  const outDir = resolve(process.argv[2] ?? defaultOut);
  const files = await makeSamples(outDir);
  for (const f of files) console.log(`wrote ${join(outDir, f)}`);
}
