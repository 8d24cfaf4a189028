// Words the generated world is made of: mailbox names that look like people
// and roles, domain names that look like small companies. Neither tool reads
// meaning into them; they only need to be varied and unique.

export const FIRST_NAMES = [
  "alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy", "ken", "laura",
  "mallory", "nina", "oscar", "peggy", "quinn", "rupert", "sybil", "trent", "ursula", "victor", "wendy",
  "xavier", "yvonne", "zach", "amir", "beatriz", "chen", "dmitri", "elena", "fatima", "giulia", "hiro",
  "ines", "jonas", "kavya", "lars", "mateo", "noor", "olga", "priya", "rafael", "sofia", "tomas", "uma",
  "valentin", "wei", "yusuf", "zoe",
];

export const LAST_NAMES = [
  "smith", "jones", "garcia", "miller", "davis", "lopez", "wilson", "anderson", "thomas", "taylor", "moore",
  "martin", "lee", "perez", "white", "harris", "clark", "lewis", "walker", "young", "allen", "king", "wright",
  "scott", "green", "baker", "adams", "nelson", "hill", "campbell", "mitchell", "roberts", "carter", "phillips",
  "evans", "turner", "torres", "parker", "collins", "edwards", "stewart", "morris", "murphy", "cook", "rogers",
  "morgan", "cooper", "peterson", "reed", "bailey",
];

export const ROLE_LOCALS = ["info", "sales", "support", "admin", "contact", "billing", "office", "hr"];

export const COMPANY_WORDS = [
  "acme", "apex", "birch", "cobalt", "delta", "ember", "fjord", "granite", "harbor", "indigo", "juniper",
  "kestrel", "lumen", "maple", "nimbus", "orbit", "pioneer", "quartz", "raven", "summit", "tundra", "umber",
  "vertex", "willow", "xenon", "yonder", "zephyr", "atlas", "beacon", "cascade", "drift", "echo", "falcon",
  "glacier", "horizon", "iron", "jade", "keystone", "lagoon", "meadow",
];

export const COMPANY_SUFFIXES = ["labs", "works", "group", "systems", "media", "foods", "logistics", "studio"];

/** Big providers: the head of the Zipf curve. */
export const PROVIDER_NAMES = [
  "mailhub", "postbox", "inboxly", "letterpost", "corvomail", "quillmail", "envelo", "pigeonpost",
  "courier", "postmark", "mailfront", "boxmail",
];

/** Unicode labels for IDN domains: accents and umlauts only, which every IDNA flavour maps the same way. */
export const IDN_WORDS = ["bücher", "café", "müller", "señor", "gänse", "öko", "blåbær", "crème", "über", "façade"];

/** Domains on mailvet's disposable list (disposable-email-domains-js) and on the baseline's own list. */
export const DISPOSABLE_DOMAINS = ["mailinator.com", "yopmail.com", "guerrillamail.com", "sharklasers.com"];
