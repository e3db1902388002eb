/**
 * A corpus of hostile frames: each a body a client could send. Generated from
 * small lists so every field meets every kind of bad value.
 */
const actions = ["sendmessage", "joinroom", "leaveroom", "listrooms", "history", "members"];

/** Room names aiming at other key prefixes, separators and encodings. */
export const hostileRooms = [
  "",
  " ",
  "lobby#members",
  "secret#messages",
  "#",
  "$",
  "$roomcast",
  "room#secret#members",
  "rooms",
  "secret/../lobby",
  "secret%23members",
  "lobby\u0000",
  "lobby\n",
  "LOBBY\u200b",
  "ｌｏｂｂｙ",
  "x".repeat(65),
  "a b",
  "__proto__",
  "constructor",
  "conn#abc",
];

/** Values of the wrong type for any field. */
const wrongTypes: unknown[] = [
  null,
  0,
  -1,
  1.5,
  true,
  [],
  ["lobby"],
  {},
  { $ne: null },
  "NaN",
  Number.MAX_VALUE,
  -0,
];

/** Message texts at unicode and control-character edges. */
export const hostileTexts = [
  "\u0000",
  "nul\u0000inside",
  "bell\u0007",
  "esc\u001b[31mred",
  "\u007f",
  "\u0085next-line",
  "\ud800",
  "lone \udfff surrogate",
  "\u202eevil rtl",
  "zero\u200bwidth",
  "\ufeffbom",
  "😀".repeat(4097),
  "x".repeat(4097),
  "",
  "<script>alert(1)</script>",
  "{{constructor.constructor('return process')()}}",
  "'; DROP TABLE rooms; --",
];

/** Cursors that are not ones the server issued for this room. */
export const hostileCursors = [
  "",
  "not-a-cursor",
  "01HZZZZZZZZZZZZZZZZZZZZZZZ0",
  "01hzzzzzzzzzzzzzzzzzzzzzzz",
  "ZZZZZZZZZZZZZZZZZZZZZZZZZZ",
  "msg#01HZZZZZZZZZZZZZZZZZZZZZ",
  "room#secret#messages",
  "7".repeat(26),
];

/** `user` values (a token subject for `dm`) aiming at key prefixes, at the length rule and at controls. */
const hostileUsers = [
  "",
  " ",
  "victim",
  "user#victim#connections",
  "#",
  "x".repeat(257),
  "bell\u0007",
  "\u0000",
  "__proto__",
];

export const hostileClientIds = ["", " ", "a".repeat(65), "id#x", "id\u0000", "../etc", "💥", "a b"];

function deeplyNested(depth: number): string {
  return "[".repeat(depth) + "]".repeat(depth);
}

/** At least 200 bodies; each is sent as a text frame. */
export function hostileFrames(): string[] {
  const frames: string[] = [
    "",
    " ",
    "not json",
    "{",
    "}",
    "null",
    "true",
    "42",
    '"sendmessage"',
    "[]",
    '[{"action":"sendmessage"}]',
    '{"action":"sendmessage","message":"hi"',
    "{'action':'sendmessage'}",
    '{"action":"SENDMESSAGE","message":"hi"}',
    '{"action":" sendmessage","message":"hi"}',
    '{"action":"$connect"}',
    '{"action":"$disconnect"}',
    '{"action":"$default"}',
    '{"action":"__proto__"}',
    '{"action":"constructor"}',
    '{"action":"toString"}',
    '{"action":null}',
    '{"action":["sendmessage"]}',
    '{"message":"no action"}',
    '{"__proto__":{"action":"sendmessage","message":"polluted"}}',
    '{"action":"sendmessage","message":"hi","__proto__":{"room":"secret"}}',
    '{"action":"sendmessage","message":"hi","constructor":{"prototype":{"room":"secret"}}}',
    '{"action":"sendmessage","message":"dup","message":"secret room","room":"secret"}',
    deeplyNested(5000),
    `{"action":"sendmessage","message":"hi","extra":${deeplyNested(3000)}}`,
    JSON.stringify({ action: "sendmessage", message: "x".repeat(200_000) }),
    "\u0000".repeat(100),
    "\ud800\udc00",
  ];
  for (const action of actions) {
    for (const bad of wrongTypes) {
      frames.push(
        JSON.stringify({
          action,
          room: bad,
          message: bad,
          before: bad,
          after: bad,
          limit: bad,
          clientId: bad,
          rooms: bad,
        }),
      );
    }
    if (action === "listrooms") continue;
    for (const room of hostileRooms) frames.push(JSON.stringify({ action, room, message: "hi" }));
  }
  for (const text of hostileTexts) frames.push(JSON.stringify({ action: "sendmessage", message: text }));
  for (const before of hostileCursors)
    frames.push(JSON.stringify({ action: "history", room: "lobby", before }));
  for (const after of hostileCursors)
    frames.push(JSON.stringify({ action: "members", room: "lobby", after }));
  // Seqs: negative, fractional, huge, not numbers, both bounds at once; resume lists of every wrong shape.
  for (const seq of [-1, 0.5, 2 ** 53, 1e308, "5", null, [], {}]) {
    frames.push(JSON.stringify({ action: "history", room: "lobby", after: seq }));
    frames.push(JSON.stringify({ action: "joinroom", room: "lobby", after: seq }));
    frames.push(JSON.stringify({ action: "resume", rooms: [{ room: "lobby", after: seq }] }));
  }
  frames.push(JSON.stringify({ action: "history", room: "lobby", before: 3, after: 1 }));
  for (const room of hostileRooms)
    frames.push(JSON.stringify({ action: "resume", rooms: [{ room, after: 0 }] }));
  frames.push(
    JSON.stringify({
      action: "resume",
      rooms: Array.from({ length: 1000 }, (_, i) => ({ room: `r${i}`, after: 0 })),
    }),
    JSON.stringify({
      action: "resume",
      rooms: [
        { room: "lobby", after: 0 },
        { room: "lobby", after: 1 },
      ],
    }),
    JSON.stringify({ action: "resume", rooms: [null, "lobby", 1] }),
  );
  for (const limit of [0, -1, 101, 1.5, 1e9, "10", null]) {
    frames.push(JSON.stringify({ action: "history", room: "lobby", limit }));
  }
  for (const clientId of hostileClientIds) {
    frames.push(JSON.stringify({ action: "sendmessage", message: "hi", clientId }));
  }
  // Direct messages to subjects aimed at other users' partitions, and not subjects at all.
  for (const user of [...hostileUsers, ...wrongTypes]) frames.push(JSON.stringify({ action: "dm", user }));
  return frames;
}
