/** Number formats shared by the tables, the charts and the console. */

/** Milliseconds with precision that suits their size: 0.42, 7.3, 128, 20 412. */
export function ms(value: number): string {
  if (value < 0) return `-${ms(-value)}`;
  if (value < 1) return value.toFixed(2);
  if (value < 10) return value.toFixed(1);
  return Math.round(value).toLocaleString("en-US").replace(/,/g, " ");
}

/** A plain count or rate: 1 234 567, or 12.5 below 100. */
export function count(value: number): string {
  if (Number.isInteger(value) || value >= 100)
    return Math.round(value).toLocaleString("en-US").replace(/,/g, " ");
  return value.toFixed(1);
}

/** How many times the baseline costs what roomcast does: "×12.3", "×0.85". */
export function times(baseline: number, roomcast: number): string {
  const r = baseline / roomcast;
  return `×${r >= 100 ? Math.round(r) : r >= 10 ? r.toFixed(1) : r.toFixed(2)}`;
}

export function bytes(value: number): string {
  if (value < 1024) return `${value} B`;
  if (value < 1024 * 1024) return `${(value / 1024).toFixed(1)} KiB`;
  return `${(value / 1024 / 1024).toFixed(2)} MiB`;
}
