import * as pulumi from "@pulumi/pulumi";

/**
 * The tags of every resource: the stack's `tags` setting, then which project and
 * stack it belongs to (those two always win, so cost reports can rely on them).
 *
 * @example
 * stackTags({ team: "chat" }); // { team: "chat", "roomcast:project": "roomcast", "roomcast:stack": "dev" }
 */
export function stackTags(tags: Record<string, string>): Record<string, string> {
  return { ...tags, "roomcast:project": pulumi.getProject(), "roomcast:stack": pulumi.getStack() };
}
