/**
 * `ecosym devices`: the audio output devices `play --device` can open, or why
 * there are none (exit 3, as for `play` with no device).
 */
import { listOutputDevices } from '../engine/node/devices.ts';

export async function devicesCommand(json: boolean, log: (s: string) => void = console.log): Promise<number> {
  const { devices, reason } = await listOutputDevices();
  if (json) log(JSON.stringify({ devices, ...(reason === undefined ? {} : { reason }) }, null, 2));
  else if (!devices.length) log(`No audio output devices: ${reason}.`);
  else for (const d of devices) log(`${d.label}\n  id ${d.id}`);
  return devices.length ? 0 : 3;
}
