import { app } from "./app";

export { JobObject } from "./job/object";
export { MxObject } from "./mx/object";

export default app;
