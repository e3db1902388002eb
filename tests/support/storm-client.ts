import type { Ledger, SendRecord, Stay } from "./storm-ledger";
import { connect, type Frame } from "./ws-client";

const isError = (action: string) => (frame: Frame) => frame.type === "error" && frame.action === action;

/**
 * A real `ws` client that writes what it does into the ledger: its stays in
 * rooms, and every message it sends with the ack or error it got. One request
 * at a time, so the next ack or error frame is the answer to it.
 */
export async function stormClient(ledger: Ledger, wsUrl: string, name: string, room: string) {
  const client = await connect(`${wsUrl}?name=${encodeURIComponent(name)}&room=${encodeURIComponent(room)}`);
  ledger.watch(name, client.frames);
  const open = new Map<string, Stay>();
  const arrive = (room: string) => {
    const stay = { client: name, room, from: ledger.tick(), to: Infinity };
    ledger.stays.push(stay);
    open.set(room, stay);
  };
  const depart = (room: string) => {
    const stay = open.get(room);
    if (stay) stay.to = ledger.tick();
    open.delete(room);
  };
  // `$connect` wrote the membership before the handshake completed.
  arrive(room);
  let sequence = 0;

  async function request(frame: object, action: string, answer: (f: Frame) => boolean) {
    client.send(frame);
    const reply = await client.next((f) => answer(f) || isError(action)(f));
    if (reply.type === "error") throw new Error(`${name}: ${action} answered ${JSON.stringify(reply)}`);
    return reply;
  }

  return {
    name,
    home: room,
    client,
    /** Any other action, answered by a frame of `type`. */
    ask: (frame: { action: string }, type: string) => request(frame, frame.action, (f) => f.type === type),

    async join(room: string) {
      await request({ action: "joinroom", room }, "joinroom", (f) => f.type === "joined" && f.room === room);
      arrive(room);
    },

    async leave(room: string) {
      depart(room);
      await request({ action: "leaveroom", room }, "leaveroom", (f) => f.type === "left" && f.room === room);
    },

    /** Sends a message with a clientId; resolves with its record, acked or rejected (never throws for an error frame). */
    async send(room: string, text = `${name}#${sequence + 1}`, clientId = `${name}-${++sequence}`) {
      const record: SendRecord = { sender: name, room, text, clientId, sentAt: ledger.tick() };
      ledger.sends.push(record);
      client.send({ action: "sendmessage", room, message: text, clientId });
      const reply = await client.next(
        (f) => (f.type === "ack" && f.clientId === clientId) || isError("sendmessage")(f),
      );
      record.doneAt = ledger.tick();
      if (reply.type === "ack") record.id = reply.id as string;
      else record.error = reply.code as string;
      return record;
    },

    /** Sends a frame and does not wait for its answer (a client gone before the reply). */
    fireAndForget: (frame: object) => client.send(frame),

    async close() {
      for (const room of [...open.keys()]) depart(room);
      await client.close();
    },

    /** Drops the TCP connection with no close frame, as a phone losing signal does. */
    async terminate() {
      for (const room of [...open.keys()]) depart(room);
      client.ws.terminate();
      await client.closed;
    },
  };
}

export type StormClient = Awaited<ReturnType<typeof stormClient>>;

/** Waits until every client got the message `id`, which proves the ones acked before it arrived too (one socket is FIFO). */
export async function everyoneGot(clients: StormClient[], id: string) {
  await Promise.all(clients.map((c) => c.client.next((f) => f.type === "message" && f.id === id)));
}

/** A small seeded generator, so a storm's plan is the same on every run (only timing differs). */
export function seededRandom(seed: number) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const range = (n: number) => Array.from({ length: n }, (_, i) => i);
