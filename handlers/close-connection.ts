import {
  ApiGatewayManagementApiClient,
  DeleteConnectionCommand,
  GoneException,
} from "@aws-sdk/client-apigatewaymanagementapi";
import type { Credentials } from "./delivery/transport";

/** Closes a client's connection from the server side (Management API DELETE); one already gone is fine. */
export type CloseConnection = (connectionId: string) => Promise<void>;

export function createConnectionCloser(options: {
  endpoint: string;
  region: string;
  credentials?: Credentials;
}): CloseConnection {
  const client = new ApiGatewayManagementApiClient(options);
  return async (connectionId) => {
    try {
      await client.send(new DeleteConnectionCommand({ ConnectionId: connectionId }));
    } catch (error) {
      if (!(error instanceof GoneException)) throw error;
    }
  };
}
