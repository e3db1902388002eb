import { startDynamoDbLocal } from "../../local/dynamodb-local";

/** One real DynamoDB Local for the whole run; test files each create their own table. */
export default async function globalSetup(): Promise<void> {
  const started = Date.now();
  const ddb = await startDynamoDbLocal();
  process.env.DYNAMODB_ENDPOINT = ddb.endpoint;
  process.env.ROOMCAST_DYNAMODB_LOCAL_PID = String(ddb.pid);
  console.log(
    `\nDynamoDB Local (real jar, pid ${ddb.pid}) on ${ddb.endpoint}, up in ${Date.now() - started} ms`,
  );
}
