/**
 * The one way text becomes a number anywhere data comes in (CSV cells, JSON and
 * MQTT payloads, OSC string arguments, HTTP bodies, recordings). `Number()` is
 * too lenient for data: it reads `0x190`, `0b110010000` and `0o620` as 400,
 * `1e309` as Infinity and `''` as 0. Only plain decimal and exponent forms are
 * numbers here, and only finite ones. Pure.
 */

/** Why a text is not a finite number. */
export type NumberProblem = 'empty' | 'not-a-number' | 'non-finite';

/** Decimal or exponent form, nothing else (no hex, binary, octal, separators or words). */
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
/** Words other parsers read as non-finite numbers: named so the reason is right. */
const NON_FINITE_WORD = /^[+-]?(inf|infinity|nan)$/i;

/**
 * Parses a finite number from text (surrounding white space ignored), or says
 * why it is not one: `empty`, `non-finite` (`1e309`, `Infinity`, `NaN`) or
 * `not-a-number` (anything else, including `0x190`).
 */
export function parseFiniteNumber(text: string): number | NumberProblem {
  const s = text.trim();
  if (s === '') return 'empty';
  if (DECIMAL.test(s)) {
    const n = Number(s);
    return Number.isFinite(n) ? n : 'non-finite';
  }
  return NON_FINITE_WORD.test(s) ? 'non-finite' : 'not-a-number';
}

/** True when text is a finite number by {@link parseFiniteNumber}. */
export function isFiniteNumberText(text: string): boolean {
  return typeof parseFiniteNumber(text) === 'number';
}
