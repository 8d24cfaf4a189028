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
    if (job) render(job);
    poll(id);
  }

  async function poll(id) {
    if (watched?.id !== id) return;
    let delay = MIN_POLL_MS;
    try {
      const res = await api(`/email-validations/${encodeURIComponent(id)}?include=details&page[size]=1`);
      const job = await res.json();
      if (watched?.id !== id) return;
      render(job);
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
