import { z } from "zod";
import { linksObject, resultDetailsObject } from "./schemas";

// Answers of the routes that help a person read a job (results.ts, breakdown.ts
// and story.ts in src/api/email-validations/): a filtered page of results, the
// breakdown, and the job's story.

const RESULT_CLASSES = ["deliverable", "risky", "undeliverable", "unknown"] as const;
const isoDate = z.string().meta({ format: "date-time" });
const count = z.number().int().min(0);

export const resultPage = z
  .strictObject({
    object: z.enum(["list"]),
    results: z.array(resultDetailsObject),
    _links: linksObject,
  })
  .meta({
    id: "email_validation_result_page",
    description: "A page of a job's results that pass the filter.",
  });

export const breakdownObject = z
  .strictObject({
    object: z.enum(["email_validation_breakdown"]),
    total: count,
    processed: count,
    verdicts: z.strictObject(
      Object.fromEntries(RESULT_CLASSES.map((r) => [r, count])) as Record<
        (typeof RESULT_CLASSES)[number],
        typeof count
      >,
    ),
    reasons: z.array(z.strictObject({ result: z.enum(RESULT_CLASSES), reason: z.string(), count })),
    top_domains: z.array(
      z.strictObject({
        domain: z.string(),
        total: count,
        deliverable: count,
        risky: count,
        undeliverable: count,
        unknown: count,
      }),
    ),
  })
  .meta({
    id: "email_validation_breakdown",
    description:
      "The results so far by verdict, by reason within each verdict, and the domains with most addresses.",
  });

const hostStory = z.strictObject({
  host: z.string(),
  names: z.array(z.string()),
  addresses: count.meta({ description: "This job's addresses handed to the host and not answered yet." }),
  retrying: count.meta({
    description: "Told to try again later (greylisting or throttling), waiting for the retry.",
  }),
  greylisted: count,
  held: count.meta({ description: "Accepted, waiting for the domain's catch-all answer." }),
  next_retry_at: isoDate.nullable(),
  deadline_at: isoDate.nullable(),
  state: z.enum(["working", "backed_off", "not_answering", "refusing"]),
  paused_until: isoDate.nullable(),
  reason: z.string().nullable(),
  sessions: count,
  max_sessions: count,
  last_reply: z
    .strictObject({ code: z.number().int(), enhanced: z.string().nullable(), text: z.string() })
    .nullable(),
});

export const storyObject = z
  .strictObject({
    object: z.enum(["email_validation_story"]),
    status: z.string(),
    paused: z.boolean(),
    total: count,
    processed: count,
    started_at: isoDate.nullable(),
    finished_at: isoDate.nullable(),
    samples: z.array(z.strictObject({ at: isoDate, processed: count })),
    rate_per_second: z.number().nullable(),
    eta: isoDate.nullable(),
    stages: z.strictObject({ waiting: count, at_host: count, answered: count, recorded: count }),
    greylisting: z.strictObject({
      addresses: count,
      retrying: count,
      next_retry_at: isoDate.nullable(),
      until: isoDate.nullable(),
    }),
    hosts: z.array(hostStory),
    host_count: count,
  })
  .meta({
    id: "email_validation_story",
    description:
      "How the job went and goes: progress over time, the recent rate and ETA, what the remaining addresses wait for, and the busiest mail servers (at most 12) with their state.",
  });
