import { it } from "vitest";
import { probeDomain } from "../../src/verify/smtp";
import { connectSocket } from "../../src/verify/smtp-socket";
import { smtpConfig, mx, sleep } from "../smtp-helpers";
it("dead", async () => {
  await probeDomain({ domain: "d.test", hosts: [mx("dead", "127.0.0.20")], addresses: ["a@d.test"], catchAllKnown: null }, smtpConfig, connectSocket);
  await sleep(300);
});
it("drop", async () => {
  await probeDomain({ domain: "d.test", hosts: [mx("drop", "127.0.0.19")], addresses: ["a@d.test"], catchAllKnown: null }, smtpConfig, connectSocket);
  await sleep(300);
});
it("normal", async () => {
  await probeDomain({ domain: "d.test", hosts: [mx("n", "127.0.0.10")], addresses: ["alice@d.test"], catchAllKnown: null }, smtpConfig, connectSocket);
  await sleep(300);
});
