/**
 * Turns a message payload (WebSocket text, MQTT bytes) into feed records:
 * a bare number, JSON (selected by JSONPath), or text.
 */
import { recordsFromJson, type FeedRecord } from '../../core/sources/records.ts';
import type { FieldSelect, PayloadFormat } from '../../core/sources/uri.ts';
import { parseFiniteNumber } from '../../core/numbers.ts';

export function decodePayload(text: string, fields: FieldSelect, format: PayloadFormat = 'auto'): FeedRecord[] {
  const t = text.trim();
  if (format === 'text') return [{ value: t, dataTime: NaN }];
  // Text that is not a strict number goes on as it came, for the gate to reject with its reason.
  if (format === 'number') {
    const n = parseFiniteNumber(t);
    return [{ value: t === '' ? null : typeof n === 'number' ? n : n === 'non-finite' ? NaN : t, dataTime: NaN }];
  }
  if (format === 'json' || t.startsWith('{') || t.startsWith('[')) {
    let doc: unknown;
    try {
      doc = JSON.parse(t);
    } catch (e) {
      throw new Error(`invalid JSON message (${(e as Error).message}): ${t.slice(0, 60)}${t.length > 60 ? '…' : ''}`);
    }
    return recordsFromJson(doc, fields);
  }
  // A bare value: the gate decides whether it is a number.
  return [{ value: t, dataTime: NaN }];
}
