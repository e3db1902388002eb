import * as pulumi from "@pulumi/pulumi";
import { configEnv, defaultConfig, readConfig } from "../handlers/config";

/** The handler settings a stack may override: every number of handlers/config.ts. */
export type HandlerSettings = typeof defaultConfig;

/** Everything `Pulumi.<stack>.yaml` can set, with the defaults applied. */
export type StackConfig = {
  /** API Gateway stage, the last segment of the URL. */
  stage: string;
  functions: { memorySize: number; timeoutSeconds: number };
  /** Retention of every log group: the functions' and the access log. */
  logRetentionDays: number;
  /** Stage-wide default route throttling (requests per second, and burst). */
  throttling: { rateLimit: number; burstLimit: number };
  table: { pointInTimeRecovery: boolean; deletionProtection: boolean };
  /**
   * Sets API Gateway's account-wide CloudWatch Logs role for this region; access
   * logs need one, and an account that never had one must let one stack set it.
   */
  apiGatewayLogsRole: boolean;
  /**
   * Signing secret (HS256) of the tokens `$connect` then requires, a Pulumi secret.
   * Unset: connections are anonymous and no authorizer is created.
   */
  authSecret?: pulumi.Output<string>;
  handlers: HandlerSettings;
};

/** Defaults of the infrastructure settings, keyed by their config key. */
export const infraDefaults = {
  memorySize: 256,
  // API Gateway stops waiting for an integration after 29 s.
  timeoutSeconds: 29,
  logRetentionDays: 14,
  throttlingRateLimit: 50,
  throttlingBurstLimit: 100,
  apiGatewayLogsRole: false,
};

/** HS256 wants a key at least as long as its 256-bit hash (RFC 7518, 3.2). */
export const authSecretMinLength = 32;

/**
 * Reads the stack's config (`roomcast:<key>`), defaults in code. `dev` is the
 * throwaway stack: its table has no point-in-time recovery or deletion protection.
 *
 * @example
 * // Pulumi.prod.yaml:  roomcast:throttlingRateLimit: "200"
 * readStackConfig().throttling.rateLimit; // 200
 */
export function readStackConfig(config = new pulumi.Config(), stack = pulumi.getStack()): StackConfig {
  const count = (key: string, fallback: number) => config.getNumber(key, { min: 0 }) ?? fallback;
  const protectedByDefault = stack !== "dev";
  const handlers = Object.fromEntries(
    Object.entries(defaultConfig).map(([key, fallback]) => [key, count(key, fallback)]),
  ) as HandlerSettings;
  // Fail `pulumi preview` rather than the first cold start: parse them as the Lambdas will.
  readConfig({ ...settingsEnvironment(handlers), [configEnv.tableName]: "deploy-time-check" });
  return {
    stage: config.get("stage") ?? stack,
    functions: {
      memorySize: count("memorySize", infraDefaults.memorySize),
      timeoutSeconds: count("timeoutSeconds", infraDefaults.timeoutSeconds),
    },
    logRetentionDays: count("logRetentionDays", infraDefaults.logRetentionDays),
    throttling: {
      rateLimit: count("throttlingRateLimit", infraDefaults.throttlingRateLimit),
      burstLimit: count("throttlingBurstLimit", infraDefaults.throttlingBurstLimit),
    },
    table: {
      pointInTimeRecovery: config.getBoolean("pointInTimeRecovery") ?? protectedByDefault,
      deletionProtection: config.getBoolean("deletionProtection") ?? protectedByDefault,
    },
    apiGatewayLogsRole: config.getBoolean("apiGatewayLogsRole") ?? infraDefaults.apiGatewayLogsRole,
    authSecret: readAuthSecret(config),
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

/** The handler settings as the environment variables handlers/config.ts reads. */
export function settingsEnvironment(settings: HandlerSettings): Record<string, string> {
  return Object.fromEntries(
    Object.entries(settings).map(([key, value]) => [configEnv[key as keyof HandlerSettings], String(value)]),
  );
}
