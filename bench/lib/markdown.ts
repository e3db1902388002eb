export type Column = { label: string; align?: "left" | "right" };

/** A result table: rendered as Markdown in RESULTS.md and printed as is on the console. */
export type Table = { title: string; columns: Column[]; rows: string[][] };

export function markdownTable(table: Table): string {
  const widths = table.columns.map((column, i) =>
    Math.max(column.label.length, 3, ...table.rows.map((row) => row[i].length)),
  );
  const line = (cells: string[]) =>
    `| ${cells
      .map((cell, i) =>
        table.columns[i].align === "left" ? cell.padEnd(widths[i]) : cell.padStart(widths[i]),
      )
      .join(" | ")} |`;
  const rule = `| ${widths
    .map((width, i) => (table.columns[i].align === "left" ? "-".repeat(width) : `${"-".repeat(width - 1)}:`))
    .join(" | ")} |`;
  return [line(table.columns.map((c) => c.label)), rule, ...table.rows.map(line)].join("\n");
}
