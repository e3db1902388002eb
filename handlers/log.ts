/** Structured JSON logs, one object a line, as CloudWatch Logs Insights reads them. */
export type Logger = {
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(fields: Record<string, unknown>): Logger;
};

export function createLogger(
  base: Record<string, unknown> = {},
  write: (line: string) => void = (line) => process.stdout.write(line + "\n"),
): Logger {
  const emit =
    (level: string) =>
    (msg: string, fields: Record<string, unknown> = {}) =>
      write(
        JSON.stringify({ level, time: new Date().toISOString(), msg, ...base, ...fields }, errorsAsObjects),
      );
  return {
    info: emit("info"),
    warn: emit("warn"),
    error: emit("error"),
    child: (fields) => createLogger({ ...base, ...fields }, write),
  };
}

function errorsAsObjects(_key: string, value: unknown) {
  if (value instanceof Error) {
    const status = (value as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    return { name: value.name, message: value.message, status, stack: value.stack };
  }
  return value;
}
