import { createHash } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { Hash } from "@smithy/hash-node";
import { HttpRequest } from "@smithy/protocol-http";
import { SignatureV4 } from "@smithy/signature-v4";

export type Credentials = { accessKeyId: string; secretAccessKey: string };

/** Why execute-api refuses a request, as AWS answers it (403, its error type and message). */
export type SignatureFailure = { errorType: string; message: string };

const region = "us-east-1";
const service = "execute-api";

/** AWS's answers (re:Post "Troubleshoot SigV4 signature mismatch errors ... API Gateway"). */
const failures = {
  unsigned: { errorType: "MissingAuthenticationTokenException", message: "Missing Authentication Token" },
  unknownKey: {
    errorType: "UnrecognizedClientException",
    message: "The security token included in the request is invalid.",
  },
  mismatch: {
    errorType: "InvalidSignatureException",
    message:
      "The request signature we calculated does not match the signature you provided. " +
      "Check your AWS Secret Access Key and signing method. Consult the service documentation for details.",
  },
} satisfies Record<string, SignatureFailure>;

const authorizationPattern =
  /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/;

/** `20261201T175010Z` -> a Date; undefined when malformed. */
function amzDate(value: string | undefined): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value ?? "");
  return m ? new Date(Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6])) : undefined;
}

/**
 * What can be checked of a SigV4 signature before the body is read: that there is one,
 * of the right key, region and service. Refuses unsigned and foreign requests without
 * reading a byte of their body.
 */
export function checkSignatureHeaders(
  req: IncomingMessage,
  credentials: Credentials,
): SignatureFailure | undefined {
  const authorization = req.headers.authorization;
  if (!authorization || !amzDate(req.headers["x-amz-date"] as string | undefined)) return failures.unsigned;
  const parts = authorizationPattern.exec(authorization);
  if (!parts) return failures.mismatch;
  const [, accessKeyId, , signedRegion, signedService] = parts;
  if (accessKeyId !== credentials.accessKeyId) return failures.unknownKey;
  if (signedRegion !== region || signedService !== service) return failures.mismatch;
  return undefined;
}

/**
 * Checks a request's SigV4 signature (header form, service `execute-api`, region
 * us-east-1) by signing the same request again with `credentials`: the body's
 * hash is part of it. Returns undefined when it matches, else AWS's refusal.
 *
 * @example
 * const failure = await checkSignature(req, body, localAws.credentials);
 * if (failure) answer(res, 403, { message: failure.message }, failure.errorType);
 */
export async function checkSignature(
  req: IncomingMessage,
  body: Buffer,
  credentials: Credentials,
): Promise<SignatureFailure | undefined> {
  const early = checkSignatureHeaders(req, credentials);
  if (early) return early;
  const signingDate = amzDate(req.headers["x-amz-date"] as string)!;
  const [, , , , , signedHeaders, signature] = authorizationPattern.exec(req.headers.authorization!)!;

  // The signature covers the body through this hash when the client sent one: check it against the bytes.
  const claimedHash = req.headers["x-amz-content-sha256"];
  if (claimedHash !== undefined && claimedHash !== createHash("sha256").update(body).digest("hex"))
    return failures.mismatch;

  const url = new URL(req.url ?? "/", "http://localhost");
  const headers: Record<string, string> = {};
  for (const name of signedHeaders.split(";")) {
    const value = req.headers[name];
    if (value === undefined) return failures.mismatch;
    headers[name] = Array.isArray(value) ? value.join(",") : value;
  }
  const request = new HttpRequest({
    method: req.method,
    protocol: "http:",
    hostname: url.hostname,
    // The path exactly as the client sent (and signed) it, still percent-encoded.
    path: url.pathname,
    query: Object.fromEntries(url.searchParams),
    headers,
    body,
  });
  const signer = new SignatureV4({
    credentials,
    region,
    service,
    sha256: Hash.bind(null, "sha256"),
    // Sign exactly the client's headers: no x-amz-content-sha256 of our own.
    applyChecksum: false,
  });
  const expected = await signer.sign(request, {
    signingDate,
    signableHeaders: new Set(Object.keys(headers)),
    unsignableHeaders: new Set(),
  });
  const recomputed = /Signature=([0-9a-f]{64})/.exec(String(expected.headers.authorization))?.[1];
  return recomputed === signature ? undefined : failures.mismatch;
}
