/**
 * Audio output devices, as node-web-audio-api sees them
 * (`mediaDevices.enumerateDevices()`), and finding one by id or name.
 */

export interface OutputDevice {
  id: string;
  label: string;
}

/** The output devices here; none, with the reason, when there are none or they cannot be listed. */
export async function listOutputDevices(): Promise<{ devices: OutputDevice[]; reason?: string }> {
  try {
    const { mediaDevices } = await import('node-web-audio-api');
    const all = await mediaDevices.enumerateDevices();
    const devices = all.filter((d) => d.kind === 'audiooutput').map((d) => ({ id: d.deviceId, label: d.label }));
    return devices.length ? { devices } : { devices, reason: 'the audio system reports no output device (no sound card, or no driver for it)' };
  } catch (e) {
    return { devices: [], reason: `the audio devices could not be listed: ${(e as Error)?.message ?? String(e)}` };
  }
}

/**
 * The output device a user means: its exact id, its exact label, or the one
 * device whose label contains the text (case-insensitive). An error sentence
 * listing the devices when there is no such device or more than one.
 */
export async function findOutputDevice(name: string): Promise<OutputDevice | string> {
  const { devices, reason } = await listOutputDevices();
  if (!devices.length) return `no output device "${name}": ${reason}`;
  const exact = devices.find((d) => d.id === name || d.label === name);
  if (exact) return exact;
  const parts = devices.filter((d) => d.label.toLowerCase().includes(name.toLowerCase()));
  const list = devices.map((d) => `"${d.label}" (${d.id})`).join(', ');
  if (parts.length === 1) return parts[0]!;
  return parts.length ? `"${name}" matches ${parts.length} output devices; be more precise (devices: ${list})` : `no output device "${name}" (devices: ${list})`;
}
