import { AccountObject as AccountObjectImpl } from "./account/object";
import { app } from "./app";
import { JobObject as JobObjectImpl } from "./job/object";
import { MxObject as MxObjectImpl } from "./mx/object";
import { guardDurableObject, guardFetchHandler } from "./platform/guard";

// With PLATFORM_LIMITS=enforce (wrangler dev, tests) every request, Durable
// Object call and alarm counts against production's limits per invocation
// (src/platform/limits.ts); with "off" these are the plain classes and handler.
export const AccountObject = guardDurableObject(AccountObjectImpl);
export type AccountObject = AccountObjectImpl;
export const JobObject = guardDurableObject(JobObjectImpl);
export type JobObject = JobObjectImpl;
export const MxObject = guardDurableObject(MxObjectImpl);
export type MxObject = MxObjectImpl;

export default { fetch: guardFetchHandler(app.fetch) } satisfies ExportedHandler<Env>;
