import { LogFormatter, LogItem, Logger as PowertoolsLogger } from "@aws-lambda-powertools/logger";
import type { Context } from "aws-lambda";

/**
 * Structured JSON logs, one object a line, as CloudWatch Logs Insights reads them:
 * `level`, `time`, `msg`, `service`, then (in Lambda, after `addContext`) `coldStart`,
 * `functionRequestId` and `xrayTraceId`, then the logger's and the call's fields.
 */
export type Logger = {
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  /** A logger whose lines also carry `fields`. */
  child(fields: Record<string, unknown>): Logger;
  /** In Lambda, once per invocation: every line of every child then says whether it is a cold start, and its request id. */
  addContext(context: Context): void;
};

/** Writes a line to stdout (Lambda sends JSON lines to CloudWatch as they are). */
const stdoutLine = (line: string) => process.stdout.write(line + "\n");

/**
 * A {@link Logger} backed by Powertools for AWS Lambda's Logger: its cold start and
 * request-id tracking, X-Ray trace id, log level (`POWERTOOLS_LOG_LEVEL` or Lambda's
 * own) and JSON serialization, with roomcast's field names. `write` receives each
 * line (tests collect them; by default stdout).
 *
 * @example
 * const log = createLogger({ service: "roomcast" });
 * log.child({ route: "sendmessage", connectionId }).info("handled", { ms: 12 });
 * // {"level":"info","time":"...","msg":"handled","service":"roomcast","route":"sendmessage","connectionId":"...","ms":12}
 */
export function createLogger(
  base: Record<string, unknown> = {},
  write: (line: string) => void = stdoutLine,
): Logger {
  // `service` is Powertools' own key (it drops it from attributes): give it as the service name.
  const { service, ...fields } = base;
  const serviceName = typeof service === "string" ? service : undefined;
  const root = new PowertoolsLogger({
    serviceName,
    logFormatter: roomcastFormatter(serviceName),
    jsonReplacerFn: errorsAsObjects,
  });
  // Powertools prints through its own console; every line goes to `write` instead.
  const line = (text: string) => write(text);
  Object.assign(root, {
    console: { log: line, info: line, warn: line, error: line, debug: line, trace: line },
  });
  return wrap(root, fields);
}

/** One Powertools logger per `createLogger`; children add fields to each call rather than copying it. */
function wrap(root: PowertoolsLogger, fields: Record<string, unknown>): Logger {
  return {
    info: (msg, more = {}) => root.info(msg, { ...fields, ...more }),
    warn: (msg, more = {}) => root.warn(msg, { ...fields, ...more }),
    error: (msg, more = {}) => root.error(msg, { ...fields, ...more }),
    child: (more) => wrap(root, { ...fields, ...more }),
    addContext: (context) => root.addContext(context),
  };
}

/**
 * roomcast's field names and order (level, time, msg first) in place of Powertools'
 * defaults. A plain object, not a LogFormatter subclass: Pulumi would serialize the
 * package's class by value, and Powertools only calls these two methods.
 */
function roomcastFormatter(service: string | undefined): LogFormatter {
  const formatter: Pick<LogFormatter, "formatAttributes" | "formatError"> = {
    formatAttributes(attributes, additional) {
      const context = attributes.lambdaContext;
      return new LogItem({
        attributes: {
          level: attributes.logLevel.toLowerCase(),
          time: attributes.timestamp.toISOString(),
          msg: attributes.message,
          service,
          coldStart: context?.coldStart,
          functionRequestId: context?.awsRequestId,
          xrayTraceId: attributes.xRayTraceId,
          ...additional,
        },
      });
    },
    // errorsAsObjects has turned every Error into a plain object already.
    formatError: (error) => ({ name: error.name, message: error.message, stack: error.stack }),
  };
  return formatter as LogFormatter;
}

/** An Error becomes its name, message, HTTP status (AWS SDK errors) and stack. */
function errorsAsObjects(_key: string, value: unknown) {
  if (value instanceof Error) {
    const status = (value as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    return { name: value.name, message: value.message, status, stack: value.stack };
  }
  return value;
}
