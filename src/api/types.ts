export interface AppEnv {
  Bindings: Env;
  Variables: { accountId: string; keyId: string };
}
