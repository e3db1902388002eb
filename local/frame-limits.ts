import { gatewayCloses, type CloseReason } from "./close-reasons";
import type { FrameHeader } from "./frame-scanner";

/** API Gateway's WebSocket quotas: 32 KB a frame, 128 KB a message. */
export const frameLimits = { frameBytes: 32 * 1024, messageBytes: 128 * 1024 };

const continuation = 0x0;
const binary = 0x2;
const firstControlOpcode = 0x8;

/**
 * Checks a client's frames, one after another, against API Gateway's limits and
 * returns why the connection must close at the first frame that breaks one.
 */
export function createFrameGuard(limits = frameLimits): (frame: FrameHeader) => CloseReason | undefined {
  let messageBytes = 0;
  return (frame) => {
    if (frame.opcode >= firstControlOpcode) return undefined;
    if (frame.opcode === binary) return gatewayCloses.binary;
    const total = frame.opcode === continuation ? messageBytes + frame.length : frame.length;
    messageBytes = frame.fin ? 0 : total;
    if (frame.length > limits.frameBytes || total > limits.messageBytes) return gatewayCloses.tooBig;
    return undefined;
  };
}
