// The page's side of sending in parts (issue 16): the server's answers as errors to act on,
// tries again with waits that grow, the cancel of an upload given up, and the words and bar
// of progress. Bundled into seal.js (js/build.sh); nothing here runs in the worker.

// The server answered, and will not take this: 409 (start the file again) or another 4xx;
// `note` is the server's own (translated) words for the witness, if it sent any.
export class Refused extends Error {
  constructor(message, note = "") {
    super(message);
    this.note = note;
  }
}
export class Restart extends Refused {}
// Not worth trying again, and no words for the witness: the plain form goes.
export class SealFailed extends Refused {}
export class PlainChosen extends Refused {}
// 503: the server is there but has no room (a full disk) or is busy; worth trying again, but
// not for ever: after MAX_BUSY in a row the plain form goes, and its page says what is wrong.
export class Busy extends Error {}
export const MAX_RESTARTS = 2;
const MAX_BUSY = 6;
const MAX_WAIT_MS = 30_000;

// A wait that the witness's choice of the plain form (`signal` aborted) ends at once.
function sleep(ms, signal) {
  return new Promise((resolve, reject) => {
    const chosen = () => {
      clearTimeout(timer);
      reject(new PlainChosen("the witness chose the plain form"));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", chosen);
      resolve();
    }, ms);
    if (signal?.aborted) chosen();
    else signal?.addEventListener("abort", chosen, { once: true });
  });
}

// `promise`, or PlainChosen as soon as `signal` is aborted.
export function unlessChosen(promise, signal) {
  return Promise.race([promise, sleep(2 ** 31 - 1, signal)]);
}

export function partsUrl(form, ...path) {
  const url = new URL(form.dataset.partsUrl, document.baseURI);
  if (path.length > 0) url.pathname += `/${path.join("/")}`;
  return url.toString();
}

async function answerOf(response) {
  try {
    return await response.json();
  } catch {
    return {};
  }
}

// A JSON answer, or: Restart (409: the server gave this upload up), Refused (another 4xx, a
// 409 saying the keys sealed to are not the active ones, a 503 saying the file does not fit),
// Busy (another 503), Error (no answer, or a 5xx: a drop, a restart; worth trying again).
export async function ask(url, init) {
  const response = await fetch(url, { credentials: "same-origin", cache: "no-store", ...init });
  if (response.status === 409) {
    const answer = await answerOf(response);
    // The page is older than the keyring: the plain form seals to the keys active now.
    if (answer.error === "keys") throw new Refused("the keys have changed since the page");
    throw new Restart("the server refused the upload");
  }
  if (response.status >= 400 && response.status < 500) {
    throw new Refused(`the server answered ${response.status}`);
  }
  if (response.status === 503) {
    const answer = await answerOf(response);
    if (answer.error === "disk") throw new Refused("no room for the file", answer.message);
    throw new Busy("the server answered 503");
  }
  if (!response.ok) throw new Error(`the server answered ${response.status}`);
  return response.json();
}

// `step` until it answers; a failure that is worth trying again waits longer each time.
// `strikes` counts failures (and 503s in a row) across calls: sending parts alternates a part
// and a question of what the server holds, and a question answered must not reset them.
// `signal`, aborted, ends a request in flight and a wait between tries (PlainChosen).
export async function persist(progress, step, signal, strikes = { failures: 0, busy: 0 }) {
  for (;;) {
    try {
      return await step();
    } catch (error) {
      if (error instanceof Refused) throw error;
      if (signal?.aborted) throw new PlainChosen("the witness chose the plain form");
      strikes.failures += 1;
      strikes.busy = error instanceof Busy ? strikes.busy + 1 : 0;
      if (strikes.busy >= MAX_BUSY) throw new Refused("the server stays busy");
      const wait = Math.min(MAX_WAIT_MS, 1000 * 2 ** strikes.failures);
      progress.waiting(Math.round(wait / 1000));
      await sleep(wait, signal);
    }
  }
}

export function fields(values) {
  const body = new FormData();
  for (const [name, value] of Object.entries(values)) body.append(name, String(value));
  return body;
}

export function say(form, text) {
  const status = form.querySelector("#seal-status");
  if (status) {
    status.hidden = false;
    status.textContent = text;
  }
}

function fill(template, values) {
  return template.replace(/\{(\w+)\}/g, (_, name) => values[name] ?? "");
}

function megabytes(bytes) {
  return (bytes / 1e6).toLocaleString(document.documentElement.lang || undefined, {
    maximumFractionDigits: 1,
  });
}

// The progress element and its words: bytes of plaintext sent of all chosen, and the time
// left at the rate measured since sending began.
export class Progress {
  constructor(form, total) {
    this.form = form;
    this.total = Math.max(1, total);
    this.done = 0;
    this.started = null;
    this.bar = form.querySelector("#seal-progress");
    if (this.bar) {
      this.bar.hidden = false;
      this.bar.max = this.total;
    }
    const note = form.querySelector("#parts-note");
    if (note) note.hidden = false;
  }

  sealing(index, count) {
    if (this.bar) this.bar.removeAttribute("value"); // indeterminate while a file is sealed
    say(this.form, `${this.form.dataset.sealSealing} ${index} / ${count}`);
  }

  sent(bytes) {
    const now = performance.now();
    if (this.started === null) this.started = now; // sending began
    this.done = Math.min(this.total, this.done + bytes);
    // No rate before the first part is sent: the sealing words stay, not "? min left".
    if (this.done === 0) return;
    if (this.bar) this.bar.value = this.done;
    const rate = this.done / Math.max(1, now - this.started); // bytes per ms
    const minutes = rate > 0 ? Math.ceil((this.total - this.done) / rate / 60_000) : "?";
    say(
      this.form,
      fill(this.form.dataset.sealProgress, {
        done: megabytes(this.done),
        total: megabytes(this.total),
        left: minutes,
      }),
    );
  }

  waiting(seconds) {
    say(this.form, fill(this.form.dataset.sealRetry, { seconds }));
  }
}

// Tell the server an upload is given up (the plain form goes, or the file is sealed again), so
// its disk reservation is freed now rather than when the draft expires. Best effort, never
// awaited: `keepalive` lets it outlive the page's navigation to the plain form, and a cancel
// that is lost only leaves the server's idle rule to free the reservation.
export function cancelUpload(form, id) {
  const init = { method: "POST", credentials: "same-origin", cache: "no-store", keepalive: true };
  fetch(partsUrl(form, id, "cancel"), init).catch(() => {});
}
