import type { AttributeValue } from "@aws-sdk/client-dynamodb";
import { unmarshall } from "@aws-sdk/util-dynamodb";
import type { DynamoDBRecord, StreamRecord } from "aws-lambda";

export type ChangeKind = "insert" | "modify" | "remove";

export type Image = Record<string, unknown>;

/** A stream record as a change, its images unmarshalled to plain values. */
export type StreamChange = {
  kind: ChangeKind;
  /** Deleted by the table's TTL process, not by a request. */
  ttl: boolean;
  keys: Image;
  oldImage?: Image;
  newImage?: Image;
};

/** AWS marks its TTL deletions with this service principal. */
const ttlPrincipal = "dynamodb.amazonaws.com";

/**
 * One stream record as a change. TTL deletions come in two forms: on AWS a `REMOVE`
 * whose userIdentity is the DynamoDB service; on DynamoDB Local a record whose
 * eventName is `UNKNOWN_TO_SDK_VERSION`, with the old image and no userIdentity.
 *
 * @example
 * const change = normalizeStreamRecord(record);
 * if (change.kind === "remove" && change.oldImage) cleanup(change.oldImage);
 */
export function normalizeStreamRecord(record: DynamoDBRecord): StreamChange {
  const images = {
    keys: plain(record.dynamodb?.Keys) ?? {},
    oldImage: plain(record.dynamodb?.OldImage),
    newImage: plain(record.dynamodb?.NewImage),
  };
  const eventName: string | undefined = record.eventName;
  switch (eventName) {
    case "INSERT":
      return { kind: "insert", ttl: false, ...images };
    case "MODIFY":
      return { kind: "modify", ttl: false, ...images };
    case "REMOVE":
      return {
        kind: "remove",
        ttl: record.userIdentity?.type === "Service" && record.userIdentity.principalId === ttlPrincipal,
        ...images,
      };
    case "UNKNOWN_TO_SDK_VERSION":
      return { kind: "remove", ttl: true, ...images };
    default:
      throw new Error(`unexpected stream eventName ${String(eventName)}`);
  }
}

/** Lambda's event JSON has the same attribute-value shape as the SDK's, binaries in base64. */
function plain(image: StreamRecord["OldImage"]): Image | undefined {
  return image && unmarshall(image as Record<string, AttributeValue>);
}
