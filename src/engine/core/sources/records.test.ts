import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  formatRecordingRow,
  isRecording,
  parseFeedFile,
  parseRecording,
  parseTimeValue,
  recordsFromGeoJson,
  recordsFromJson,
  RECORDING_HEADER,
  sniffFormat,
} from './records.ts';
import { USGS_SAMPLE } from '../../../../tests/support/fixtures.ts';

describe('parseTimeValue', () => {
  it('reads epoch seconds, epoch milliseconds and ISO text', () => {
    expect(parseTimeValue(1764139500)).toBe(1764139500);
    expect(parseTimeValue(1764139500000)).toBe(1764139500);
    expect(parseTimeValue('2025-11-26T06:45:00Z')).toBe(Date.UTC(2025, 10, 26, 6, 45) / 1000);
    expect(parseTimeValue('1764139500000')).toBe(1764139500);
    expect(parseTimeValue(null)).toBeNaN();
    expect(parseTimeValue(NaN)).toBeNaN();
  });
});

describe('GeoJSON', () => {
  it('turns USGS features into events by id, oldest first, with coordinates as data', () => {
    const r = recordsFromGeoJson(USGS_SAMPLE, {});
    expect(r.map((x) => x.id)).toEqual(['ak0000001', 'ci40000002']);
    expect(r.map((x) => x.value)).toEqual([1.1, 2.4]);
    expect(r[0]!.dataTime).toBe(1764139000);
    expect(r[1]!.data).toMatchObject({ place: '10 km N of Somewhere, CA', lon: -117.5, lat: 35.7, depth: 8.2 });
  });

  it('takes the value property named, and ids from a property when asked', () => {
    const r = recordsFromJson(USGS_SAMPLE, { value: 'updated', id: 'place' });
    expect(r.map((x) => x.value)).toEqual([1764139100000, 1764139600000]);
    expect(r.map((x) => x.id)).toEqual(['5 km S of Elsewhere, AK', '10 km N of Somewhere, CA']);
  });

  it('rejects a document that is not a FeatureCollection', () => {
    expect(() => recordsFromGeoJson({ type: 'Feature' }, {})).toThrow(/not a GeoJSON FeatureCollection/);
  });
});

describe('JSON selection', () => {
  const doc = { station: 'x', readings: [{ t: '2025-01-01T00:00:00Z', v: 1.5, unit: 'degC' }, { t: '2025-01-01T01:00:00Z', v: 'oops' }] };

  it('selects one value by JSONPath', () => {
    expect(recordsFromJson({ current: { temp: 12.5 } }, { select: '$.current.temp' })).toEqual([{ value: 12.5, dataTime: NaN }]);
  });

  it('selects many objects, reading value, time and unit properties', () => {
    const r = recordsFromJson(doc, { select: '$.readings[*]', value: 'v', time: 't' });
    expect(r.map((x) => [x.value, x.dataTime, x.unit])).toEqual([
      [1.5, Date.UTC(2025, 0, 1) / 1000, 'degC'],
      ['oops', Date.UTC(2025, 0, 1, 1) / 1000, undefined],
    ]);
  });

  it('an array document yields one record per element by default', () => {
    expect(recordsFromJson([{ time: 10, value: 1 }, { time: 20, value: 2 }], {}).map((r) => [r.dataTime, r.value])).toEqual([
      [10, 1],
      [20, 2],
    ]);
  });

  it('a selection that matches nothing yields no records, and scripts cannot escape the sandbox', () => {
    expect(recordsFromJson(doc, { select: '$.nothing' })).toEqual([]);
    expect(() => recordsFromJson(doc, { select: '$.readings[?(process.exit(1))]' })).toThrow();
  });
});

describe('recordings', () => {
  it('round-trips rows with JSON data and commas, quotes and text values', () => {
    const rows = [
      { dataTime: 1764139000, stream: 'quakes', value: 1.1, data: { place: '5 km S of "Elsewhere", AK' } },
      { dataTime: 1764139500.25, stream: 'weather', value: 'rain' },
      { dataTime: 1764139600, stream: 'temp', value: -3.5 },
    ];
    const text = [RECORDING_HEADER, ...rows.map(formatRecordingRow)].join('\n');
    expect(isRecording(text)).toBe(true);
    const back = parseRecording(text);
    expect(back.skipped).toBe(0);
    expect(back.rows).toEqual([
      rows[0],
      { dataTime: 1764139500.25, stream: 'weather', value: 'rain', data: { text: 'rain' } },
      { dataTime: 1764139600, stream: 'temp', value: -3.5, data: undefined },
    ]);
    expect(parseRecording(text, 'temp').rows).toHaveLength(1);
  });

  it('property: any finite value and time survives a round trip', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.integer({ min: 0, max: 4e9 }), fc.string(), (v, t, note) => {
        const line = formatRecordingRow({ dataTime: t, stream: 's', value: v, data: { note } });
        const r = parseRecording(`${RECORDING_HEADER}\n${line}\n`).rows[0]!;
        return Object.is(r.value, v === 0 ? 0 : v) && r.dataTime === t && (r.data as { note: string }).note === note;
      }),
    );
  });

  it('skips a line torn by a crash and keeps the rest', () => {
    const text = `${RECORDING_HEADER}\n2025-01-01T00:00:00.000Z,a,1,\n2025-01-01T00:00:01.000Z,a,2,"{""x"":\n`;
    const r = parseRecording(text);
    expect(r.rows.map((x) => x.value)).toEqual([1]);
    expect(r.skipped).toBe(1);
  });
});

describe('parseFeedFile', () => {
  it('reads CSV, TSV, NDJSON, JSON and GeoJSON into the same records', () => {
    const csv = 'date,v\n2025-01-01,1\n2025-01-02,2\n';
    const tsv = 'date\tv\n2025-01-01\t1\n2025-01-02\t2\n';
    const nd = '{"time":"2025-01-01","value":1}\n{"time":"2025-01-02","value":2}\n';
    const json = JSON.stringify([{ time: '2025-01-01', value: 1 }, { time: '2025-01-02', value: 2 }]);
    const want = [
      [Date.UTC(2025, 0, 1) / 1000, 1],
      [Date.UTC(2025, 0, 2) / 1000, 2],
    ];
    for (const [text, fmt] of [[csv, 'csv'], [tsv, 'tsv'], [nd, 'ndjson'], [json, 'json']] as const) {
      expect(sniffFormat(text)).toBe(fmt);
      expect(parseFeedFile(text, {}, 'f').map((r) => [r.dataTime, r.value])).toEqual(want);
    }
    expect(sniffFormat(JSON.stringify(USGS_SAMPLE, null, 2))).toBe('geojson');
    expect(parseFeedFile(JSON.stringify(USGS_SAMPLE), {}, 'f')).toHaveLength(2);
  });

  it('names the file and line of invalid NDJSON', () => {
    expect(() => parseFeedFile('{"value":1}\n{"value":\n', { format: 'ndjson' }, 'feed.ndjson')).toThrow(/^feed\.ndjson:2: invalid JSON/);
  });

  it('needs a stream for a recording of several streams', () => {
    const text = `${RECORDING_HEADER}\n2025-01-01T00:00:00Z,a,1,\n2025-01-01T00:00:00Z,b,2,\n`;
    expect(() => parseFeedFile(text, {}, 'r.csv')).toThrow(/several streams \(a, b\); choose one with &stream=NAME/);
    expect(parseFeedFile(text, { stream: 'b' }, 'r.csv').map((r) => r.value)).toEqual([2]);
  });
});
