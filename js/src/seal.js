// The testimony form's optional in-browser sealing (issue 16). One file, two roles: loaded by
// the page (a classic <script> with Subresource Integrity) it takes over the form's submit
// event; loaded as a dedicated Worker from the same URL it seals or hashes one file.
//
// Progressive enhancement only: the plain form works without this script, and whenever this
// script cannot seal every chosen file (no crypto.subtle, no Worker, a library error), it
// sends nothing itself and lets the plain form go exactly as it would have without it.
import { Encrypter } from "age-encryption";
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex } from "@noble/hashes/utils.js";

const FILE_INPUT = /^group([1-3])-files$/;

function inWorker() {
  return typeof document === "undefined" && typeof postMessage === "function";
}

// ---- worker side --------------------------------------------------------------------------

async function sealFile(file, recipients) {
  const encrypter = new Encrypter();
  for (const recipient of recipients) encrypter.addRecipient(recipient);
  const sealed = await encrypter.encrypt(file.stream());
  return { blob: await new Response(sealed).blob() };
}

async function hashFile(file) {
  const digest = sha256.create();
  const reader = file.stream().getReader();
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    digest.update(value);
    size += value.length;
  }
  return { sha256: bytesToHex(digest.digest()), size };
}

function serveWorker() {
  self.onmessage = async (event) => {
    const { op, file, recipients } = event.data;
    try {
      const result = op === "seal" ? await sealFile(file, recipients) : await hashFile(file);
      postMessage({ ok: true, ...result });
    } catch (error) {
      postMessage({ ok: false, error: String(error) });
    }
  };
}

// ---- page side ----------------------------------------------------------------------------

function capable() {
  return (
    typeof Worker === "function" &&
    typeof DataTransfer === "function" &&
    typeof ReadableStream === "function" &&
    typeof fetch === "function" &&
    typeof FormData === "function" &&
    typeof globalThis.crypto === "object" &&
    typeof globalThis.crypto.subtle === "object" &&
    globalThis.crypto.subtle !== null
  );
}

// One job in a fresh worker, ended when it answers: a worker holds the file's bytes.
function inWorkerJob(url, message) {
  return new Promise((resolve, reject) => {
    const worker = new Worker(url);
    worker.onmessage = (event) => {
      worker.terminate();
      if (event.data.ok) resolve(event.data);
      else reject(new Error(event.data.error));
    };
    worker.onerror = (event) => {
      worker.terminate();
      reject(new Error(event.message || "worker failed"));
    };
    worker.postMessage(message);
  });
}

// Seal and hash in two workers side by side; the receipt's SHA-256 is the browser's.
async function sealOne(url, file, recipients) {
  const [sealed, hashed] = await Promise.all([
    inWorkerJob(url, { op: "seal", file, recipients }),
    inWorkerJob(url, { op: "hash", file }),
  ]);
  if (hashed.size !== file.size) throw new Error("the file changed while it was read");
  return { blob: sealed.blob, sha256: hashed.sha256, size: hashed.size };
}

// ---- sending in parts ------------------------------------------------------------------------

// The server answered, and will not take this: 409 (start the file again) or another 4xx;
// `note` is the server's own (translated) words for the witness, if it sent any.
class Refused extends Error {
  constructor(message, note = "") {
    super(message);
    this.note = note;
  }
}
class Restart extends Refused {}
// 503: the server is there but has no room (a full disk) or is busy; worth trying again, but
// not for ever: after MAX_BUSY in a row the plain form goes, and its page says what is wrong.
class Busy extends Error {}
const MAX_RESTARTS = 2;
const MAX_BUSY = 6;
const MAX_WAIT_MS = 30_000;

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function partsUrl(form, ...path) {
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
async function ask(url, init) {
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
async function persist(progress, step, strikes = { failures: 0, busy: 0 }) {
  for (;;) {
    try {
      return await step();
    } catch (error) {
      if (error instanceof Refused) throw error;
      strikes.failures += 1;
      strikes.busy = error instanceof Busy ? strikes.busy + 1 : 0;
      if (strikes.busy >= MAX_BUSY) throw new Refused("the server stays busy");
      const wait = Math.min(MAX_WAIT_MS, 1000 * 2 ** strikes.failures);
      progress.waiting(Math.round(wait / 1000));
      await sleep(wait);
    }
  }
}

function fields(values) {
  const body = new FormData();
  for (const [name, value] of Object.entries(values)) body.append(name, String(value));
  return body;
}

function say(form, text) {
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
class Progress {
  constructor(form, total) {
    this.form = form;
    this.total = Math.max(1, total);
    this.done = 0;
    this.started = performance.now();
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
    if (this.done === 0) this.started = now;
    this.done = Math.min(this.total, this.done + bytes);
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

// Send part after part from the first the server lacks; a failed request waits (longer each
// time), asks the server which parts it holds, and goes on from there.
async function sendParts(form, id, blob, plainSize, progress) {
  const status = await persist(progress, () => ask(partsUrl(form, id)));
  const size = status.part_size;
  const plainOf = (parts) => Math.min(plainSize, Math.round((parts * size * plainSize) / blob.size));
  let have = status.have;
  let lost = false;
  const strikes = { failures: 0, busy: 0 }; // reset by a part the server took
  progress.sent(plainOf(have));
  while (have < status.parts) {
    const now = await persist(progress, async () => {
      if (lost) {
        // After a failure, the server says which part it lacks first (it may hold the one
        // whose answer the cut swallowed, or a restart may have dropped a torn one).
        const held = (await ask(partsUrl(form, id))).have;
        lost = false;
        return held;
      }
      lost = true;
      const part = blob.slice(have * size, Math.min(blob.size, (have + 1) * size));
      const headers = { "Content-Type": "application/octet-stream" };
      const answer = await ask(partsUrl(form, id, have), { method: "POST", body: part, headers });
      lost = false;
      strikes.failures = 0;
      strikes.busy = 0;
      return answer.have;
    }, strikes);
    progress.sent(plainOf(now) - plainOf(have));
    have = now;
  }
}

async function finish(form, id, file, result, progress) {
  const meta = JSON.stringify({ size: result.size, sha256: result.sha256 });
  const body = { name: file.name, type: file.type, meta };
  await persist(progress, () =>
    ask(partsUrl(form, id, "done"), { method: "POST", body: fields(body) }),
  );
}

async function uploadOne(form, group, file, result, recipients, progress) {
  for (let restarts = 0; ; restarts += 1) {
    // The keys it is sealed to: the server refuses them unless they are the active ones now.
    const keys = recipients.join(",");
    const start = { group, size: result.size, sealed_size: result.blob.size, keys };
    const { id } = await persist(progress, () =>
      ask(partsUrl(form), { method: "POST", body: fields(start) }),
    );
    try {
      await sendParts(form, id, result.blob, result.size, progress);
      await finish(form, id, file, result, progress);
      return;
    } catch (error) {
      if (!(error instanceof Restart) || restarts >= MAX_RESTARTS) throw error;
    }
  }
}

// The file inputs without the files the server already holds whole (in the witness's draft).
function withoutSent(inputs, sent) {
  for (const input of inputs) {
    const transfer = new DataTransfer();
    for (const file of input.files) if (!sent.has(file)) transfer.items.add(file);
    input.files = transfer.files;
  }
}

async function sealAndSend(form, url, inputs) {
  const recipients = JSON.parse(form.dataset.sealRecipients);
  if (!Array.isArray(recipients) || recipients.length === 0) throw new Error("no recipient");
  const files = inputs.flatMap((input) => Array.from(input.files, (file) => [input, file]));
  const progress = new Progress(form, files.reduce((sum, [, file]) => sum + file.size, 0));
  const sent = new Set();
  try {
    for (const [input, file] of files) {
      progress.sealing(sent.size + 1, files.length);
      const result = await sealOne(url, file, recipients);
      const group = FILE_INPUT.exec(input.name)[1];
      await uploadOne(form, group, file, result, recipients, progress);
      sent.add(file);
    }
  } catch (error) {
    withoutSent(inputs, sent); // what arrived whole is in the draft: never sent twice
    throw error;
  }
  // Disabled inputs are not sent: the files wait in the draft, which the form's POST takes.
  for (const input of inputs) input.disabled = true;
  say(form, form.dataset.sealSending);
  form.submit();
}

function enhance(script) {
  const form = document.getElementById("testimony-form");
  if (!form || !form.dataset.sealRecipients || !form.dataset.partsUrl || !capable()) return;
  const url = script.src;
  let busy = false;
  form.addEventListener("submit", (event) => {
    // A language button posts the typed answers back to be shown again, never the files.
    if (event.submitter && event.submitter.hasAttribute("formaction")) return;
    const inputs = Array.from(form.querySelectorAll("input[type=file]")).filter(
      (input) => FILE_INPUT.test(input.name) && input.files.length > 0,
    );
    if (inputs.length === 0) return; // nothing to seal: the plain form goes as it is
    event.preventDefault();
    if (busy) return;
    busy = true;
    sealAndSend(form, url, inputs).catch((error) => {
      if (error instanceof Refused && error.note) {
        // The server said why, in the witness's language (no room for the file now): the
        // answers stay in the page and the witness may send again later or a smaller file.
        say(form, error.note);
        busy = false;
        return;
      }
      // The files not yet held whole go with the plain form, sealed by the server as they
      // arrive, as without this script; those held whole wait in the draft.
      say(form, form.dataset.sealFallback);
      form.submit();
    });
  });
}

if (inWorker()) {
  serveWorker();
} else if (document.currentScript) {
  enhance(document.currentScript);
}
