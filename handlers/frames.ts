// Import these from here, never through a re-export: Pulumi serializes a Lambda's closure
// module by module, and a re-exported binding (a getter on the re-exporting module) reached
// the packaged functions as undefined (tests/lambda/lambda-artifacts.test.ts).
/**
 * Next to a name: `guest: true` when it is not a verified token identity's (auth off, or
 * stored before this was kept). Absent for a verified name, so older clients see no change.
 */
export const guestMark = (verified: boolean | undefined) => (verified ? {} : { guest: true as const });

/** Server -> client frames. */
export const frames = {
  message: (m: {
    room: string;
    seq: number;
    id: string;
    from: string;
    verified?: boolean;
    text: string;
    sentAt: string;
  }) => ({
    type: "message" as const,
    room: m.room,
    seq: m.seq,
    id: m.id,
    from: m.from,
    ...guestMark(m.verified),
    text: m.text,
    sentAt: m.sentAt,
  }),
  presence: (
    room: string,
    event: "join" | "leave",
    name: string,
    verified: boolean | undefined,
    kicked?: boolean,
  ) => ({
    type: "presence" as const,
    room,
    event,
    name,
    ...guestMark(verified),
    // A leave an owner or moderator made (kick or ban).
    ...(kicked ? { kicked: true as const } : {}),
  }),
};
