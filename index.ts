import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { ChatApi } from "./infra/chat-api";
import { readStackConfig } from "./infra/config";
import { stackTags } from "./infra/tags";

// 1. This stack's settings (Pulumi.<stack>.yaml), defaults in code.
const config = readStackConfig();

// 2. An AWS provider that tags every resource it creates (`tags`, plus roomcast:project and roomcast:stack).
const provider = new aws.Provider("aws", {
  region: new pulumi.Config("aws").require("region") as aws.Region,
  defaultTags: { tags: stackTags(config.tags) },
});

// 3. The table, the WebSocket API and stage, a Lambda per route of handlers/routes.ts, the
//    fan-out workers and queues, the alarms and dashboard, and with an authSecret the authorizer
//    `$connect` requires, with a domainName the custom domain.
const chat = new ChatApi("roomcast", config, { providers: { aws: provider } });

// 4. What a user needs to connect (with auth on, a token from `npm run token`), and to watch it.
export const url = chat.url;
export const wscat = config.authSecret
  ? pulumi.interpolate`wscat -c "${chat.url}?token=$TOKEN"`
  : pulumi.interpolate`wscat -c ${chat.url}`;
export const tableName = chat.table.name;
export const managementEndpoint = chat.managementEndpoint;
export const dashboardUrl = chat.dashboardUrl;

// 5. What an operator's replay of the stream's dead letters needs (docs/operations.md).
export const fanoutQueueUrl = chat.queues.jobs.url;
export const streamDeadLetterQueueUrl = chat.queues.streamDeadLetters.url;
