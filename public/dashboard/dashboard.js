// mailvet dashboard: plain browser JavaScript, no build step. It talks to the
// same API as any client, with the key the user pastes (kept in sessionStorage).
(() => {
  const KEY_STORAGE = "mailvet.apiKey";
  const JOB_STORAGE = "mailvet.watchedJob";
  const TERMINAL = ["completed", "canceled", "error"];
  const CLASSES = ["deliverable", "risky", "undeliverable", "unknown"];
  const MIN_POLL_MS = 1000;
  const MAX_POLL_MS = 30_000;

  const $ = (id) => document.getElementById(id);

  // ── API calls ─────────────────────────────────────────────────────────

  class ApiError extends Error {
    constructor(status, message, retryAfter) {
      super(message);
      this.status = status;
      this.retryAfter = retryAfter;
    }
  }

  function apiKey() {
    return sessionStorage.getItem(KEY_STORAGE) || "";
  }

  /** fetch with the key; non-2xx answers become an ApiError with the envelope's message. */
  async function api(path, init = {}) {
    const headers = new Headers(init.headers);
    headers.set("authorization", `Bearer ${apiKey()}`);
    const res = await fetch(path, { ...init, headers });
    if (res.ok) return res;
    let message = `${res.status} ${res.statusText}`;
    try {
      const body = await res.json();
      message = body?._errors?.[0]?.detail || body?.error || message;
    } catch {
      // Not JSON: keep the status line.
    }
    throw new ApiError(res.status, message, retryAfterMs(res));
  }

  function retryAfterMs(res) {
    const seconds = Number(res.headers.get("retry-after"));
    return Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : null;
  }

  // ── Messages ──────────────────────────────────────────────────────────

  function showError(err) {
    const alert = $("alert");
    alert.textContent = err instanceof Error ? err.message : String(err);
    alert.hidden = false;
  }

  function clearError() {
    $("alert").hidden = true;
    $("alert").textContent = "";
  }

  function say(id, text) {
    $(id).textContent = text;
  }

  // ── API key ───────────────────────────────────────────────────────────

  function setKey(key) {
    if (key) sessionStorage.setItem(KEY_STORAGE, key);
    else sessionStorage.removeItem(KEY_STORAGE);
    $("api-key").value = key;
  }

  $("key-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    clearError();
    setKey($("api-key").value.trim());
    say("key-status", "Checking the key…");
    try {
      await loadJobs();
      say("key-status", "Key accepted.");
    } catch (err) {
      say("key-status", "");
      showError(err);
    }
  });

  $("forget-key").addEventListener("click", () => {
    setKey("");
    stopWatching();
    $("job-panel").hidden = true;
    sessionStorage.removeItem(JOB_STORAGE);
    renderJobs([], false);
    say("key-status", "Key forgotten.");
  });

  // ── Creating a job ────────────────────────────────────────────────────

  const mode = () => document.querySelector('input[name="mode"]:checked').value;

  for (const radio of document.querySelectorAll('input[name="mode"]')) {
    radio.addEventListener("change", () => {
      $("file-field").hidden = mode() !== "file";
      $("paste-field").hidden = mode() !== "paste";
    });
  }

  $("create-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    clearError();
    if (!apiKey()) return showError(new Error("Enter your API key first."));
    const label = $("job-label-input").value.trim();
    // datetime-local is the user's local time; the API takes an absolute ISO 8601 instant.
    const startAt = $("start-at").value ? new Date($("start-at").value).toISOString() : "";
    let init;
    if (mode() === "file") {
      const file = $("list-file").files[0];
      if (!file) return showError(new Error("Choose a list file."));
      const form = new FormData();
      form.append("file", file);
      if (label) form.append("label", label);
      if (startAt) form.append("start_at", startAt);
      init = { method: "POST", body: form };
    } else {
      const emails = $("list-text")
        .value.split(/[\n,;]+/)
        .map((s) => s.trim())
        .filter(Boolean);
      if (!emails.length) return showError(new Error("Paste at least one address."));
      init = {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ emails, ...(label && { label }), ...(startAt && { start_at: startAt }) }),
      };
    }
    $("create-button").disabled = true;
    say("create-status", "Uploading…");
    try {
      const job = await (await api("/email-validations?include=details", init)).json();
      say("create-status", `Job created with ${job.total} unique addresses.`);
      $("create-form").reset();
      $("file-field").hidden = false;
      $("paste-field").hidden = true;
      watch(job.id, job);
      loadJobs().catch(showError);
    } catch (err) {
      say("create-status", "");
      showError(err);
    } finally {
      $("create-button").disabled = false;
    }
  });

  // ── Watching one job ──────────────────────────────────────────────────

  let watched = null; // { id, timer, announcedQuarter, announcedStatus, firstSample }

  function stopWatching() {
    if (watched?.timer) clearTimeout(watched.timer);
    watched = null;
  }

  function watch(id, job) {
    stopWatching();
    watched = { id, timer: null, announcedQuarter: -1, announcedStatus: null, firstSample: null };
    sessionStorage.setItem(JOB_STORAGE, id);
    $("job-panel").hidden = false;
    $("job-id").textContent = id;
    resetInsights(id);
    if (job) render(job);
    poll(id);
    // Beside the first poll, not after it: the page shows a big job sooner.
    if (!job) startInsights(id);
  }

  async function poll(id) {
    if (watched?.id !== id) return;
    let delay = MIN_POLL_MS;
    try {
      const res = await api(`/email-validations/${encodeURIComponent(id)}?include=details&page[size]=1`);
      const job = await res.json();
      if (watched?.id !== id) return;
      render(job);
      refreshInsights(job);
      if (TERMINAL.includes(job.status)) {
        loadJobs().catch(() => {});
        return;
      }
      // The server says when asking again is worth it (e.g. waiting on greylisting).
      delay = Math.max(MIN_POLL_MS, retryAfterMs(res) ?? MIN_POLL_MS);
    } catch (err) {
      if (watched?.id !== id) return;
      if (err.status === 404 || err.status === 401) {
        showError(err);
        return;
      }
      delay = err.retryAfter ?? 5000;
    }
    watched.timer = setTimeout(() => poll(id), Math.min(delay, MAX_POLL_MS));
  }

  /** The status a person would use: the canonical API shows a paused job as processing. */
  function displayStatus(job) {
    return job.paused ? "paused" : job.status;
  }

  function render(job) {
    const status = displayStatus(job);
    const counts = job.counts || { processed: 0 };
    const total = job.total || 0;
    const processed = counts.processed || 0;
    const percent = total ? Math.floor((processed / total) * 100) : 0;

    $("job-name").textContent = job.label ? `“${job.label}”` : "";
    const badge = $("job-status");
    badge.textContent = status;
    badge.dataset.status = status;
    $("job-progress").value = percent;
    for (const c of CLASSES) $(`count-${c}`).textContent = String(counts[c] ?? 0);
    $("progress-text").textContent = progressText(job, processed, total, percent);

    const terminal = TERMINAL.includes(job.status);
    $("pause-button").disabled = terminal || job.paused;
    $("resume-button").disabled = terminal || !job.paused;
    $("cancel-button").disabled = terminal;
    $("download-button").disabled = processed === 0;
    announce(status, percent);
  }

  function progressText(job, processed, total, percent) {
    const parts = [`${processed.toLocaleString()} of ${total.toLocaleString()} checked (${percent}%)`];
    const rate = ratePerSecond(job, processed);
    if (rate > 0 && !TERMINAL.includes(job.status) && !job.paused) {
      parts.push(`${rate.toFixed(rate < 10 ? 1 : 0)} per second`);
      parts.push(`about ${duration((total - processed) / rate)} left`);
    }
    if (job.status === "queued" && job.start_at) {
      parts.push(`starts ${new Date(job.start_at).toLocaleString()}`);
    }
    if (job.status === "completed" && job.started_at && job.finished_at) {
      parts.push(`took ${duration((Date.parse(job.finished_at) - Date.parse(job.started_at)) / 1000)}`);
    }
    return parts.join(" · ");
  }

  /** Addresses per second since this page started watching (or since the job started). */
  function ratePerSecond(job, processed) {
    const now = Date.now();
    if (!watched) return 0;
    if (!watched.firstSample) watched.firstSample = { at: now, processed };
    const sample = watched.firstSample;
    if (now - sample.at >= 2000 && processed > sample.processed) {
      return (processed - sample.processed) / ((now - sample.at) / 1000);
    }
    if (job.started_at && processed > 0) {
      const seconds = (now - Date.parse(job.started_at)) / 1000;
      return seconds > 1 ? processed / seconds : 0;
    }
    return 0;
  }

  function duration(seconds) {
    if (!Number.isFinite(seconds) || seconds < 0) return "a moment";
    if (seconds < 60) return `${Math.max(1, Math.round(seconds))} s`;
    if (seconds < 3600) return `${Math.round(seconds / 60)} min`;
    return `${(seconds / 3600).toFixed(1)} h`;
  }

  /** Tells screen readers about status changes and each quarter of progress. */
  function announce(status, percent) {
    if (!watched) return;
    const quarter = Math.floor(percent / 25);
    if (status === watched.announcedStatus && quarter === watched.announcedQuarter) return;
    const changed = status !== watched.announcedStatus;
    watched.announcedStatus = status;
    watched.announcedQuarter = quarter;
    $("job-announcer").textContent = changed ? `Job ${status}, ${percent}% done.` : `${percent}% done.`;
  }

  async function changeStatus(status) {
    if (!watched) return;
    clearError();
    const id = watched.id;
    try {
      const res = await api(`/email-validations/${encodeURIComponent(id)}?include=details&page[size]=1`, {
        method: "PATCH",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ status }),
      });
      const job = await res.json();
      render(job);
      refreshInsights(job, true);
      loadJobs().catch(() => {});
    } catch (err) {
      showError(err);
    }
  }

  $("pause-button").addEventListener("click", () => changeStatus("paused"));
  $("resume-button").addEventListener("click", () => changeStatus("processing"));
  $("cancel-button").addEventListener("click", () => {
    if (confirm("Cancel this job? Addresses not yet checked will not be.")) changeStatus("canceled");
  });

  // ── Downloading results ───────────────────────────────────────────────

  $("download-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!watched) return;
    clearError();
    const chosen = [...document.querySelectorAll('#download-form input[name="result"]:checked')].map(
      (box) => box.value,
    );
    if (!chosen.length) return showError(new Error("Choose at least one result class."));
    const query = new URLSearchParams({ format: "csv" });
    if (chosen.length < CLASSES.length) query.set("result", chosen.join(","));
    say("download-status", "Preparing the file…");
    try {
      // The key travels in a header, so the file is fetched here and saved from a Blob URL.
      const res = await api(`/email-validations/${encodeURIComponent(watched.id)}/download?${query}`);
      const blob = await res.blob();
      const url = URL.createObjectURL(blob);
      const link = document.createElement("a");
      link.href = url;
      link.download = `mailvet-${watched.id}${chosen.length < CLASSES.length ? `-${chosen.join("-")}` : ""}.csv`;
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60_000);
      say("download-status", `Downloaded ${(blob.size / 1024).toFixed(1)} KB.`);
    } catch (err) {
      say("download-status", "");
      showError(err);
    }
  });

  // ── The job's story, its breakdown and its results ─────────────────────
  // Each is fetched on its own rhythm while the job runs, and once more when
  // it ends; answers for a job no longer watched are dropped.

  const STORY_EVERY_MS = 2000;
  const BREAKDOWN_EVERY_MS = 5000;
  const RESULTS_EVERY_MS = 5000;
  const RESULTS_PAGE = 25;
  const LABELS = {
    deliverable: "Deliverable",
    risky: "Risky",
    undeliverable: "Undeliverable",
    unknown: "Unknown",
  };
  const charts = window.mailvetCharts;

  let insights = null;

  function resetInsights(id) {
    insights = {
      id,
      last: { story: 0, breakdown: 0, results: 0 },
      busy: { story: false, breakdown: false, results: false },
      finished: false,
      seen: false,
      started: false,
      /** The page shown: null for the first page of the filter, else the link followed. */
      pageHref: null,
      links: {},
    };
    $("story-summary").textContent = "";
    $("story-chart").replaceChildren();
    $("story-greylist").textContent = "";
    $("story-tail").hidden = true;
    $("hosts-wrap").hidden = true;
    $("verdict-chart").replaceChildren();
    $("verdict-caption").textContent = "";
    $("reason-groups").replaceChildren();
    $("domains-body").replaceChildren();
    $("filter-form").reset();
    setReasonOptions([]);
    emptyRow($("results-body"), 8, "No results yet.");
    say("results-status", "");
    say("copy-status", "");
    say("download-filtered-status", "");
  }

  /** Fetches everything at once, before the job's status is known. */
  function startInsights(id) {
    insights.started = true;
    load("story", () => loadStory(id));
    load("breakdown", () => loadBreakdown(id));
    load("results", () => loadResults(null));
  }

  /** Fetches what is due; `force` fetches everything (the job just ended, or was changed). */
  function refreshInsights(job, force = false) {
    if (!insights || insights.id !== job.id) return;
    const terminal = TERMINAL.includes(job.status);
    const firstSight = !insights.seen;
    insights.seen = true;
    // A job already over when the page opened was read in full by startInsights.
    if (terminal && firstSight && insights.started) insights.finished = true;
    if (terminal && insights.finished && !force) return;
    const now = Date.now();
    const end = terminal && !insights.finished;
    if (end) insights.finished = true;
    const due = (what, every) => force || end || now - insights.last[what] >= every;
    if (due("story", STORY_EVERY_MS)) load("story", () => loadStory(job.id));
    if (due("breakdown", BREAKDOWN_EVERY_MS)) load("breakdown", () => loadBreakdown(job.id));
    // Only the first page follows the job live: a page the user turned to stays put.
    if (insights.pageHref === null && due("results", RESULTS_EVERY_MS))
      load("results", () => loadResults(null));
  }

  /** Runs one fetch of a kind at a time; errors go to the alert. */
  async function load(what, fn) {
    if (insights.busy[what]) return;
    insights.busy[what] = true;
    insights.last[what] = Date.now();
    const mine = insights;
    try {
      await fn();
    } catch (err) {
      if (insights === mine) showError(err);
    } finally {
      mine.busy[what] = false;
    }
  }

  const current = (id) => insights?.id === id && watched?.id === id;
  const jobPath = (id) => `/email-validations/${encodeURIComponent(id)}`;

  function clock(ms) {
    return new Date(ms).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
  }

  function emptyRow(body, columns, text) {
    body.replaceChildren();
    const cell = body.insertRow().insertCell();
    cell.colSpan = columns;
    cell.className = "empty";
    cell.textContent = text;
  }

  // The story ───────────────────────────────────────────────────────────

  async function loadStory(id) {
    const story = await (await api(`${jobPath(id)}/story`)).json();
    if (current(id)) renderStory(story);
  }

  const HOST_STATES = {
    working: "Working",
    backed_off: "Backed off",
    not_answering: "Not answering",
    refusing: "Refusing connections",
  };

  function renderStory(story) {
    const samples = story.samples.map((s) => ({ at: Date.parse(s.at), processed: s.processed }));
    const etaAt = story.eta ? Date.parse(story.eta) : null;
    const remaining = story.total - story.processed;
    let summary;
    if (story.status === "completed" && story.started_at && story.finished_at) {
      const seconds = (Date.parse(story.finished_at) - Date.parse(story.started_at)) / 1000;
      summary = `Finished: ${story.processed.toLocaleString()} addresses in ${duration(seconds)} (${(story.processed / Math.max(seconds, 1)).toFixed(1)} per second on average).`;
    } else if (story.paused) {
      summary = `Paused with ${remaining.toLocaleString()} addresses to go.`;
    } else if (story.status === "processing") {
      const rate = story.rate_per_second;
      summary = rate
        ? `${rate.toFixed(rate < 10 ? 1 : 0)} addresses per second over the last minute; ${remaining.toLocaleString()} to go${etaAt ? `, ending around ${clock(etaAt)}` : ""}.`
        : `${remaining.toLocaleString()} addresses to go; measuring the rate…`;
    } else if (story.status === "queued") {
      summary = "Waiting to start.";
    } else {
      summary = `The job ${story.status === "error" ? "failed" : "was canceled"} after ${story.processed.toLocaleString()} addresses.`;
    }
    $("story-summary").textContent = summary;
    $("story-chart").replaceChildren(
      charts.progressChart(samples, {
        total: story.total,
        etaAt: story.status === "processing" ? etaAt : null,
        label: `Progress over time: ${story.processed.toLocaleString()} of ${story.total.toLocaleString()} answered.`,
      }),
    );
    $("stage-waiting").textContent = story.stages.waiting.toLocaleString();
    $("stage-at-host").textContent = story.stages.at_host.toLocaleString();
    $("stage-answered").textContent = story.stages.answered.toLocaleString();
    $("stage-recorded").textContent = story.stages.recorded.toLocaleString();

    const g = story.greylisting;
    let greylist = "";
    if (g.addresses > 0) {
      greylist = `${g.addresses.toLocaleString()} addresses wait on greylisting: their servers asked us to come back later.`;
      if (g.next_retry_at) greylist += ` Next retry at ${clock(Date.parse(g.next_retry_at))}`;
      if (g.until) greylist += `; final answers by ${clock(Date.parse(g.until))} at the latest.`;
    } else if (g.retrying > 0) {
      greylist = `${g.retrying.toLocaleString()} addresses wait to be retried after their servers asked us to slow down.`;
    }
    $("story-greylist").textContent = greylist;

    const slowHosts = story.hosts.filter((h) => h.state !== "working" || h.retrying > 0 || h.reason);
    const tail = $("story-tail");
    const share = story.total ? remaining / story.total : 0;
    if (
      story.status === "processing" &&
      remaining > 0 &&
      share <= 0.1 &&
      (g.retrying > 0 || slowHosts.length)
    ) {
      const parts = [];
      if (g.retrying > 0)
        parts.push(`${g.retrying.toLocaleString()} are waiting for a retry the mail server asked for`);
      const paused = story.hosts.filter((h) => h.state !== "working");
      if (paused.length)
        parts.push(
          `${paused.length} server${paused.length > 1 ? "s are" : " is"} backed off or not answering`,
        );
      tail.textContent = `Why the last ${Math.max(1, Math.round(share * 100))}% take longest: of the ${remaining.toLocaleString()} addresses left, ${parts.join(", and ")}. mailvet waits for a real answer rather than guess, up to each address's deadline.`;
      tail.hidden = false;
    } else {
      tail.hidden = true;
    }

    const body = $("hosts-body");
    body.replaceChildren();
    for (const h of story.hosts) {
      const row = body.insertRow();
      row.insertCell().textContent = h.host;
      row.insertCell().textContent = h.addresses.toLocaleString();
      row.insertCell().textContent = h.retrying
        ? `${h.retrying.toLocaleString()}${h.greylisted ? ` (${h.greylisted.toLocaleString()} greylisted)` : ""}${h.next_retry_at ? `, next ${clock(Date.parse(h.next_retry_at))}` : ""}`
        : "—";
      row.insertCell().textContent = HOST_STATES[h.state] ?? h.state;
      row.insertCell().textContent = h.paused_until ? clock(Date.parse(h.paused_until)) : "—";
      row.insertCell().textContent = h.reason ?? "—";
    }
    $("hosts-wrap").hidden = story.hosts.length === 0;
  }

  // The breakdown ───────────────────────────────────────────────────────

  async function loadBreakdown(id) {
    const breakdown = await (await api(`${jobPath(id)}/breakdown`)).json();
    if (current(id)) renderBreakdown(breakdown);
  }

  function renderBreakdown(b) {
    const segments = CLASSES.map((key) => ({ key, label: LABELS[key], value: b.verdicts[key] }));
    const done = segments.reduce((n, s) => n + s.value, 0);
    $("verdict-chart").replaceChildren(
      charts.stackedBar(segments, { label: `Verdict split of ${done.toLocaleString()} results` }),
    );
    $("verdict-caption").textContent = segments
      .map(
        (s) => `${s.label} ${s.value.toLocaleString()} (${done ? Math.round((s.value / done) * 100) : 0}%)`,
      )
      .join(" · ");

    const groups = $("reason-groups");
    groups.replaceChildren();
    for (const verdict of CLASSES) {
      const reasons = b.reasons.filter((r) => r.result === verdict).slice(0, 5);
      if (!reasons.length) continue;
      const group = document.createElement("div");
      group.className = `reason-group verdict-${verdict}`;
      const heading = document.createElement("h5");
      heading.textContent = `${LABELS[verdict]} (${b.verdicts[verdict].toLocaleString()})`;
      const list = document.createElement("ul");
      for (const r of reasons) {
        const item = document.createElement("li");
        const button = document.createElement("button");
        button.type = "button";
        button.className = "link-button";
        button.textContent = r.reason;
        button.setAttribute("aria-label", `Show the ${r.count} ${verdict} results with reason ${r.reason}`);
        button.addEventListener("click", () => applyFilter({ result: verdict, reason: r.reason, q: "" }));
        const count = document.createElement("span");
        count.className = "reason-count";
        count.textContent = r.count.toLocaleString();
        item.append(button, charts.bar(r.count, b.verdicts[verdict], verdict), count);
        list.append(item);
      }
      group.append(heading, list);
      groups.append(group);
    }
    setReasonOptions(b.reasons);

    const body = $("domains-body");
    body.replaceChildren();
    if (!b.top_domains.length) emptyRow(body, 7, "No results yet.");
    for (const d of b.top_domains) {
      const row = body.insertRow();
      const button = document.createElement("button");
      button.type = "button";
      button.className = "link-button";
      button.textContent = d.domain || "(no domain)";
      button.setAttribute("aria-label", `Show the results at ${d.domain || "no domain"}`);
      button.addEventListener("click", () =>
        applyFilter({ result: "", reason: "", q: d.domain ? `@${d.domain}` : "" }),
      );
      row.insertCell().append(button);
      row.insertCell().textContent = d.total.toLocaleString();
      const mix = CLASSES.map((key) => ({ key, label: LABELS[key], value: d[key] }));
      row.insertCell().append(charts.stackedBar(mix, { width: 160, height: 14 }));
      for (const key of CLASSES) row.insertCell().textContent = d[key].toLocaleString();
    }
  }

  function setReasonOptions(reasons) {
    const select = $("filter-reason");
    const chosen = select.value;
    const totals = new Map();
    for (const r of reasons) totals.set(r.reason, (totals.get(r.reason) ?? 0) + r.count);
    const options = [new Option("All reasons", "")];
    for (const [reason, count] of [...totals].sort((a, b) => b[1] - a[1])) {
      options.push(new Option(`${reason} (${count.toLocaleString()})`, reason));
    }
    if (chosen && !totals.has(chosen)) options.push(new Option(chosen, chosen));
    select.replaceChildren(...options);
    select.value = chosen;
  }

  // The results browser ──────────────────────────────────────────────────

  function readFilter() {
    return {
      result: $("filter-result").value,
      reason: $("filter-reason").value,
      q: $("filter-q").value.trim(),
    };
  }

  function filterParams(filter) {
    const params = new URLSearchParams();
    if (filter.result) params.set("result", filter.result);
    if (filter.reason) params.set("reason", filter.reason);
    if (filter.q) params.set("q", filter.q);
    return params;
  }

  function applyFilter(filter) {
    if (!insights) return;
    $("filter-result").value = filter.result;
    if (filter.reason && ![...$("filter-reason").options].some((o) => o.value === filter.reason)) {
      $("filter-reason").append(new Option(filter.reason, filter.reason));
    }
    $("filter-reason").value = filter.reason;
    $("filter-q").value = filter.q;
    insights.pageHref = null;
    load("results", () => loadResults(null));
    $("results-heading").focus();
  }

  async function loadResults(href) {
    const id = insights.id;
    const filter = readFilter();
    const params = filterParams(filter);
    params.set("page[size]", String(RESULTS_PAGE));
    const url = href ?? `${jobPath(id)}/results?${params}`;
    const page = await (await api(url)).json();
    if (!current(id)) return;
    insights.pageHref = href;
    insights.links = page._links;
    renderResults(page.results, filter);
  }

  function describeFilter(filter) {
    const parts = [];
    if (filter.result) parts.push(LABELS[filter.result].toLowerCase());
    if (filter.reason) parts.push(`reason ${filter.reason}`);
    if (filter.q) parts.push(`containing “${filter.q}”`);
    return parts.length ? parts.join(", ") : "all results";
  }

  function renderResults(results, filter) {
    const body = $("results-body");
    if (!results.length) {
      emptyRow(
        body,
        8,
        insights.finished || filter.result || filter.reason || filter.q
          ? "No results match this filter."
          : "No results yet.",
      );
    } else {
      body.replaceChildren();
      for (const r of results) body.append(resultRow(r));
    }
    $("results-prev").disabled = !insights.links.prev;
    $("results-next").disabled = !insights.links.next;
    say(
      "results-status",
      `${results.length} shown (${describeFilter(filter)})${insights.links.next ? "; more on the next page" : ""}.`,
    );
  }

  function flagsOf(r) {
    return ["role", "free", "disposable", "catch_all"].filter((f) => r[f]).map((f) => f.replace("_", "-"));
  }

  function smtpReply(r) {
    return r.smtp_code ? `${r.smtp_code} ${r.smtp_text ?? ""}`.trim() : "";
  }

  function resultRow(r) {
    const row = document.createElement("tr");
    row.insertCell().textContent = r.email;
    const verdict = document.createElement("span");
    verdict.className = `verdict verdict-${r.result}`;
    verdict.textContent = r.result;
    row.insertCell().append(verdict);
    row.insertCell().textContent = r.reason;
    const suggestion = row.insertCell();
    if (r.did_you_mean) {
      const copy = document.createElement("button");
      copy.type = "button";
      copy.className = "link-button";
      copy.textContent = r.did_you_mean;
      copy.setAttribute("aria-label", `Copy ${r.did_you_mean}`);
      copy.addEventListener("click", () => copyText(r.did_you_mean));
      suggestion.append(copy);
    }
    row.insertCell().textContent = flagsOf(r).join(", ");
    row.insertCell().textContent = r.mx_host ?? "";
    const reply = row.insertCell();
    reply.className = "smtp-reply";
    const replyText = document.createElement("span");
    replyText.textContent = smtpReply(r);
    replyText.title = smtpReply(r);
    reply.append(replyText);
    const open = document.createElement("button");
    open.type = "button";
    open.className = "secondary small";
    open.textContent = "Details";
    open.setAttribute("aria-label", `Details for ${r.email}`);
    open.addEventListener("click", () => openResult(r, open));
    row.insertCell().append(open);
    return row;
  }

  function openResult(r, opener) {
    $("result-dialog-title").textContent = r.email;
    const fields = [
      ["Verdict", r.result],
      ["Reason", r.reason],
      ["Score", String(r.score)],
      ["Did you mean", r.did_you_mean ?? "—"],
      ["Catch-all domain", r.catch_all ? "yes" : "no"],
      ["Role address", r.role ? "yes" : "no"],
      ["Free provider", r.free ? "yes" : "no"],
      ["Disposable", r.disposable ? "yes" : "no"],
      ["MX host", r.mx_host ?? "—"],
      ["SMTP reply", smtpReply(r) || "—"],
    ];
    const list = $("result-dialog-body");
    list.replaceChildren();
    for (const [term, value] of fields) {
      const wrap = document.createElement("div");
      const dt = document.createElement("dt");
      dt.textContent = term;
      const dd = document.createElement("dd");
      dd.textContent = value;
      wrap.append(dt, dd);
      list.append(wrap);
    }
    const dialog = $("result-dialog");
    dialog.addEventListener("close", () => opener.focus(), { once: true });
    dialog.showModal();
  }

  async function copyText(text) {
    try {
      await navigator.clipboard.writeText(text);
      say("copy-status", `Copied ${text} to the clipboard.`);
    } catch {
      say("copy-status", `Could not reach the clipboard: the suggestion is ${text}.`);
    }
  }

  $("filter-form").addEventListener("submit", (event) => {
    event.preventDefault();
    if (!insights) return;
    clearError();
    insights.pageHref = null;
    load("results", () => loadResults(null));
  });
  $("filter-clear").addEventListener("click", () => applyFilter({ result: "", reason: "", q: "" }));
  $("results-next").addEventListener("click", () => {
    const next = insights?.links.next?.href;
    if (next) load("results", () => loadResults(next));
  });
  $("results-prev").addEventListener("click", () => {
    const prev = insights?.links.prev?.href;
    if (prev) load("results", () => loadResults(prev));
  });

  $("download-filtered").addEventListener("click", async () => {
    if (!insights) return;
    clearError();
    const filter = readFilter();
    const params = filterParams(filter);
    params.set("format", "csv");
    say("download-filtered-status", "Preparing the file…");
    try {
      const res = await api(`${jobPath(insights.id)}/download?${params}`);
      const suffix = [filter.result, filter.reason, filter.q.replace(/[^a-z0-9.-]+/gi, "")]
        .filter(Boolean)
        .join("-");
      const size = await saveBlob(
        await res.blob(),
        `mailvet-${insights.id}${suffix ? `-${suffix}` : ""}.csv`,
      );
      say(
        "download-filtered-status",
        `Downloaded ${describeFilter(filter)}: ${(size / 1024).toFixed(1)} KB.`,
      );
    } catch (err) {
      say("download-filtered-status", "");
      showError(err);
    }
  });

  /** Saves a fetched file (the key travels in a header, so no plain link can fetch it). */
  async function saveBlob(blob, name) {
    const url = URL.createObjectURL(blob);
    const link = document.createElement("a");
    link.href = url;
    link.download = name;
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
    return blob.size;
  }

  // ── The job list ──────────────────────────────────────────────────────

  let nextPage = null;

  async function loadJobs(href) {
    if (!apiKey()) return;
    const res = await api(href || "/email-validations?include=details&page[size]=20");
    const list = await res.json();
    nextPage = list._links?.next?.href || null;
    renderJobs(list.email_validations, Boolean(href));
  }

  function renderJobs(jobs, append) {
    const body = $("jobs-body");
    if (!append) body.replaceChildren();
    if (!append && !jobs.length) {
      const row = body.insertRow();
      const cell = row.insertCell();
      cell.colSpan = 5;
      cell.className = "empty";
      cell.textContent = apiKey() ? "No jobs yet." : "Enter an API key to see your jobs.";
    }
    for (const job of jobs) {
      const row = body.insertRow();
      row.insertCell().textContent = job.created_at ? new Date(job.created_at).toLocaleString() : "";
      row.insertCell().textContent = job.label || "—";
      row.insertCell().textContent = displayStatus(job);
      const total = job.total || 0;
      const processed = job.counts?.processed || 0;
      row.insertCell().textContent = `${processed.toLocaleString()} / ${total.toLocaleString()}`;
      const button = document.createElement("button");
      button.type = "button";
      button.className = "secondary";
      button.textContent = "Open";
      button.setAttribute("aria-label", `Open job ${job.label || job.id}`);
      button.addEventListener("click", () => {
        clearError();
        watch(job.id);
        $("job-heading").focus();
      });
      row.insertCell().append(button);
    }
    $("more-jobs").hidden = !nextPage;
  }

  $("refresh-jobs").addEventListener("click", () => {
    clearError();
    loadJobs().catch(showError);
  });
  $("more-jobs").addEventListener("click", () => {
    if (nextPage) loadJobs(nextPage).catch(showError);
  });

  // ── Start ─────────────────────────────────────────────────────────────

  const saved = apiKey();
  if (saved) {
    $("api-key").value = saved;
    loadJobs().catch(showError);
    const job = sessionStorage.getItem(JOB_STORAGE);
    if (job) watch(job);
  }
})();
