import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { convertUnit, parseUnit, UNIT_NAMES } from './units.ts';

/** convertUnit that must succeed. */
function conv(value: number, from: string, to: string): number {
  const r = convertUnit(value, from, to);
  if (typeof r === 'string') throw new Error(r);
  return r;
}

describe('convertUnit', () => {
  it('temperature: degC, degF, K', () => {
    expect(conv(212, 'degF', 'degC')).toBe(100);
    expect(conv(32, 'degF', 'degC')).toBe(0);
    expect(conv(100, 'degC', 'degF')).toBe(212);
    expect(conv(-40, 'degC', 'degF')).toBe(-40);
    expect(conv(0, 'K', 'degC')).toBe(-273.15);
    expect(conv(20, 'degC', 'K')).toBeCloseTo(293.15, 12);
    expect(conv(300, 'K', 'degF')).toBeCloseTo(80.33, 10);
  });

  it('length and level: m, km, cm, mm, ft, in', () => {
    expect(conv(1, 'ft', 'm')).toBe(0.3048);
    expect(conv(12, 'in', 'ft')).toBeCloseTo(1, 14);
    expect(conv(100, 'cm', 'm')).toBe(1);
    expect(conv(1, 'm', 'mm')).toBe(1000);
    expect(conv(25.4, 'mm', 'in')).toBeCloseTo(1, 14);
    expect(conv(1.5, 'km', 'm')).toBe(1500);
  });

  it('speed: m/s, km/h, mph, kn', () => {
    expect(conv(36, 'km/h', 'm/s')).toBe(10);
    expect(conv(10, 'm/s', 'km/h')).toBe(36);
    expect(conv(1, 'kn', 'm/s')).toBeCloseTo(0.514444, 6);
    expect(conv(60, 'mph', 'km/h')).toBeCloseTo(96.56064, 10);
    expect(conv(1, 'kn', 'km/h')).toBeCloseTo(1.852, 12);
  });

  it('pressure: Pa, hPa (= mbar), kPa, inHg, mmHg', () => {
    expect(conv(1013.25, 'hPa', 'Pa')).toBe(101325);
    expect(conv(101.325, 'kPa', 'hPa')).toBeCloseTo(1013.25, 10);
    expect(conv(29.92, 'inHg', 'hPa')).toBeCloseTo(1013.21, 2);
    expect(conv(760, 'mmHg', 'hPa')).toBeCloseTo(1013.25, 3);
    expect(conv(1000, 'mbar', 'hPa')).toBe(1000);
  });

  it('mixing ratio (ppm ↔ ppb) and mass concentration (µg/m3 ↔ mg/m3)', () => {
    expect(conv(1500, 'ppb', 'ppm')).toBe(1.5);
    expect(conv(415, 'ppm', 'ppb')).toBe(415000);
    expect(conv(415, 'ppm', 'ppm')).toBe(415);
    expect(conv(35, 'µg/m3', 'mg/m3')).toBe(0.035);
    expect(conv(0.035, 'mg/m3', 'ug/m3')).toBe(35);
  });

  it('accepts aliases, case and spacing variants', () => {
    for (const c of ['degC', '°C', 'C', 'celsius', ' Celsius ', '℃', 'deg C', 'DEGC']) expect(conv(10, c, 'degC')).toBe(10);
    for (const f of ['°F', 'F', 'fahrenheit', 'degF']) expect(conv(212, f, 'C')).toBe(100);
    expect(conv(1, 'kelvin', 'K')).toBe(1);
    expect(conv(1, 'knots', 'kt')).toBe(1);
    expect(conv(2, 'feet', 'inches')).toBeCloseTo(24, 12);
    expect(conv(5, 'μg/m³', 'µg/m3')).toBe(5); // Greek mu and superscript three
    expect(conv(5, 'ug m-3', 'mg/m3')).toBe(0.005);
    expect(conv(3, 'm s-1', 'm/s')).toBe(3);
    expect(conv(3, 'mb', 'hpa')).toBe(3);
  });

  it('the same unit returns the value unchanged, bit for bit', () => {
    expect(Object.is(convertUnit(-0, 'm', 'metre'), -0)).toBe(true);
    expect(convertUnit(0.1 + 0.2, 'degC', '°C')).toBe(0.1 + 0.2);
  });

  it('unknown or incompatible units give an error message, not a throw', () => {
    expect(convertUnit(1, 'furlong', 'm')).toBe(`unknown unit "furlong" (known: ${UNIT_NAMES.join(', ')})`);
    expect(convertUnit(1, 'm', '')).toMatch(/^unknown unit ""/);
    expect(convertUnit(400, 'ppm', 'µg/m3')).toBe('cannot convert ppm (mixing ratio) to µg/m3 (mass concentration)');
    expect(convertUnit(20, 'degC', 'm')).toBe('cannot convert degC (temperature) to m (length)');
    expect(convertUnit(1, 'hPa', 'mph')).toBe('cannot convert hPa (pressure) to mph (speed)');
  });

  it('converting there and back returns the value (property)', () => {
    const byDim = new Map<string, string[]>();
    for (const name of UNIT_NAMES) {
      const d = parseUnit(name)!.dimension;
      byDim.set(d, [...(byDim.get(d) ?? []), name]);
    }
    const pairs = [...byDim.values()].flatMap((names) => names.flatMap((a) => names.map((b) => [a, b] as const)));
    fc.assert(
      fc.property(fc.constantFrom(...pairs), fc.double({ min: -1e6, max: 1e6, noNaN: true }), ([a, b], x) => {
        const back = conv(conv(x, a, b), b, a);
        expect(Math.abs(back - x)).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(x)));
      }),
    );
  });
});

describe('parseUnit', () => {
  it('names the canonical unit and its dimension', () => {
    expect(parseUnit('°C')).toStrictEqual({ name: 'degC', dimension: 'temperature' });
    expect(parseUnit('knots')).toStrictEqual({ name: 'kn', dimension: 'speed' });
    expect(parseUnit('ug/m3')).toStrictEqual({ name: 'µg/m3', dimension: 'mass concentration' });
    expect(parseUnit('parsec')).toBeUndefined();
  });
});
