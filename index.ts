import * as pulumi from "@pulumi/pulumi";
import { ChatApi } from "./infra/chat-api";
import { readStackConfig } from "./infra/config";

// 1. This stack's settings (Pulumi.<stack>.yaml), defaults in code.
const config = readStackConfig();

// 2. The table, the WebSocket API and stage, and a Lambda per route of handlers/routes.ts.
const chat = new ChatApi("roomcast", config);

// 3. What a user needs to connect.
export const url = chat.url;
export const wscat = pulumi.interpolate`wscat -c ${chat.url}`;
export const tableName = chat.table.name;
export const managementEndpoint = chat.managementEndpoint;
