export type FrameHeader = { fin: boolean; opcode: number; length: number };

const empty = Buffer.alloc(0);

/** Bytes of a frame header (RFC 6455 §5.2) once its first two bytes are known. */
function headerLength(header: Buffer): number {
  if (header.length < 2) return 2;
  const length7 = header[1] & 0x7f;
  const extended = length7 === 126 ? 2 : length7 === 127 ? 8 : 0;
  const mask = header[1] & 0x80 ? 4 : 0;
  return 2 + extended + mask;
}

/**
 * Reads the frame headers in a client's byte stream and skips the payloads. `ws`
 * reports only whole, reassembled messages, but API Gateway limits each frame.
 */
export function createFrameScanner(onFrame: (frame: FrameHeader) => void): (chunk: Buffer) => void {
  let header = empty;
  let payloadLeft = 0;
  return (chunk) => {
    let offset = 0;
    while (offset < chunk.length) {
      if (payloadLeft > 0) {
        const skipped = Math.min(payloadLeft, chunk.length - offset);
        payloadLeft -= skipped;
        offset += skipped;
        continue;
      }
      const wanted = headerLength(header) - header.length;
      header = Buffer.concat([header, chunk.subarray(offset, offset + wanted)]);
      offset += Math.min(wanted, chunk.length - offset);
      if (header.length < headerLength(header)) continue;
      const length7 = header[1] & 0x7f;
      const length =
        length7 === 126
          ? header.readUInt16BE(2)
          : length7 === 127
            ? Number(header.readBigUInt64BE(2))
            : length7;
      onFrame({ fin: (header[0] & 0x80) !== 0, opcode: header[0] & 0x0f, length });
      payloadLeft = length;
      header = empty;
    }
  };
}
