import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { queueDefinitions, queueName } from "../model/queues";

export type FanoutQueuesArgs = {
  /** Physical names start with it: `roomcast-dev` -> `roomcast-dev-fanout.fifo`. */
  namePrefix: string;
  /** The fan-out function's timeout: a job stays invisible for 6 times it, as AWS recommends. */
  fanoutTimeoutSeconds: number;
  /** Receives before a job moves to the dead-letter queue. */
  maxReceiveCount: number;
};

/** Dead letters wait 14 days (SQS's longest), so an operator has time to redrive them. */
const deadLetterRetentionSeconds = 14 * 24 * 60 * 60;

/**
 * The queues of the fan-out tier, each encrypted with SQS-managed keys:
 * 1. `<prefix>-fanout-dlq.fifo`, where a job lands after `maxReceiveCount` receives;
 * 2. `<prefix>-fanout.fifo`, the jobs (one per room slice and message, the
 *    producer sets group and deduplication ids), redriving to 1;
 * 3. `<prefix>-stream-dlq`, a standard queue: the stream mapping's on-failure
 *    destination, which gets the stream records the stream worker gave up on.
 *
 * @example
 * const queues = new FanoutQueues("roomcast", { namePrefix: "roomcast-dev", fanoutTimeoutSeconds: 60, maxReceiveCount: 5 });
 * queues.jobs.url; // https://sqs.us-east-1.amazonaws.com/123456789012/roomcast-dev-fanout.fifo
 */
export class FanoutQueues extends pulumi.ComponentResource {
  readonly jobs: aws.sqs.Queue;
  readonly jobsDeadLetters: aws.sqs.Queue;
  readonly streamDeadLetters: aws.sqs.Queue;

  constructor(name: string, args: FanoutQueuesArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("roomcast:index:FanoutQueues", name, {}, opts);
    const asChild = { parent: this };

    const jobsDeadLetters = createJobsDeadLetters();
    const jobs = createJobs();
    const streamDeadLetters = createStreamDeadLetters();

    this.jobs = jobs;
    this.jobsDeadLetters = jobsDeadLetters;
    this.streamDeadLetters = streamDeadLetters;
    this.registerOutputs({ jobsUrl: jobs.url });

    function createJobsDeadLetters() {
      return new aws.sqs.Queue(
        `${name}-fanout-dlq`,
        {
          // A FIFO queue's dead-letter queue must be FIFO too.
          name: queueName(args.namePrefix, "fanoutDeadLetter"),
          fifoQueue: queueDefinitions.fanoutDeadLetter.fifo,
          messageRetentionSeconds: deadLetterRetentionSeconds,
          sqsManagedSseEnabled: true,
        },
        asChild,
      );
    }

    function createJobs() {
      return new aws.sqs.Queue(
        `${name}-fanout`,
        {
          name: queueName(args.namePrefix, "fanout"),
          fifoQueue: queueDefinitions.fanout.fifo,
          // The stream worker sets `<messageId>#<slice>`: a redelivered stream record sends no second job.
          contentBasedDeduplication: false,
          // Lambda's advice for an SQS event source: at least 6 x the function's timeout.
          visibilityTimeoutSeconds: 6 * args.fanoutTimeoutSeconds,
          redrivePolicy: pulumi.jsonStringify({
            deadLetterTargetArn: jobsDeadLetters.arn,
            maxReceiveCount: args.maxReceiveCount,
          }),
          sqsManagedSseEnabled: true,
        },
        asChild,
      );
    }

    function createStreamDeadLetters() {
      return new aws.sqs.Queue(
        `${name}-stream-dlq`,
        {
          name: queueName(args.namePrefix, "streamDeadLetter"),
          messageRetentionSeconds: deadLetterRetentionSeconds,
          sqsManagedSseEnabled: true,
        },
        asChild,
      );
    }
  }
}
