import * as pulumi from "@pulumi/pulumi";
import { authSecretMinLength } from "../handlers/authorizer";
import { configEnv, defaultConfig, readConfig } from "../handlers/config";
import type { Throttling } from "../model/token-bucket";
import { infraDefaults } from "./defaults";

/** The handler settings a stack may override: every number of handlers/config.ts. */
export type HandlerSettings = typeof defaultConfig;

/** Memory and timeout of one Lambda. */
export type FunctionSize = { memorySize: number; timeoutSeconds: number };

/** An API Gateway custom domain for the `wss://` URL; handlers keep posting to the execute-api endpoint. */
export type CustomDomain = {
  /** e.g. `chat.example.com`. */
  domainName: string;
  /** An ACM certificate for it, in the stack's region (a REGIONAL endpoint). */
  certificateArn: string;
  /** With a Route 53 zone, the program writes the alias record; without, point your DNS yourself. */
  hostedZoneId?: string;
};

/** Everything `Pulumi.<stack>.yaml` can set, with the defaults applied. */
export type StackConfig = {
  /** API Gateway stage, the last segment of the URL. */
  stage: string;
  functions: {
    /** Every route function and the authorizer. */
    routes: FunctionSize;
    /** The DynamoDB stream worker. */
    stream: FunctionSize;
    /** The SQS fan-out worker. */
    fanout: FunctionSize;
    /** Reserved concurrency by function name suffix (`sendmessage`, `stream`, `fanout`, ...); unset: none. */
    reservedConcurrency: Record<string, number>;
    /** X-Ray active tracing on every function. */
    tracing: boolean;
  };
  /** The stream worker's event source mapping. */
  stream: { maximumRetryAttempts: number; parallelizationFactor: number };
  /** The fan-out queue and its event source mapping. */
  fanout: { maxConcurrency: number; maxReceiveCount: number };
  /** Retention of every log group: the functions' and the access log. */
  logRetentionDays: number;
  /**
   * The stage's route throttling (requests per second, and burst): `defaultRoute` sizes
   * each route's own bucket (API Gateway applies it per route), `routes` overrides by route key.
   */
  throttling: { defaultRoute: Throttling; routes: Record<string, Throttling> };
  table: { pointInTimeRecovery: boolean; deletionProtection: boolean };
  /**
   * Sets API Gateway's account-wide CloudWatch Logs role for this region, which
   * access logs need (on by default, so a fresh account's first `pulumi up` works).
   */
  apiGatewayLogsRole: boolean;
  /**
   * Signing secret (HS256) of the tokens `$connect` then requires, a Pulumi secret.
   * Unset: connections are anonymous and no authorizer is created.
   */
  authSecret?: pulumi.Output<string>;
  /** Subscribed to the alarm topic (SNS asks the address to confirm). */
  alarmEmail?: string;
  /** Page origins browsers may connect from (`$connect` answers 403 to others); unset: any. */
  allowedOrigins?: string[];
  domain?: CustomDomain;
  /** Tags on every resource, beside `roomcast:project` and `roomcast:stack`. */
  tags: Record<string, string>;
  handlers: HandlerSettings;
};

/**
 * Reads the stack's config (`roomcast:<key>`), defaults in code. `dev` is the
 * throwaway stack: its table has no point-in-time recovery or deletion protection.
 *
 * @example
 * // Pulumi.prod.yaml:  roomcast:throttlingRateLimit: "200"
 * readStackConfig().throttling.rateLimit; // 200
 */
export function readStackConfig(config = new pulumi.Config(), stack = pulumi.getStack()): StackConfig {
  const count = (key: string, fallback: number, range: { min?: number; max?: number } = {}) =>
    config.getNumber(key, { min: 0, ...range }) ?? fallback;
  const protectedByDefault = stack !== "dev";
  const handlers = Object.fromEntries(
    Object.entries(defaultConfig).map(([key, fallback]) => [key, count(key, fallback)]),
  ) as HandlerSettings;
  // Fail `pulumi preview` rather than the first cold start: parse them as the Lambdas will.
  readConfig({
    ...settingsEnvironment(handlers),
    // Known only once the API exists; the handlers' other checks need something there.
    [configEnv.tableName]: "deploy-time-check",
    [configEnv.managementEndpoint]: "https://deploy-time-check",
  });
  // Lambda's longest timeout; SQS's longest visibility timeout (12 h) is 6 x 900 s.
  if (handlers.fanoutTimeoutSeconds < 1 || handlers.fanoutTimeoutSeconds > 900) {
    throw new pulumi.RunError(`${config.name}:fanoutTimeoutSeconds must be between 1 and 900`);
  }
  // An SQS event source mapping's MaximumConcurrency is 2..1,000.
  if (handlers.fanoutMaxConcurrency < 2 || handlers.fanoutMaxConcurrency > 1000) {
    throw new pulumi.RunError(`${config.name}:fanoutMaxConcurrency must be between 2 and 1000`);
  }
  const d = infraDefaults;
  return {
    stage: config.get("stage") ?? stack,
    functions: {
      routes: {
        memorySize: count("memorySize", d.memorySize),
        timeoutSeconds: count("timeoutSeconds", d.timeoutSeconds),
      },
      stream: {
        memorySize: count("streamMemorySize", d.streamMemorySize),
        timeoutSeconds: count("streamTimeoutSeconds", d.streamTimeoutSeconds),
      },
      fanout: {
        memorySize: count("fanoutMemorySize", d.fanoutMemorySize),
        // A handler setting too: the fan-out worker sizes its jobs to it.
        timeoutSeconds: handlers.fanoutTimeoutSeconds,
      },
      reservedConcurrency: Object.fromEntries(
        Object.entries({
          ...d.reservedConcurrency,
          ...config.getObject<Record<string, number>>("reservedConcurrency"),
        }).filter(([, reserved]) => reserved >= 0),
      ),
      tracing: config.getBoolean("tracing") ?? d.tracing,
    },
    stream: {
      // -1 (retry until the record expires) is Lambda's default; roomcast wants a bound.
      maximumRetryAttempts: count("streamMaximumRetryAttempts", d.streamMaximumRetryAttempts, { max: 10000 }),
      parallelizationFactor: count("streamParallelizationFactor", d.streamParallelizationFactor, {
        min: 1,
        max: 10,
      }),
    },
    fanout: {
      maxConcurrency: handlers.fanoutMaxConcurrency,
      // A recipient's retry job is received up to 3 times before the worker gives up on the
      // recipient and disconnects it: with fewer, the job would reach the dead-letter queue instead.
      maxReceiveCount: count("fanoutMaxReceiveCount", d.fanoutMaxReceiveCount, { min: 3, max: 1000 }),
    },
    logRetentionDays: count("logRetentionDays", d.logRetentionDays),
    throttling: {
      defaultRoute: {
        rateLimit: count("throttlingRateLimit", d.throttlingRateLimit),
        burstLimit: count("throttlingBurstLimit", d.throttlingBurstLimit),
      },
      routes: {
        $default: {
          rateLimit: count("unmatchedRouteRateLimit", d.unmatchedRouteRateLimit),
          burstLimit: count("unmatchedRouteBurstLimit", d.unmatchedRouteBurstLimit),
        },
      },
    },
    table: {
      pointInTimeRecovery: config.getBoolean("pointInTimeRecovery") ?? protectedByDefault,
      deletionProtection: config.getBoolean("deletionProtection") ?? protectedByDefault,
    },
    apiGatewayLogsRole: config.getBoolean("apiGatewayLogsRole") ?? d.apiGatewayLogsRole,
    authSecret: readAuthSecret(config),
    alarmEmail: config.get("alarmEmail"),
    allowedOrigins: config.getObject<string[]>("allowedOrigins"),
    domain: readDomain(config),
    tags: config.getObject<Record<string, string>>("tags") ?? {},
    handlers,
  };
}

/**
 * `pulumi config set --secret authSecret ...`, as a secret Output. A short one fails
 * `pulumi preview`, with a message of our own: Pulumi's range error prints the value.
 */
function readAuthSecret(config: pulumi.Config): pulumi.Output<string> | undefined {
  try {
    return config.getSecret("authSecret", { minLength: authSecretMinLength });
  } catch {
    throw new pulumi.RunError(
      `${config.name}:authSecret must be at least ${authSecretMinLength} characters: ` +
        `pulumi config set --secret authSecret "$(openssl rand -base64 32)"`,
    );
  }
}

/** `domainName` and `certificateArn` go together; `hostedZoneId` is optional. */
function readDomain(config: pulumi.Config): CustomDomain | undefined {
  const domainName = config.get("domainName");
  if (!domainName) return undefined;
  const certificateArn = config.get("certificateArn");
  if (!certificateArn) throw new pulumi.RunError(`${config.name}:domainName needs a certificateArn`);
  return { domainName, certificateArn, hostedZoneId: config.get("hostedZoneId") };
}

/** The handler settings as the environment variables handlers/config.ts reads. */
export function settingsEnvironment(settings: HandlerSettings): Record<string, string> {
  return Object.fromEntries(
    Object.entries(settings).map(([key, value]) => [configEnv[key as keyof HandlerSettings], String(value)]),
  );
}
