import { Hono } from "hono";
import type { AppEnv } from "../types";
import { breakdown } from "./breakdown";
import { change } from "./change";
import { create } from "./create";
import { deliveries } from "./deliveries";
import { download } from "./download";
import { list } from "./list";
import { read } from "./read";
import { results } from "./results";
import { story } from "./story";

// The canonical family, /email-validations: one module per endpoint.

export { createSchema } from "./create";

export const emailValidations = new Hono<AppEnv>()
  .route("/", create)
  .route("/", list)
  .route("/", read)
  .route("/", change)
  .route("/", download)
  .route("/", deliveries)
  .route("/", results)
  .route("/", breakdown)
  .route("/", story);
