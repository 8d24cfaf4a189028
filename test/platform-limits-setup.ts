import { afterAll, afterEach } from "vitest";
import { takeViolations, type Violation } from "../src/platform/limits";

// Production's limits per invocation are enforced in the tests
// (PLATFORM_LIMITS=enforce, src/platform/limits.ts). The application may catch
// the guard's error (a failed call becomes a retry), so a test passes only if
// no violation was recorded while it ran. Durable Objects run in the tests'
// isolate, from the same module instance, so their violations land here too.
// Tests that provoke violations on purpose take them with takeViolations().

function failOnViolations(during: string): void {
  const found = takeViolations();
  if (found.length === 0) return;
  const lines = found.slice(0, 5).map((v: Violation) => `  ${JSON.stringify(v)}`);
  if (found.length > 5) lines.push(`  … and ${found.length - 5} more`);
  throw new Error(`${found.length} platform limit violation(s) during ${during}:\n${lines.join("\n")}`);
}

afterEach(() => failOnViolations("this test"));
// Background work (alarms) that outlives the last test.
afterAll(() => failOnViolations("this file's last background work"));
