import { startDynamoDbLocal, type DynamoDbLocal } from "../../local/dynamodb-local";
import ExclusiveNodeEnvironment from "./node-environment";

/**
 * The node environment plus a DynamoDB Local of the test file's own, on a free port,
 * in memory, stopped by pid after the file. One instance shared by the whole run slowed
 * every later file down: DynamoDB Local keeps each stream record ever written, a deleted
 * table's too, and every GetRecords pays for them (measured here: 4-6 ms a call on a fresh
 * instance, 17-31 ms once 30,000 records had been written to other tables), so once the 50,000-member
 * capacity test had run, each stream poll of each later file crawled.
 *
 * jest.config.js gives it to the files of the DynamoDB folders.
 */
export default class DynamoDbLocalEnvironment extends ExclusiveNodeEnvironment {
  private dynamodb?: DynamoDbLocal;

  override async setup(): Promise<void> {
    await super.setup();
    // A JVM starting on a loaded 2-core machine can take far longer than npm start's 30 s.
    this.dynamodb = await startDynamoDbLocal({ timeoutMs: 120_000 });
    // The test's sandboxed env and the real one, which child processes inherit.
    this.global.process.env.DYNAMODB_ENDPOINT = this.dynamodb.endpoint;
    process.env.DYNAMODB_ENDPOINT = this.dynamodb.endpoint;
  }

  override async teardown(): Promise<void> {
    await this.dynamodb?.stop();
    delete process.env.DYNAMODB_ENDPOINT;
    await super.teardown();
  }
}
