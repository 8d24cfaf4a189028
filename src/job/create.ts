import { v7 as uuidv7 } from "uuid";
import { dedupe, type InputEntry } from "../ingest/entries";
import type { JobSnapshot } from "./object";
import { jobStub } from "./stub";

export interface NewJobInput {
  accountId: string;
  entries: InputEntry[];
  source: string;
  label?: string | null;
  inputColumns?: string[] | null;
  startAt?: number | null;
  webhookUrl?: string | null;
}

/** De-duplicates the list and hands it to a new job object, which queues it. */
export async function startJob(env: Env, input: NewJobInput, id: string = uuidv7()): Promise<JobSnapshot> {
  return jobStub(env, id).create({
    id,
    accountId: input.accountId,
    label: input.label ?? null,
    source: input.source,
    entries: dedupe(input.entries).entries,
    inputColumns: input.inputColumns ?? null,
    startAt: input.startAt ?? null,
    webhookUrl: input.webhookUrl ?? null,
  });
}
