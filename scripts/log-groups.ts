import { routes } from "../handlers/routes";
import { workers } from "../handlers/workers";

/** Every function a stack can have, by the short name `npm run logs` takes; the authorizer only with an authSecret. */
export const functionNames: readonly string[] = [
  ...routes.map((r) => r.name),
  ...workers.map((w) => w.name),
  "authorizer",
];

/**
 * The CloudWatch log group of one function of one stack, by the program's naming rule: index.ts
 * names the chat `roomcast`, infra/ names each function `roomcast-<stack>-<name>`, and
 * infra/function.ts gives it the log group `/aws/lambda/<function name>`.
 *
 * @example
 * logGroupName("dev", "sendmessage"); // "/aws/lambda/roomcast-dev-sendmessage"
 */
export function logGroupName(stack: string, functionName: string): string {
  return `/aws/lambda/roomcast-${stack}-${functionName}`;
}
