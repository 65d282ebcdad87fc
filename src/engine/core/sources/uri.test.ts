import { describe, expect, it } from 'vitest';
import { isLive, parseSourceUri, SourceUriError, withStreamShaping } from './uri.ts';

describe('parseSourceUri', () => {
  it('reads a CSV file with column, time column and options', () => {
    const s = parseSourceUri('../samples/data/seattle.csv#temp@date&speed=3600&loop=false');
    expect(s).toMatchObject({ kind: 'file', path: '../samples/data/seattle.csv', format: 'csv', column: 'temp', timeColumn: 'date', speed: 3600, loop: false });
  });

  it('detects file formats by extension, and NDJSON from .jsonl', () => {
    expect(parseSourceUri('a.geojson')).toMatchObject({ kind: 'file', format: 'geojson' });
    expect(parseSourceUri('a.jsonl')).toMatchObject({ kind: 'file', format: 'ndjson' });
    expect(parseSourceUri('a.tsv#x')).toMatchObject({ kind: 'file', format: 'tsv', column: 'x' });
    expect(parseSourceUri('file:///tmp/a.json#$.items[*]&value=v&time=ts')).toMatchObject({
      kind: 'file',
      path: '/tmp/a.json',
      select: '$.items[*]',
      value: 'v',
      time: 'ts',
    });
  });

  it('file columns: only a time column, names with spaces, a # in the file name', () => {
    expect(parseSourceUri('w.csv#@date')).toMatchObject({ path: 'w.csv', column: undefined, timeColumn: 'date' });
    expect(parseSourceUri('c.csv#adjusted CO2')).toMatchObject({ path: 'c.csv', column: 'adjusted CO2' });
    expect(parseSourceUri('a#b.csv#v')).toMatchObject({ path: 'a#b.csv', column: 'v' });
    expect(parseSourceUri('f.csv#')).toMatchObject({ path: 'f.csv', column: undefined });
  });

  it('realtime files play at speed 1', () => {
    expect(parseSourceUri('f.csv&realtime')).toMatchObject({ kind: 'file', path: 'f.csv&realtime' });
    expect(parseSourceUri('f.csv#v&realtime')).toMatchObject({ realtime: true, speed: 1, column: 'v' });
  });

  it('reads HTTP polling options with a JSONPath selection holding brackets and =', () => {
    const s = parseSourceUri('https://example.org/feed.json#$.data[?(@.id=="x")].value&interval=30s&timeout=2s&maxBytes=1000');
    expect(s).toMatchObject({ kind: 'http', url: 'https://example.org/feed.json', select: '$.data[?(@.id=="x")].value', interval: 30, timeout: 2, maxBytes: 1000 });
    expect(parseSourceUri('http://h/q.geojson')).toMatchObject({ kind: 'http', interval: 60, timeout: 10 });
  });

  it('reads WebSocket, MQTT, OSC and sim URIs', () => {
    expect(parseSourceUri('ws://127.0.0.1:8080/live#$.co2')).toMatchObject({ kind: 'ws', url: 'ws://127.0.0.1:8080/live', select: '$.co2' });
    expect(parseSourceUri('mqtt://broker:1884/sensors/+/temp#$.v&qos=1')).toMatchObject({
      kind: 'mqtt',
      broker: 'mqtt://broker:1884',
      topic: 'sensors/+/temp',
      qos: 1,
      select: '$.v',
    });
    expect(parseSourceUri('mqtt://h/a/#')).toMatchObject({ topic: 'a/' });
    expect(parseSourceUri('mqtt://h/a/%23')).toMatchObject({ topic: 'a/#' });
    expect(parseSourceUri('osc://:9000/sensor/temp#1')).toMatchObject({ kind: 'osc', host: '0.0.0.0', port: 9000, address: '/sensor/temp', arg: 1 });
    expect(parseSourceUri('sim:walk?min=10&max=20&rate=5&seed=3&faults=nan@1s,silence@2s+3s')).toMatchObject({
      kind: 'sim',
      shape: 'walk',
      min: 10,
      max: 20,
      rate: 5,
      seed: 3,
      faults: [
        { kind: 'nan', at: 1, length: 0 },
        { kind: 'silence', at: 2, length: 3 },
      ],
    });
  });

  it.each([
    ['http://h/x#$.a&intervl=5s', /unknown option "intervl"/],
    ['http://h/x#$.a&interval=soon', /interval=soon: expected a duration/],
    ['http://user:pw@h/x', /credentials do not belong/],
    ['mqtt://u:p@h/t', /credentials do not belong/],
    ['mqtt://h/a/b#$.v&c', /unknown option "c"/],
    ['mqtt://h/a+/b', /"\+" must fill a whole level/],
    ['mqtt://h/a/%23/b', /"#" must be the last level/],
    ['mqtt://h/t#&qos=3', /qos=3: expected a number ≥ 0 and ≤ 2/],
    ['osc://host/addr', /expected osc:\/\/\[HOST\]:PORT\/ADDRESS/],
    ['osc://:70000/a', /port 70000 out of range/],
    ['osc://:9000/a#x', /argument index "x"/],
    ['sim:wave', /unknown simulation "wave"/],
    ['sim:sine?min=5&max=1', /max \(1\) must be above min \(5\)/],
    ['sim:sine?faults=boom@1s', /fault "boom@1s"/],
    ['sim:sine?faults=silence@1s', /silence needs a length/],
    ['gopher://x/y', /unknown scheme "gopher:"/],
    ['f.csv#a&loop=maybe', /loop=maybe: expected true or false/],
    ['', /empty/],
  ])('rejects %s with a clear message', (uri, message) => {
    expect(() => parseSourceUri(uri)).toThrow(SourceUriError);
    expect(() => parseSourceUri(uri)).toThrow(message);
  });

  it('keeps Windows drive letters as file paths', () => {
    expect(parseSourceUri('C:/data/f.csv')).toMatchObject({ kind: 'file', path: 'C:/data/f.csv' });
  });

  it('tells live feeds from files and simulations', () => {
    expect(['f.csv', 'sim:sine', 'http://h/x', 'ws://h/x', 'mqtt://h/t', 'osc://:1/a'].map((u) => isLive(parseSourceUri(u)))).toEqual([
      false,
      false,
      true,
      true,
      true,
      true,
    ]);
  });
});

describe('row selection and shaping in the grammar', () => {
  it('where repeats (every filter must match), values may hold spaces and =', () => {
    const s = parseSourceUri('iowa.csv#net_generation@year&where=source=Fossil%20Fuels&where=kind=a=b&agg=sum&resample=1d&tz=Europe/Paris');
    expect(s).toMatchObject({
      kind: 'file',
      column: 'net_generation',
      timeColumn: 'year',
      shaping: { where: [['source', 'Fossil Fuels'], ['kind', 'a=b']], agg: 'sum', resample: 86400, tz: 'Europe/Paris' },
    });
  });

  it('bad shaping options say what was wrong', () => {
    expect(() => parseSourceUri('a.csv#v&where=source')).toThrow('where=source: expected where=COLUMN=VALUE');
    expect(() => parseSourceUri('a.csv#v&agg=median')).toThrow('agg=median: expected one of mean, sum, last, max, min, first');
    expect(() => parseSourceUri('a.csv#v&tz=Mars/Olympus')).toThrow('unknown time zone "Mars/Olympus"');
    expect(() => parseSourceUri('a.csv#v&resample=soon')).toThrow('resample=soon: expected a duration');
  });

  it("a stream's shaping joins the URI's; the URI's options win", () => {
    const spec = withStreamShaping(parseSourceUri('a.csv#v&where=source=Nuclear&agg=max'), { where: [['source', 'Renewables'], ['region', 'IA']], agg: 'sum', tz: '+02:00' });
    expect(spec).toMatchObject({ shaping: { where: [['region', 'IA'], ['source', 'Nuclear']], agg: 'max', tz: '+02:00' } });
    expect(withStreamShaping(parseSourceUri('sim:walk'), { where: [['a', 'b']] })).not.toHaveProperty('shaping');
  });
});
