/**
 * The one order of names in rendered output: by UTF-16 code unit, as `Array.prototype.sort()`
 * without a comparator. Never `localeCompare`: its order follows the machine's locale (Node takes
 * it from LANG/LC_ALL), so a Swedish or Turkish laptop would sort `ä`, `_` or `I` differently from
 * CI and render other bytes from the same config; and its first call loads ICU's collator, a cost
 * every synth paid.
 */
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
