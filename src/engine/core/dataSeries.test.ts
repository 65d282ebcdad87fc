import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { formatLoadReport, parseCsvSeries, parseTimeCell, placeSeries, type Series } from './dataSeries.ts';

const CO2 = fileURLToPath(new URL('../../../samples/data/co2-concentration.csv', import.meta.url));
const DAY = 86400;

function series(times: number[], values = times.map((_, i) => i)): Series {
  return { times, values, skipped: 0, column: 'v' };
}

/** A parsed series with plain arrays and without its report, to compare whole. */
function plain(s: Series) {
  const { report: _report, ...rest } = s;
  return { ...rest, times: Array.from(s.times), values: Array.from(s.values) };
}

describe('parseTimeCell', () => {
  it('plain numbers are kept (years, seconds)', () => {
    expect(parseTimeCell('1880')).toBe(1880);
    expect(parseTimeCell(' 12.5 ')).toBe(12.5);
    expect(parseTimeCell('-3')).toBe(-3);
  });

  it('a year column gives the start of each year in epoch seconds', () => {
    expect(parseTimeCell('1880', true)).toBe(Date.UTC(1880, 0, 1) / 1000);
    expect(parseTimeCell('2023', true) - parseTimeCell('2022', true)).toBe(365 * 86400);
  });

  it('a date-time with a space and no zone is UTC too, whatever the machine zone', () => {
    const tz = process.env.TZ;
    process.env.TZ = 'America/New_York';
    try {
      expect(parseTimeCell('2010-01-01 01:00')).toBe(Date.UTC(2010, 0, 1, 1) / 1000);
      expect(parseTimeCell('2010-01-01T01:00:00')).toBe(Date.UTC(2010, 0, 1, 1) / 1000);
    } finally {
      if (tz === undefined) delete process.env.TZ;
      else process.env.TZ = tz;
    }
  });

  it('ISO dates and date-times are UTC epoch seconds', () => {
    expect(parseTimeCell('1970-01-02')).toBe(DAY);
    expect(parseTimeCell('1958-03-01')).toBe(Date.UTC(1958, 2, 1) / 1000);
    expect(parseTimeCell('2010-01-01T01:00:00')).toBe(Date.UTC(2010, 0, 1, 1) / 1000); // no zone → UTC, not local
    expect(parseTimeCell('2010-01-01T01:00:00Z')).toBe(Date.UTC(2010, 0, 1, 1) / 1000);
  });

  it('empty and unparsable cells are NaN', () => {
    expect(parseTimeCell('')).toBeNaN();
    expect(parseTimeCell('   ')).toBeNaN();
    expect(parseTimeCell('soon')).toBeNaN();
  });
});

describe('parseCsvSeries', () => {
  it('auto-detects a date time column and the first numeric column', () => {
    const s = parseCsvSeries('Date,CO2,adjusted\n1970-01-01,300.5,1\n1970-01-02,301,2\n1970-01-04,302,3\n');
    expect(plain(s)).toStrictEqual({ times: [0, DAY, 3 * DAY], values: [300.5, 301, 302], skipped: 0, column: 'CO2', timeColumn: 'Date' });
  });

  it('auto-detects a year column (not taken as the value column)', () => {
    const s = parseCsvSeries('year,temp\n1880,-0.17\n1881,-0.09\n1882,-0.11\n');
    // a column named "year" holds years: they become epoch seconds like dates do
    expect(plain(s)).toStrictEqual({ times: [1880, 1881, 1882].map((y) => Date.UTC(y, 0, 1) / 1000), values: [-0.17, -0.09, -0.11], skipped: 0, column: 'temp', timeColumn: 'year' });
  });

  it('skips non-numeric columns when choosing the value column', () => {
    const s = parseCsvSeries('station,when,level,wind\nA,x,1,5\nB,y,2,6\n');
    expect(plain(s)).toStrictEqual({ times: [0, 1], values: [1, 2], skipped: 0, column: 'level', timeColumn: undefined });
  });

  it('uses a named value column and a named time column', () => {
    const text = 'date,pressure,temperature,wind\n2010-01-01T01:00:00,1016.6,4.0,3.8\n2010-01-01T02:00:00,1016.5,3.9,3.7\n';
    const s = parseCsvSeries(text, 'wind', 'date');
    const t0 = Date.UTC(2010, 0, 1, 1) / 1000;
    expect(plain(s)).toStrictEqual({ times: [t0, t0 + 3600], values: [3.8, 3.7], skipped: 0, column: 'wind', timeColumn: 'date' });
    expect(Array.from(parseCsvSeries(text, 'temperature').values)).toStrictEqual([4, 3.9]);
  });

  it('without a time column the row number is the time', () => {
    const s = parseCsvSeries('a,b\n5,x\n6,y\n7,z\n');
    expect(plain(s)).toStrictEqual({ times: [0, 1, 2], values: [5, 6, 7], skipped: 0, column: 'a', timeColumn: undefined });
  });

  it('a missing column is an error naming the available columns', () => {
    const text = 'Date,CO2,adjusted CO2\n1958-03-01,315.70,314.44\n';
    expect(() => parseCsvSeries(text, 'co2', undefined, 'co2.csv')).toThrow('co2.csv: no column "co2" (columns: Date, CO2, adjusted CO2)');
    expect(() => parseCsvSeries(text, 'CO2', 'when', 'co2.csv')).toThrow('co2.csv: no time column "when" (columns: Date, CO2, adjusted CO2)');
  });

  it('no numeric column, no rows, or no numeric value are errors', () => {
    expect(() => parseCsvSeries('name,colour\nfox,red\n')).toThrow('data: no numeric column found (columns: name, colour); name one with #COLUMN');
    expect(() => parseCsvSeries('a,b\n', undefined, undefined, 'f.csv')).toThrow('f.csv: no rows');
    expect(() => parseCsvSeries('t,v\n1,NA\n2,\n', 'v')).toThrow('data: column "v" has no numeric values (2 rows: 0 values, 2 rejected (not a number: 1, empty value: 1; first: row 1: not a number "NA"))');
  });

  it('counts each row it does not keep by reason, and sorts rows out of time order', () => {
    const text = [
      'year,v',
      '2000,1', //   kept
      '2001,NA', //  not a number
      '2002,', //    empty value
      '2003,4', //   kept
      '2003,5', //   duplicate time: the first of the two is kept
      '2001,6', //   out of order: kept, sorted into place
      ',7', //       empty time
      'never,8', //  unparsable time
      '2004,9', //   kept
      '2005, 10 ', // kept (trimmed)
    ].join('\n');
    const s = parseCsvSeries(text, 'v', undefined, 'y.csv');
    expect(Array.from(s.times)).toStrictEqual([2000, 2001, 2003, 2004, 2005].map((y) => Date.UTC(y, 0, 1) / 1000));
    expect(Array.from(s.values)).toStrictEqual([1, 6, 4, 9, 10]);
    expect(s.skipped).toBe(5);
    expect(s.report).toStrictEqual({
      rows: 10,
      kept: 5,
      rejected: { 'not a number': 1, 'empty value': 1, 'bad time': 2, 'duplicate time': 1 },
      examples: ['row 2: not a number "NA"', 'row 3: empty value', 'row 7: bad time'],
      sorted: true,
    });
    expect(formatLoadReport(s.report!)).toBe(
      '10 rows: 5 kept, 5 rejected (not a number: 1, empty value: 1, bad time: 2, duplicate time: 1; first: row 2: not a number "NA"), sorted by time (the file was not in time order)',
    );
  });

  it('reads TSV (tab in the header line) and a BOM', () => {
    const s = parseCsvSeries('\uFEFFyear\tanomaly\n1900\t-0.1\n1901\t0.2\n');
    expect(plain(s)).toStrictEqual({ times: [Date.UTC(1900, 0, 1) / 1000, Date.UTC(1901, 0, 1) / 1000], values: [-0.1, 0.2], skipped: 0, column: 'anomaly', timeColumn: 'year' });
  });

  it('handles CRLF line ends and quoted cells', () => {
    const s = parseCsvSeries('year,"v"\r\n1900,"1.5"\r\n1901,2\r\n');
    expect(Array.from(s.values)).toStrictEqual([1.5, 2]);
    expect(Array.from(s.times)).toStrictEqual([Date.UTC(1900, 0, 1) / 1000, Date.UTC(1901, 0, 1) / 1000]);
  });

  it('parses the real Mauna Loa file: 741 rows, increasing times', () => {
    const s = parseCsvSeries(readFileSync(CO2, 'utf8'), 'CO2', 'Date', 'co2-concentration.csv');
    expect(s.values).toHaveLength(741);
    expect(s.times).toHaveLength(741);
    expect(s.skipped).toBe(0);
    expect(s.column).toBe('CO2');
    expect(s.timeColumn).toBe('Date');
    for (let i = 1; i < s.times.length; i++) if (!(s.times[i]! > s.times[i - 1]!)) throw new Error(`time not increasing at row ${i}`);
    expect(s.times[0]).toBe(Date.UTC(1958, 2, 1) / 1000);
    expect(s.values[0]).toBe(315.7);
    expect(Math.min(...Array.from(s.values))).toBeGreaterThan(300);
    expect(Math.max(...Array.from(s.values))).toBeLessThan(420);
    // auto-detection picks the same columns
    const auto = parseCsvSeries(readFileSync(CO2, 'utf8'));
    expect(auto.column).toBe('CO2');
    expect(auto.timeColumn).toBe('Date');
    expect(auto.values).toStrictEqual(s.values);
  });
});

describe('placeSeries', () => {
  it('spreads the series over the duration: first at 0, last at duration', () => {
    const s = series([100, 150, 200, 300]);
    expect(placeSeries(s, 8)).toStrictEqual([
      { time: 0, value: 0, dataTime: 100 },
      { time: 2, value: 1, dataTime: 150 },
      { time: 4, value: 2, dataTime: 200 },
      { time: 8, value: 3, dataTime: 300 },
    ]);
  });

  it('an offset shifts every point', () => {
    expect(placeSeries(series([0, 1, 2]), 4, undefined, 10).map((p) => p.time)).toStrictEqual([10, 12, 14]);
  });

  it('with a speed, plays at data seconds per audio second and stops after the duration', () => {
    const s = series([0, 10, 20, 30, 40]);
    expect(placeSeries(s, 3, 8)).toStrictEqual([
      { time: 0, value: 0, dataTime: 0 },
      { time: 1.25, value: 1, dataTime: 10 },
      { time: 2.5, value: 2, dataTime: 20 },
    ]);
    expect(placeSeries(s, 100, 8).map((p) => p.time)).toStrictEqual([0, 1.25, 2.5, 3.75, 5]);
    expect(placeSeries(s, 2.5, 8, 1).map((p) => p.time)).toStrictEqual([1, 2.25, 3.5]);
  });

  it('thinning keeps the last point of each slot of audio time, and counts the others', () => {
    // 11 points spread over 1 s: 0, 0.1, …, 1.0; two slots a second → slots 0 (0…0.4), 1 (0.5…0.9), 2 (1.0).
    const s = series(Array.from({ length: 11 }, (_, i) => i));
    const thin = { perSecond: 2, dropped: 0 };
    const placed = placeSeries(s, 1, undefined, 0, thin);
    expect(placed.map((p) => p.value)).toStrictEqual([4, 9, 10]);
    expect(placed.map((p) => p.time)).toStrictEqual([0.4, 0.9, 1]);
    expect(thin.dropped).toBe(8);
    // Points already further apart than a slot are all kept.
    const sparse = { perSecond: 1000, dropped: 0 };
    expect(placeSeries(s, 1, undefined, 0, sparse)).toHaveLength(11);
    expect(sparse.dropped).toBe(0);
  });

  it('a single point is placed at the offset', () => {
    expect(placeSeries(series([42], [7]), 10)).toStrictEqual([{ time: 0, value: 7, dataTime: 42 }]);
  });

  it('the real CO2 file spread over 120 s starts at 0 and keeps increasing', () => {
    const s = parseCsvSeries(readFileSync(CO2, 'utf8'), 'CO2', 'Date');
    const placed = placeSeries(s, 120);
    expect(placed[0]).toStrictEqual({ time: 0, value: 315.7, dataTime: Date.UTC(1958, 2, 1) / 1000 });
    for (let i = 1; i < placed.length; i++) if (!(placed[i]!.time > placed[i - 1]!.time)) throw new Error(`not increasing at ${i}`);
    expect(placed.at(-1)!.time).toBeLessThanOrEqual(120);
  });

  it('the real CO2 file spread over 60 s places all 741 points, the last exactly at 60 s', () => {
    const s = parseCsvSeries(readFileSync(CO2, 'utf8'), 'CO2', 'Date');
    const placed = placeSeries(s, 60);
    expect(placed).toHaveLength(741);
    expect(placed.at(-1)).toStrictEqual({ time: 60, value: s.values[740], dataTime: s.times[740] });
  });
});
