import { describe, expect, it } from "vitest";
import {
  checkLists,
  isDisposableDomain,
  isFreeDomain,
  isRoleLocal,
  suggestDomain,
} from "../../src/verify/lists";
import { checkSyntax } from "../../src/verify/syntax";

describe("isDisposableDomain", () => {
  it.each([
    ["mailinator.com", true],
    ["MAILINATOR.COM", true],
    ["mailinator.com.", true],
    ["yopmail.com", true],
    ["guerrillamail.com", true],
    // Parent-domain matching: a throwaway service owns its subdomains too.
    ["inbox.mailinator.com", true],
    ["x.y.mailinator.com", true],
    // A suffix that is not a whole label is another domain.
    ["qqmailinator.com", false],
    ["mailinator.com.evil.test", false],
    ["gmail.com", false],
    ["example.org", false],
    ["com", false],
    ["", false],
  ])("%s -> %s", (domain, expected) => {
    expect(isDisposableDomain(domain)).toBe(expected);
  });
});

describe("isFreeDomain", () => {
  it.each([
    ["gmail.com", true],
    ["GMail.com", true],
    ["googlemail.com", true],
    ["outlook.com", true],
    ["hotmail.co.uk", true],
    ["yahoo.com", true],
    ["gmx.de", true],
    // On both packages' lists: disposable wins, so never free as well.
    ["mailinator.com", false],
    ["yopmail.com", false],
    ["guerrillamail.com", false],
    // Free is an exact match; subdomains of a provider are not its mailboxes.
    ["sub.gmail.com", false],
    ["iana.org", false],
    ["normal.test", false],
  ])("%s -> %s", (domain, expected) => {
    expect(isFreeDomain(domain)).toBe(expected);
  });
});

describe("isRoleLocal", () => {
  it.each([
    ["info", true],
    ["INFO", true],
    ["Sales", true],
    ["postmaster", true],
    ["no-reply", true],
    ["info+newsletter", true],
    ["support+ticket-42", true],
    ['"info"', true],
    ["alice", false],
    ["alice+info", false],
    ["info.alice", false],
    ["", false],
  ])("%s -> %s", (local, expected) => {
    expect(isRoleLocal(local)).toBe(expected);
  });
});

describe("suggestDomain", () => {
  it.each([
    ["alice@gmial.com", "gmail.com"],
    ["alice@gmai.com", "gmail.com"],
    ["alice@gamil.com", "gmail.com"],
    ["alice@hotmial.com", "hotmail.com"],
    ["alice@yaho.com", "yahoo.com"],
    ["alice@yahooo.com", "yahoo.com"],
    ["alice@outlok.com", "outlook.com"],
    ["alice@icloud.co", "icloud.com"],
    ["alice@GMIAL.COM", "gmail.com"],
  ])("corrects %s to %s", (address, expected) => {
    expect(suggestDomain(address)).toBe(expected);
  });

  it.each([
    ["already right", "alice@gmail.com"],
    ["a real provider near another one", "alice@mac.com"],
    ["a real provider near another one", "alice@mail.com"],
    ["a company domain", "alice@iana.org"],
    ["a country-code second level", "alice@ox.ac.uk"],
    ["a country-code second level", "alice@acme.co.za"],
    ["a domain near no provider", "alice@normal.test"],
    ["a disposable domain", "alice@mailinator.com"],
    ["no domain", "alice"],
  ])("suggests nothing for %s: %s", (_why, address) => {
    expect(suggestDomain(address)).toBeNull();
  });
});

describe("checkLists", () => {
  it.each([
    ["alice@gmail.com", { disposable: false, role: false, free: true, didYouMean: null }],
    ["info@mailinator.com", { disposable: true, role: true, free: false, didYouMean: null }],
    ["Bob@x.y.Mailinator.com", { disposable: true, role: false, free: false, didYouMean: null }],
    ["sales+q3@iana.org", { disposable: false, role: true, free: false, didYouMean: null }],
    [
      "Alice+tag@outlok.com",
      { disposable: false, role: false, free: false, didYouMean: "Alice+tag@outlook.com" },
    ],
    // gmial.com is a typo trap on the disposable list: flagged, and corrected.
    ["alice@gmial.com", { disposable: true, role: false, free: false, didYouMean: "alice@gmail.com" }],
    ["alice@bücher.de", { disposable: false, role: false, free: false, didYouMean: null }],
    ["alice@[192.0.2.1]", { disposable: false, role: false, free: false, didYouMean: null }],
    // Invalid syntax: the lists still read the text after the last @.
    ["bad address@mailinator.com", { disposable: true, role: false, free: false, didYouMean: null }],
    ["a@b@Sub.Mailinator.COM", { disposable: true, role: false, free: false, didYouMean: null }],
    ["info@@gmail.com", { disposable: false, role: false, free: true, didYouMean: null }],
    ["alice smith@outlok.com", { disposable: false, role: false, free: false, didYouMean: null }],
    ["no-at-sign", { disposable: false, role: false, free: false, didYouMean: null }],
  ])("%s", (input, expected) => {
    expect(checkLists(checkSyntax(input))).toEqual(expected);
  });
});
