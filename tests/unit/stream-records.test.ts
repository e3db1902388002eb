import type { DynamoDBRecord } from "aws-lambda";
import { normalizeStreamRecord } from "../../handlers/delivery/stream-records";

const oldImage = { pk: { S: "CONN#abc" }, sk: { S: "connection" }, expiresAt: { N: "1700000000" } };
const base = {
  eventID: "1",
  eventVersion: "1.1",
  eventSource: "aws:dynamodb",
  awsRegion: "us-east-1",
  eventSourceARN: "arn:aws:dynamodb:us-east-1:000000000000:table/t/stream/2026-01-01T00:00:00.000",
};
const removal = (extra: Partial<DynamoDBRecord>): DynamoDBRecord => ({
  ...base,
  eventName: "REMOVE",
  dynamodb: { Keys: { pk: oldImage.pk, sk: oldImage.sk }, OldImage: oldImage, SequenceNumber: "100" },
  ...extra,
});

test("AWS's TTL delete: REMOVE by dynamodb.amazonaws.com", () => {
  const record = removal({ userIdentity: { type: "Service", principalId: "dynamodb.amazonaws.com" } });
  expect(normalizeStreamRecord(record)).toEqual({
    kind: "remove",
    ttl: true,
    keys: { pk: "CONN#abc", sk: "connection" },
    oldImage: { pk: "CONN#abc", sk: "connection", expiresAt: 1700000000 },
    newImage: undefined,
  });
});

test("DynamoDB Local's TTL delete: eventName UNKNOWN_TO_SDK_VERSION, no userIdentity", () => {
  const record = removal({ eventName: "UNKNOWN_TO_SDK_VERSION" as DynamoDBRecord["eventName"] });
  expect(normalizeStreamRecord(record)).toMatchObject({ kind: "remove", ttl: true });
});

test("a request's delete is a REMOVE that is not TTL", () => {
  expect(normalizeStreamRecord(removal({}))).toMatchObject({ kind: "remove", ttl: false });
});

test("an unknown eventName is refused", () => {
  expect(() =>
    normalizeStreamRecord(removal({ eventName: "TRUNCATE" as DynamoDBRecord["eventName"] })),
  ).toThrow(/TRUNCATE/);
});
