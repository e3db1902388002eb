/**
 * A DynamoDB action a handler performs, by its IAM name (`dynamodb:<action>`).
 * A TransactWriteItems is authorized per contained Put, Update, Delete or
 * ConditionCheck, so it appears here as those.
 */
export type DynamoAction =
  | "GetItem"
  | "BatchGetItem"
  | "Query"
  | "PutItem"
  | "UpdateItem"
  | "DeleteItem"
  | "BatchWriteItem"
  | "ConditionCheckItem";

/**
 * What a route's or worker's handler does, declared beside the handler
 * (`route.permissions`, `worker.permissions`): the program turns it into the
 * function's policy, and a handler test records the commands each route really
 * sends and compares them with it, so the two cannot drift.
 *
 * @example
 * export const historyRoute: Route = { key: "history", ..., permissions: { table: ["Query"], post: false } };
 */
export type FunctionPermissions = {
  /** DynamoDB actions on the table (and its indexes, for a Query). */
  table: readonly DynamoAction[];
  /** Posts to connections (`execute-api:ManageConnections`, POST only). */
  post: boolean;
  /** Closes connections (`execute-api:ManageConnections`, DELETE only): a client over its rate limits. */
  disconnect?: boolean;
  /** Sends fan-out jobs to the FIFO queue. */
  queue?: boolean;
};
