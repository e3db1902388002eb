import { BlockList, isIP } from "node:net";
import type { ConnectionCap } from "../model/store/connection-slots";
import type { ChatConfig } from "./config";

/** 127.0.0.0/8, ::1 and IPv4-mapped 127.x (BlockList maps them): the local stack and its tests. */
export function isLoopback(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return false;
  // Built per call: Pulumi cannot serialize a native object captured at module level.
  const loopback = new BlockList();
  loopback.addSubnet("127.0.0.0", 8, "ipv4");
  loopback.addAddress("::1", "ipv6");
  return loopback.check(address, family === 4 ? "ipv4" : "ipv6");
}

/**
 * The caps a `$connect` counts against: its user's (with a verified token) and its
 * source IP's; none from a loopback address or without a source IP, none for a cap set to 0.
 */
export function connectionCaps(
  config: Pick<ChatConfig, "maxConnectionsPerUser" | "maxConnectionsPerIp">,
  sourceIp: string | undefined,
  userId: string | undefined,
): ConnectionCap[] {
  if (!sourceIp || isLoopback(sourceIp)) return [];
  const caps: ConnectionCap[] = [];
  if (userId && config.maxConnectionsPerUser > 0)
    caps.push({ owner: `user#${userId}`, cap: config.maxConnectionsPerUser });
  if (config.maxConnectionsPerIp > 0) caps.push({ owner: `ip#${sourceIp}`, cap: config.maxConnectionsPerIp });
  return caps;
}
