import unhomoglyph from "unhomoglyph";

/**
 * Display names: what every other member sees beside a message, so a name must show
 * as itself. One check for `?name=` and for a token's `name` claim.
 */

// Controls, format characters (bidi overrides, zero-width joiners) and line separators.
const controls = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u;
// Characters that render as nothing: Hangul fillers (U+3164, U+115F, U+1160), combining grapheme
// joiner, Mongolian selectors... (Unicode's Default_Ignorable_Code_Point), and the Braille blank
// (U+2800), which is not in that list. Variation selectors are left to emoji (❤️ is U+2764 U+FE0F).
const blank = /(?![\uFE00-\uFE0F])[\p{Default_Ignorable_Code_Point}\u2800]/u;
// A visible character: a letter, digit, punctuation or symbol.
const visible = /[\p{L}\p{N}\p{P}\p{S}]/u;
// Marks may follow a base character, a few at a time (Devanagari, Thai, Vietnamese need up to 3).
const leadingMark = /^\p{M}/u;
const stackedMarks = /\p{M}{4,}/u;
// Latin, Greek and Cyrillic share look-alike letters (a/а/α): one name uses one of them.
const lookAlikeScripts = [/\p{Script=Latin}/u, /\p{Script=Greek}/u, /\p{Script=Cyrillic}/u];

/** Names only the server may show (compared by their look: case, homoglyphs and separators aside). */
export const reservedNames = [
  "system",
  "admin",
  "administrator",
  "moderator",
  "mod",
  "roomcast",
  "server",
  "root",
  "staff",
  "support",
  "official",
  "everyone",
  "here",
];
// Read as a notice, not a person: "bob joined", "alice left the room".
const noticeLike = /\b(?:joined|left|has left|has joined)(?:\s+the\s+room)?\s*$/iu;
// The server's own guest names (`guest-1a2b3c`) are not for the taking.
const guestName = /^guest-/iu;

/** How a name looks, for comparison: lowercase, homoglyphs folded (UTS #39 skeleton), letters and digits only. */
const skeleton = (name: string) =>
  unhomoglyph(name.toLowerCase())
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]/gu, "");
// An array, not a Set: Pulumi serializes the authorizer's closure, and a Set does not survive it.
const reservedSkeletons = reservedNames.map(skeleton);

export type NameCheck = { ok: true; name: string } | { ok: false; rule: string };

/**
 * NFKC-normalises and trims a display name, or says which rule it breaks.
 * `rule` reads after "name: ", e.g. "must not be a reserved name (System, admin, ...)".
 */
export function checkName(raw: string, maxLength: number): NameCheck {
  const name = raw.normalize("NFKC").trim();
  const length = [...name].length;
  if (length < 1 || length > maxLength) return { ok: false, rule: `must be 1 to ${maxLength} characters` };
  if (controls.test(name)) return { ok: false, rule: "must be printable (no control characters)" };
  if (blank.test(name) || !visible.test(name)) {
    return { ok: false, rule: "must not contain invisible characters (fillers, blanks)" };
  }
  if (leadingMark.test(name) || stackedMarks.test(name)) {
    return { ok: false, rule: "must not start with or stack combining marks" };
  }
  if (lookAlikeScripts.filter((script) => script.test(name)).length > 1) {
    return { ok: false, rule: "must not mix Latin, Greek and Cyrillic letters (they look alike)" };
  }
  if (reservedSkeletons.includes(skeleton(name)) || guestName.test(name) || noticeLike.test(name)) {
    return {
      ok: false,
      rule: "must not be a reserved name (System, admin, moderator, guest-..., ... joined)",
    };
  }
  return { ok: true, name };
}
