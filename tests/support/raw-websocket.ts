import { randomBytes } from "node:crypto";
import { connect as tcpConnect, type Socket } from "node:net";

/** A frame as it crossed the wire, payload included. */
export type RawFrame = { fin: boolean; opcode: number; payload: Buffer };

export const opcodes = {
  continuation: 0x0,
  text: 0x1,
  binary: 0x2,
  close: 0x8,
  ping: 0x9,
  pong: 0xa,
} as const;

/** One client frame (RFC 6455 §5.2), masked as a client must. */
export function encodeFrame(opcode: number, payload: Buffer, fin = true): Buffer {
  const length = payload.length;
  const extended = length < 126 ? 0 : length < 65536 ? 2 : 8;
  const header = Buffer.alloc(2 + extended + 4);
  header[0] = (fin ? 0x80 : 0) | opcode;
  header[1] = 0x80 | (extended === 0 ? length : extended === 2 ? 126 : 127);
  if (extended === 2) header.writeUInt16BE(length, 2);
  if (extended === 8) header.writeBigUInt64BE(BigInt(length), 2);
  const mask = randomBytes(4);
  mask.copy(header, 2 + extended);
  const masked = Buffer.from(payload);
  for (let i = 0; i < masked.length; i++) masked[i] ^= mask[i % 4];
  return Buffer.concat([header, masked]);
}

/** Reads the server's (unmasked) frames out of a byte stream. */
function frameReader(onFrame: (frame: RawFrame) => void) {
  let buffer = Buffer.alloc(0);
  return (chunk: Buffer) => {
    buffer = Buffer.concat([buffer, chunk]);
    for (;;) {
      if (buffer.length < 2) return;
      const length7 = buffer[1] & 0x7f;
      const offset = length7 === 126 ? 4 : length7 === 127 ? 10 : 2;
      if (buffer.length < offset) return;
      const length =
        length7 === 126
          ? buffer.readUInt16BE(2)
          : length7 === 127
            ? Number(buffer.readBigUInt64BE(2))
            : length7;
      if (buffer.length < offset + length) return;
      onFrame({
        fin: (buffer[0] & 0x80) !== 0,
        opcode: buffer[0] & 0x0f,
        payload: buffer.subarray(offset, offset + length),
      });
      buffer = buffer.subarray(offset + length);
    }
  };
}

/**
 * A WebSocket client written on a raw TCP socket: the handshake by hand, then
 * any frame a test wants to send (binary, oversized, fragmented) and every frame
 * the server sends, exactly as it crossed the wire.
 */
export function rawWebSocket(port: number, path = "/") {
  const frames: RawFrame[] = [];
  const waiters: (() => void)[] = [];
  let socket: Socket;
  const read = frameReader((frame) => {
    frames.push(frame);
    // A conforming client answers a close frame with one of its own (RFC 6455 §5.5.1).
    if (frame.opcode === opcodes.close) socket.end(encodeFrame(opcodes.close, frame.payload.subarray(0, 2)));
    for (const wake of waiters.splice(0)) wake();
  });
  return new Promise<{
    socket: Socket;
    frames: RawFrame[];
    send(opcode: number, payload: Buffer, fin?: boolean): void;
    /** The first received frame that matches, waiting for it if need be. */
    frame(match: (frame: RawFrame) => boolean): Promise<RawFrame>;
    /** The close frame's code and reason. */
    closeFrame(): Promise<{ code: number; reason: string }>;
  }>((resolve, reject) => {
    let head = Buffer.alloc(0);
    socket = tcpConnect(port, "127.0.0.1", () =>
      socket.write(
        `GET ${path} HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: ${randomBytes(16).toString("base64")}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      ),
    );
    socket.on("error", reject);
    const onHandshake = (chunk: Buffer) => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf("\r\n\r\n");
      if (end < 0) return;
      socket.removeListener("data", onHandshake);
      const status = head.subarray(0, head.indexOf("\r\n")).toString();
      if (!status.startsWith("HTTP/1.1 101")) return reject(new Error(`handshake answered ${status}`));
      socket.on("data", read);
      read(head.subarray(end + 4));
      const frame = (match: (f: RawFrame) => boolean) =>
        new Promise<RawFrame>((done) => {
          const look = () => {
            const found = frames.find(match);
            if (found) done(found);
            else waiters.push(look);
          };
          look();
        });
      resolve({
        socket,
        frames,
        send: (opcode, payload, fin = true) => socket.write(encodeFrame(opcode, payload, fin)),
        frame,
        async closeFrame() {
          const close = await frame((f) => f.opcode === opcodes.close);
          return { code: close.payload.readUInt16BE(0), reason: close.payload.subarray(2).toString() };
        },
      });
    };
    socket.on("data", onHandshake);
  });
}
