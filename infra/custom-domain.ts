import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { CustomDomain } from "./config";

export type CustomDomainArgs = CustomDomain & {
  api: aws.apigatewayv2.Api;
  stage: aws.apigatewayv2.Stage;
};

/**
 * The chat at `wss://<domainName>`: a REGIONAL API Gateway domain name on TLS
 * 1.2 with the given ACM certificate, the mapping of its root to the stage and,
 * given a Route 53 hosted zone, the alias record pointing the name at it.
 * Handlers keep posting to the stage's own execute-api endpoint, which works
 * behind any domain.
 *
 * @example
 * const domain = new ChatDomain("roomcast", { domainName: "chat.example.com", certificateArn, api, stage });
 * domain.url; // wss://chat.example.com
 */
export class ChatDomain extends pulumi.ComponentResource {
  readonly domainName: aws.apigatewayv2.DomainName;
  readonly mapping: aws.apigatewayv2.ApiMapping;
  /** Only with a `hostedZoneId`. */
  readonly record?: aws.route53.Record;
  readonly url: pulumi.Output<string>;

  constructor(name: string, args: CustomDomainArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("roomcast:index:ChatDomain", name, {}, opts);
    const asChild = { parent: this };

    const domainName = createDomainName();
    const mapping = createMapping();
    const record = args.hostedZoneId ? createRecord(args.hostedZoneId) : undefined;

    this.domainName = domainName;
    this.mapping = mapping;
    this.record = record;
    // The mapping has no key: the stage answers at the domain's root.
    this.url = pulumi.interpolate`wss://${domainName.domainName}`;
    this.registerOutputs({ url: this.url });

    function createDomainName() {
      return new aws.apigatewayv2.DomainName(
        name,
        {
          domainName: args.domainName,
          domainNameConfiguration: {
            certificateArn: args.certificateArn,
            endpointType: "REGIONAL",
            securityPolicy: "TLS_1_2",
          },
        },
        asChild,
      );
    }

    function createMapping() {
      return new aws.apigatewayv2.ApiMapping(
        name,
        { apiId: args.api.id, domainName: domainName.id, stage: args.stage.id },
        asChild,
      );
    }

    function createRecord(zoneId: string) {
      const target = domainName.domainNameConfiguration;
      return new aws.route53.Record(
        name,
        {
          zoneId,
          name: domainName.domainName,
          type: "A",
          aliases: [
            {
              name: target.targetDomainName,
              zoneId: target.hostedZoneId,
              evaluateTargetHealth: false,
            },
          ],
        },
        asChild,
      );
    }
  }
}
