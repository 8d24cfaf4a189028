import { describe, expect, it } from "vitest";
import { classifyRcptReply, type RcptClass } from "../../src/verify/smtp";
import { parseReplyLines } from "../../src/verify/smtp-reply";

// Replies to RCPT TO as real servers send them, with the class we expect.
// Multi-line ones are given as their lines, and parsed as the transport would.
const TABLE: [source: string, lines: string[], expected: RcptClass][] = [
  // Gmail
  ["gmail ok", ["250 2.1.5 OK a1-20020a17090a000000b00 - gsmtp"], "exists"],
  [
    "gmail unknown",
    [
      "550-5.1.1 The email account that you tried to reach does not exist. Please try",
      "550-5.1.1 double-checking the recipient's email address for typos or",
      "550-5.1.1 unnecessary spaces. For more information, go to",
      "550 5.1.1  https://support.google.com/mail/?p=NoSuchUser a1si123 - gsmtp",
    ],
    "not_found",
  ],
  [
    "gmail disabled",
    [
      "550-5.2.1 The email account that you tried to reach is disabled.",
      "550 5.2.1  https://support.google.com/mail/?p=DisabledUser - gsmtp",
    ],
    "disabled",
  ],
  [
    "gmail over quota (permanent)",
    [
      "552-5.2.2 The email account that you tried to reach is over quota.",
      "552 5.2.2 https://support.google.com/mail/?p=OverQuotaPerm - gsmtp",
    ],
    "full",
  ],
  [
    "gmail over quota (temporary)",
    [
      "452-4.2.2 The email account that you tried to reach is over quota.",
      "452 4.2.2 https://support.google.com/mail/?p=OverQuotaTemp - gsmtp",
    ],
    "full",
  ],
  [
    "gmail receiving too fast",
    [
      "450-4.2.1 The user you are trying to contact is receiving mail at a rate that",
      "450 4.2.1 prevents additional messages from being delivered. - gsmtp",
    ],
    "greylisted",
  ],
  [
    "gmail unsolicited rate",
    [
      "421-4.7.0 [192.0.2.1] Our system has detected an unusual rate of",
      "421 4.7.0 unsolicited mail originating from your IP address. - gsmtp",
    ],
    "rate_limited",
  ],
  [
    "gmail ip not authorized",
    [
      "550-5.7.1 [192.0.2.1] The IP you're using to send mail is not authorized to",
      "550 5.7.1 send email directly to our servers. - gsmtp",
    ],
    "blocked",
  ],
  [
    "gmail unauthenticated",
    [
      "550-5.7.26 Unauthenticated email from example.com is not accepted due to",
      "550 5.7.26 domain's DMARC policy. - gsmtp",
    ],
    "blocked",
  ],
  ["gmail temporary", ["451 4.3.0 Mail server temporarily rejected message. - gsmtp"], "greylisted"],
  // Microsoft 365 / Outlook
  [
    "m365 access denied",
    [
      "550 5.4.1 Recipient address rejected: Access denied. AS(201806281) [DB8PR01MB0000.eurprd01.prod.exchangelabs.com]",
    ],
    "not_found",
  ],
  [
    "m365 not found",
    ["550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup"],
    "not_found",
  ],
  [
    "outlook.com unknown",
    [
      "550 5.5.0 Requested action not taken: mailbox unavailable (S2017062302). [AM0PR01MB0000.eurprd01.prod.outlook.com]",
    ],
    "not_found",
  ],
  [
    "m365 banned ip",
    [
      "550 5.7.606 Access denied, banned sending IP [192.0.2.1]. To request removal from this list please visit https://sender.office.com/",
    ],
    "blocked",
  ],
  [
    "m365 spamhaus",
    [
      "550 5.7.1 Service unavailable, Client host [192.0.2.1] blocked using Spamhaus. To request removal from this list see https://www.spamhaus.org/query/ip/192.0.2.1",
    ],
    "blocked",
  ],
  [
    "m365 too many recipients",
    ["452 4.5.3 Too many recipients (AS780090) [DB8PR01MB0000.eurprd01.prod.exchangelabs.com]"],
    "new_session",
  ],
  [
    "m365 server busy",
    [
      "451 4.7.500 Server busy. Please try again later from [192.0.2.1]. (S77719) [DB8EUR01FT000.eop-eur01.prod.protection.outlook.com]",
    ],
    "greylisted",
  ],
  [
    "m365 quota",
    [
      "554 5.2.2 mailbox full; STOREDRV.Deliver.Exception:QuotaExceededException.MapiExceptionShutoffQuotaExceeded",
    ],
    "full",
  ],
  // Yahoo / AOL
  [
    "yahoo unknown",
    [
      "554 delivery error: dd This user doesn't have a yahoo.com account (nobody@yahoo.com) [0] - mta1234.mail.bf1.yahoo.com",
    ],
    "not_found",
  ],
  [
    "yahoo disabled",
    [
      "554 delivery error: dd Sorry your message to someone@yahoo.com cannot be delivered. This mailbox is disabled (554.30). - mta1234.mail.bf1.yahoo.com",
    ],
    "disabled",
  ],
  [
    "yahoo deferred",
    [
      "421 4.7.0 [TSS04] Messages from 192.0.2.1 temporarily deferred due to unexpected volume or user complaints - 4.16.55.1; see https://postmaster.yahooinc.com/error-codes",
    ],
    "rate_limited",
  ],
  [
    "yahoo spamhaus",
    [
      "553 5.7.1 [BL21] Connections will not be accepted from 192.0.2.1, because the ip is in Spamhaus's list; see https://postmaster.yahooinc.com/error-codes",
    ],
    "blocked",
  ],
  [
    "yahoo policy",
    ["554 5.7.9 Message not accepted for policy reasons.  See https://postmaster.yahooinc.com/error-codes"],
    "blocked",
  ],
  ["yahoo temporary", ["451 Message temporarily deferred - [160]"], "greylisted"],
  // Postfix
  ["postfix ok", ["250 2.1.5 Ok"], "exists"],
  ["postfix forward", ["251 2.1.5 User not local; will forward to <someone@example.org>"], "exists"],
  [
    "postfix unknown (virtual)",
    ["550 5.1.1 <nobody@example.com>: Recipient address rejected: User unknown in virtual mailbox table"],
    "not_found",
  ],
  [
    "postfix unknown (local)",
    ["550 5.1.1 <nobody@example.com>: Recipient address rejected: User unknown in local recipient table"],
    "not_found",
  ],
  [
    "postfix greylisted",
    [
      "450 4.2.0 <alice@example.com>: Recipient address rejected: Greylisted, see http://postgrey.schweikert.ch/help/example.com.html",
    ],
    "greylisted",
  ],
  [
    "postfix greylist 4.7.1",
    ["451 4.7.1 <alice@example.com>: Recipient address rejected: Please try again later"],
    "greylisted",
  ],
  [
    "postfix rbl",
    [
      "554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org; https://www.spamhaus.org/query/ip/192.0.2.1",
    ],
    "blocked",
  ],
  ["postfix no ptr", ["450 4.7.1 Client host rejected: cannot find your hostname, [192.0.2.1]"], "blocked"],
  ["postfix relay denied", ["554 5.7.1 <alice@example.com>: Relay access denied"], "blocked"],
  ["postfix too many recipients", ["452 4.5.3 Error: too many recipients"], "new_session"],
  ["postfix too many errors", ["421 4.7.0 mx.example.com Error: too many errors"], "new_session"],
  [
    "postfix sender domain",
    ["450 4.1.8 <probe@example.net>: Sender address rejected: Domain not found"],
    "blocked",
  ],
  [
    "postfix bad sender 5.1.8",
    ["553 5.1.8 <probe@example.net>: Sender address rejected: Domain not found"],
    "blocked",
  ],
  [
    "postfix unverified",
    [
      "450 4.1.1 <alice@example.com>: Recipient address rejected: unverified address: connect to internal[10.0.0.1]:25: Connection refused",
    ],
    "greylisted",
  ],
  ["postfix utf8 not declared", ["553 5.6.7 Must declare SMTPUTF8 to send unicode address"], "error"],
  [
    "postfix mailbox full",
    ["552 5.2.2 <full@example.com>: Recipient address rejected: Mailbox full"],
    "full",
  ],
  ["postfix quota (no enhanced)", ["552 Requested mail action aborted: exceeded storage allocation"], "full"],
  // Exim / cPanel
  ["exim no such user", ["550 No Such User Here"], "not_found"],
  ["exim unrouteable", ["550 Unrouteable address"], "not_found"],
  [
    "exim sender verify",
    ["550-Verification failed for <probe@example.net>", "550-No Such User Here", "550 Sender verify failed"],
    "blocked",
  ],
  ["exim temporary", ["451 Temporary local problem - please try later"], "greylisted"],
  ["exim admin prohibition", ["550 Administrative prohibition"], "error"],
  ["exim too many recipients", ["452 too many recipients"], "new_session"],
  ["exim rate limit", ["450 4.7.0 Rate limit reached, please try again later"], "rate_limited"],
  ["exim suspended", ["550 5.0.0 This account has been suspended"], "disabled"],
  ["exim over quota", ["550 5.0.0 Mailbox quota exceeded"], "full"],
  // Others
  ["generic 551", ["551 5.1.6 User has moved; please try <new@example.org>"], "not_found"],
  ["generic 553 syntax", ["553 5.1.3 Bad recipient address syntax"], "not_found"],
  ["old 552 too many recipients", ["552 5.5.3 Too many recipients"], "new_session"],
  ["inactive account", ["550 Account inactive"], "disabled"],
  ["unexplained 550", ["550 Rejected"], "error"],
  ["unexplained 554", ["554 5.0.0 Transaction failed"], "error"],
  ["unknown 4xx", ["432 4.7.12 A password transition is needed"], "greylisted"],
];

describe("classifyRcptReply", () => {
  it.each(TABLE)("%s", (_source, lines, expected) => {
    expect(classifyRcptReply(parseReplyLines(lines))).toBe(expected);
  });

  it("decides by the code before the text", () => {
    expect(classifyRcptReply({ code: 250, enhanced: "2.1.5", text: "user unknown but accepted" })).toBe(
      "exists",
    );
    expect(classifyRcptReply({ code: 421, enhanced: null, text: "user unknown" })).toBe("rate_limited");
  });

  it("decides by the enhanced code before the text", () => {
    expect(classifyRcptReply({ code: 550, enhanced: "5.1.1", text: "blocked" })).toBe("not_found");
    expect(classifyRcptReply({ code: 550, enhanced: "5.7.1", text: "user unknown" })).toBe("blocked");
  });

  it("never calls a mailbox missing when the server refused us", () => {
    const refusals = TABLE.filter(([, lines]) =>
      /spamhaus|banned|blocked|not authorized/i.test(lines.join(" ")),
    );
    expect(refusals.length).toBeGreaterThan(3);
    for (const [, lines] of refusals) expect(classifyRcptReply(parseReplyLines(lines))).toBe("blocked");
  });
});

describe("parseReplyLines", () => {
  it("joins continuation lines and lifts the enhanced code out of each", () => {
    expect(parseReplyLines(["550-5.1.1 The account does not", "550 5.1.1 exist."])).toEqual({
      code: 550,
      enhanced: "5.1.1",
      text: "The account does not\nexist.",
    });
  });

  it("takes an enhanced code only when its class matches the reply's", () => {
    expect(parseReplyLines(["550 4.1.1 odd"]).enhanced).toBeNull();
    expect(parseReplyLines(["550 Requested action not taken"]).enhanced).toBeNull();
    expect(parseReplyLines(["250"]).text).toBe("");
  });
});
