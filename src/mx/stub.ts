import type { MxObject } from "./object";

/** The host object of a mail server, by its key (src/mx/key.ts). */
export function hostStub(env: Env, key: string): DurableObjectStub<MxObject> {
  return env.MX.get(env.MX.idFromName(key)) as DurableObjectStub<MxObject>;
}
