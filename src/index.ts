import { app } from "./app";

export { AccountObject } from "./account/object";
export { JobObject } from "./job/object";
export { MxObject } from "./mx/object";

export default app;
