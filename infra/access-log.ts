/**
 * One JSON object per WebSocket event in the stage's access log, readable by
 * CloudWatch Logs Insights. Every value is quoted, so a missing one ("-") still
 * leaves valid JSON.
 */
export const accessLogFormat = JSON.stringify({
  requestId: "$context.requestId",
  extendedRequestId: "$context.extendedRequestId",
  requestTime: "$context.requestTime",
  eventType: "$context.eventType",
  routeKey: "$context.routeKey",
  status: "$context.status",
  connectionId: "$context.connectionId",
  messageId: "$context.messageId",
  sourceIp: "$context.identity.sourceIp",
  userAgent: "$context.identity.userAgent",
  integrationStatus: "$context.integrationStatus",
  integrationLatency: "$context.integrationLatency",
  error: "$context.error.message",
});
