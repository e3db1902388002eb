import * as pulumi from "@pulumi/pulumi";
import { ChatApi } from "./infra/chat-api";
import { readStackConfig } from "./infra/config";

// 1. This stack's settings (Pulumi.<stack>.yaml), defaults in code.
const config = readStackConfig();

// 2. The table, the WebSocket API and stage, a Lambda per route of handlers/routes.ts
//    and, with an authSecret, the authorizer `$connect` requires.
const chat = new ChatApi("roomcast", config);

// 3. What a user needs to connect (with auth on, a token from `npm run token`).
export const url = chat.url;
export const wscat = config.authSecret
  ? pulumi.interpolate`wscat -c "${chat.url}?token=$TOKEN"`
  : pulumi.interpolate`wscat -c ${chat.url}`;
export const tableName = chat.table.name;
export const managementEndpoint = chat.managementEndpoint;
