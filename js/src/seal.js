// The testimony form's optional in-browser sealing (issue 16). One file, two roles: loaded by
// the page (a classic <script> with Subresource Integrity) it takes over the form's submit
// event; loaded as a dedicated Worker from the same URL it seals or hashes one file.
//
// Progressive enhancement only: the plain form works without this script, and whenever this
// script cannot seal every chosen file (no crypto.subtle, no Worker, a library error), it
// sends nothing itself and lets the plain form go exactly as it would have without it.
import {
  MAX_RESTARTS,
  PlainChosen,
  Progress,
  Refused,
  Restart,
  SealFailed,
  ask,
  cancelUpload,
  fields,
  partsUrl,
  persist,
  say,
  unlessChosen,
} from "./send.js";
import { serveWorker } from "./worker.js";

const FILE_INPUT = /^group([1-3])-files$/;

function inWorker() {
  return typeof document === "undefined" && typeof postMessage === "function";
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

// How many sealed parts may wait in memory (in the page or just made in the worker) before
// the sealing worker pauses: one being sent and two ready, so sending never waits on sealing
// when sealing is the faster, and memory stays at a few parts whatever the file's size.
const WINDOW = 3;

// The hash of a file in a fresh worker, ended when it answers: a worker holds the file's bytes.
function hashJob(url, file, workers) {
  return new Promise((resolve, reject) => {
    const worker = new Worker(url);
    workers.add(worker);
    const end = () => {
      worker.terminate();
      workers.delete(worker);
    };
    worker.onmessage = (event) => {
      end();
      if (event.data.ok) resolve(event.data);
      else reject(new Error(event.data.error));
    };
    worker.onerror = (event) => {
      end();
      reject(new Error(event.message || "worker failed"));
    };
    worker.postMessage({ op: "hash", file });
  });
}

// One file sealed in a fresh worker, its parts taken as they come. `part(i)` waits for part i;
// `release(n)` drops the parts below n (the server holds them) and lets the worker seal as
// many more. `firstSeconds` is how long the first part took to seal, for the rate check.
class SealedParts {
  constructor(url, file, recipients, partSize, workers) {
    this.parts = new Map();
    this.waiting = new Map();
    this.released = 0;
    this.failure = null;
    this.started = performance.now();
    this.firstSeconds = null;
    this.workers = workers;
    this.size = new Promise((resolve, reject) => {
      this.sized = { resolve, reject };
    });
    this.size.catch(() => {}); // a failure is raised by whoever waits for the next part
    this.worker = new Worker(url);
    workers.add(this.worker);
    this.worker.onmessage = (event) => this.receive(event.data);
    this.worker.onerror = (event) => this.fail(new SealFailed(event.message || "worker failed"));
    this.worker.postMessage({ op: "seal", file, recipients, partSize, window: WINDOW });
  }

  receive(data) {
    if (!data.ok) {
      this.fail(new SealFailed(data.error));
    } else if (data.kind === "size") {
      this.sized.resolve(data.sealedSize);
    } else if (data.kind === "part") {
      if (data.index === 0) this.firstSeconds = (performance.now() - this.started) / 1000;
      const bytes = new Uint8Array(data.bytes);
      this.parts.set(data.index, bytes);
      this.waiting.get(data.index)?.resolve(bytes);
      this.waiting.delete(data.index);
    } else {
      this.stop(); // sealed to the end; the parts not yet sent stay here
    }
  }

  part(index) {
    if (this.failure) return Promise.reject(this.failure);
    // Below `released` a part is gone: the server said it held it and then lost it.
    if (index < this.released) return Promise.reject(new Restart("a released part was lost"));
    if (this.parts.has(index)) return Promise.resolve(this.parts.get(index));
    if (!this.waiting.has(index)) {
      let entry;
      const promise = new Promise((resolve, reject) => (entry = { resolve, reject }));
      this.waiting.set(index, { ...entry, promise });
    }
    return this.waiting.get(index).promise;
  }

  release(upTo) {
    for (; this.released < upTo; this.released += 1) {
      if (this.parts.delete(this.released)) this.worker.postMessage({ op: "release" });
    }
  }

  fail(error) {
    if (this.failure) return;
    this.failure = error;
    this.sized.reject(error);
    for (const entry of this.waiting.values()) entry.reject(error);
    this.waiting.clear();
    this.close();
  }

  stop() {
    this.worker.terminate();
    this.workers.delete(this.worker);
  }

  close() {
    this.stop();
    this.parts.clear();
  }
}

// ---- sending in parts ------------------------------------------------------------------------

// Sealing slower than sending. The page times its first part twice: sealing it (worker start
// included, with the hash worker running beside it, as on the witness's device) and uploading
// it. Both concern the same 4 MiB, so the times compare directly: where sealing took more than
// SLOW_RATIO times as long as the upload, sealing is what holds the files back and the plain
// form (sent at the connection's rate, sealed by the server as it arrives) would likely be
// faster. The page then offers it, once per sending (the first file of more than one part is
// measured, the files after it are not), and the witness may ignore the offer: the sending here
// goes on. 1.5, not 1: the first part's
// rate is one sample, and a small gain is not worth a choice put to a frightened witness.
const SLOW_RATIO = 1.5;

// How long a `done` in flight is awaited once the witness chose the plain form. The server
// hashes the whole sealed file under the upload's lock (tens of seconds for 4.5 GiB on a slow
// disk), and a Tor circuit may stall without a word: unbounded, the page would say "Sending
// your files the usual way…" and do nothing. A minute is past most hashes and not too long for
// a witness waiting; after it the plain form goes, at worst with the file's bytes a second
// time (the server keeps one copy; never a loss). The form's data-seal-done-wait
// (milliseconds; never set by the server) shortens it for the browser tests.
const DONE_WAIT_MS = 60_000;

// One sending of the chosen files: the workers (all ended when it ends, whatever happened),
// the file being sealed, and the witness's choice of the plain form, which ends at once the
// request in flight and any wait between tries (`stop`), so the plain form goes straight away;
// a `done` in flight alone is awaited, for at most DONE_WAIT_MS (`late`).
class Run {
  constructor(form, url) {
    this.form = form;
    this.url = url;
    this.recipients = JSON.parse(form.dataset.sealRecipients);
    if (!Array.isArray(this.recipients) || this.recipients.length === 0) {
      throw new Error("no recipient");
    }
    this.partSize = Number(form.dataset.partSize);
    this.workers = new Set();
    this.sealed = null;
    this.plain = false;
    this.stop = new AbortController();
    this.late = new AbortController(); // DONE_WAIT_MS after the choice: a `done` in flight
    this.lateTimer = null;
    this.offered = false; // the slow-sealing offer is weighed once per sending
    this.offer = form.querySelector("#seal-slow");
    this.choose = form.querySelector("#seal-plain");
    this.onChoose = () => {
      if (this.plain) return;
      this.plain = true;
      this.choose.disabled = true;
      say(form, form.dataset.sealPlain); // at once: the part in flight is dropped, not awaited
      this.stop.abort();
      const wait = Number(form.dataset.sealDoneWait) || DONE_WAIT_MS;
      this.lateTimer = setTimeout(() => this.late.abort(), wait);
      this.sealed?.fail(new PlainChosen("the witness chose the plain form"));
    };
    this.choose?.addEventListener("click", this.onChoose);
  }

  check() {
    if (this.plain) throw new PlainChosen("the witness chose the plain form");
  }

  get signal() {
    return this.stop.signal;
  }

  // A request to the parts endpoint that the witness's choice of the plain form aborts.
  ask(url, init = {}) {
    return ask(url, { ...init, signal: this.stop.signal });
  }

  measured(sealed, uploadSeconds, parts) {
    if (this.offered || parts < 2 || sealed.firstSeconds === null) return;
    this.offered = true;
    if (this.offer && sealed.firstSeconds > SLOW_RATIO * uploadSeconds) this.offer.hidden = false;
  }

  end() {
    this.choose?.removeEventListener("click", this.onChoose);
    clearTimeout(this.lateTimer);
    if (this.offer) this.offer.hidden = true;
    for (const worker of this.workers) worker.terminate();
    this.workers.clear();
  }
}

// Send each part as the worker seals it, from the first the server lacks; a failed request
// waits (longer each time), asks the server which parts it holds, and goes on from there with
// the same part still in memory. A part is released to the worker once the server holds it.
async function sendParts(run, id, sealed, plainSize, progress) {
  const { form } = run;
  const status = await persist(progress, () => run.ask(partsUrl(form, id)), run.signal);
  if (status.part_size !== run.partSize) throw new Error("the server's part size changed");
  const sealedSize = await sealed.size;
  const plainOf = (parts) =>
    Math.min(plainSize, Math.round((parts * run.partSize * plainSize) / sealedSize));
  let have = status.have;
  let lost = false;
  const strikes = { failures: 0, busy: 0 }; // reset by a part the server took
  progress.sent(plainOf(have));
  while (have < status.parts) {
    const now = await persist(progress, async () => {
      run.check();
      if (lost) {
        // After a failure, the server says which part it lacks first (it may hold the one
        // whose answer the cut swallowed, or a restart may have dropped a torn one).
        const held = (await run.ask(partsUrl(form, id))).have;
        lost = false;
        return held;
      }
      const part = await sealed.part(have);
      lost = true;
      const headers = { "Content-Type": "application/octet-stream" };
      const started = performance.now();
      const answer = await run.ask(partsUrl(form, id, have), { method: "POST", body: part, headers });
      if (have === 0) run.measured(sealed, (performance.now() - started) / 1000, status.parts);
      lost = false;
      strikes.failures = 0;
      strikes.busy = 0;
      return answer.have;
    }, run.signal, strikes);
    sealed.release(now);
    progress.sent(plainOf(now) - plainOf(have));
    have = now;
  }
}

async function finish(run, id, file, hashing, progress) {
  const hashed = await unlessChosen(hashing, run.signal);
  if (hashed.size !== file.size) throw new Error("the file changed while it was read");
  const meta = JSON.stringify({ size: hashed.size, sha256: hashed.sha256 });
  const body = { name: file.name, type: file.type, meta };
  // `done` once sent is awaited, not aborted at once by the witness's choice of the plain form:
  // the server may have kept the file already, and a page that did not hear it would send the
  // same file again the plain way (an hour of a video over Tor). It is aborted only
  // DONE_WAIT_MS after that choice (`run.late`).
  await persist(
    progress,
    () => {
      run.check();
      const init = { method: "POST", body: fields(body), signal: run.late.signal };
      return ask(partsUrl(run.form, id, "done"), init);
    },
    run.signal,
  );
}

function randomHex(bytes) {
  const values = crypto.getRandomValues(new Uint8Array(bytes));
  return Array.from(values, (value) => value.toString(16).padStart(2, "0")).join("");
}

// Seal and send one file; a Restart (the server gave the upload up, or lost parts the page no
// longer holds) seals it again from the beginning under a new upload, whose start names the one
// it replaces: the server cancels that first, so a cancel cannot arrive after the new start and
// leave it refused for one upload too many. An upload given up otherwise (the plain form, too
// many restarts) is cancelled, so it holds no room on the server for the day it would take to
// expire.
async function uploadOne(run, group, file, hashing, progress) {
  let replaced = null; // given up for a restart, not yet named by a start the server answered
  try {
    for (let restarts = 0; ; restarts += 1) {
      const sealed = new SealedParts(run.url, file, run.recipients, run.partSize, run.workers);
      run.sealed = sealed;
      let id = null;
      try {
        // The keys it is sealed to: the server refuses them unless they are the active ones now.
        const keys = run.recipients.join(",");
        // One nonce per attempt at the file, sent again by the start's retries: a start whose
        // answer a cut swallowed is answered with the upload it made, not a second one left to
        // count against the witness's few open uploads for a day.
        const nonce = randomHex(16);
        const start = { group, size: file.size, sealed_size: await sealed.size, keys, nonce };
        if (replaced !== null) start.replaces = replaced;
        const started = await persist(
          progress,
          () => {
            run.check();
            return run.ask(partsUrl(run.form), { method: "POST", body: fields(start) });
          },
          run.signal,
        );
        replaced = null; // cancelled by the server before this start
        id = started.id;
        await sendParts(run, id, sealed, file.size, progress);
        await finish(run, id, file, hashing, progress);
        id = null; // in the draft: nothing to cancel
        return;
      } catch (error) {
        if (!(error instanceof Restart) || restarts >= MAX_RESTARTS) throw error;
        if (id !== null) [replaced, id] = [id, null]; // the next start cancels it
      } finally {
        sealed.close();
        if (id !== null) cancelUpload(run.form, id);
      }
    }
  } finally {
    if (replaced !== null) cancelUpload(run.form, replaced); // no start named it
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

// The files the server holds whole are added to `sent` as they arrive. A witness who chose the
// plain form meanwhile is heard between files: a file whose `done` was answered is not sent
// again, and the files after it are not sealed.
async function sealAndSend(form, url, inputs, sent) {
  const run = new Run(form, url);
  const files = inputs.flatMap((input) => Array.from(input.files, (file) => [input, file]));
  const progress = new Progress(form, files.reduce((sum, [, file]) => sum + file.size, 0));
  try {
    for (const [input, file] of files) {
      run.check();
      progress.sealing(sent.size + 1, files.length);
      // The receipt's SHA-256 is the browser's, hashed in a second worker beside the sealing.
      const hashing = hashJob(url, file, run.workers);
      hashing.catch((error) => run.sealed?.fail(new SealFailed(String(error))));
      const group = FILE_INPUT.exec(input.name)[1];
      await uploadOne(run, group, file, hashing, progress);
      sent.add(file);
    }
    run.check();
  } catch (error) {
    withoutSent(inputs, sent); // what arrived whole is in the draft: never sent twice
    throw error;
  } finally {
    run.end();
  }
  // Disabled inputs are not sent: the files wait in the draft, which the form's POST takes.
  for (const input of inputs) input.disabled = true;
  say(form, form.dataset.sealSending);
  form.submit();
}

// The words as the plain form goes, and which files the server holds already: the witness
// sees that those are not sent again.
function goingPlain(form, words, sent) {
  const received = form.dataset.sealReceived;
  if (sent.size === 0 || !received) return say(form, words);
  const names = Array.from(sent, (file) => file.name).join(", ");
  say(form, `${words} ${received.replace("{names}", () => names)}`);
}

function enhance(script) {
  const form = document.getElementById("testimony-form");
  const { sealRecipients, partsUrl: parts, partSize } = form?.dataset ?? {};
  if (!sealRecipients || !parts || !(Number(partSize) > 0) || !capable()) return;
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
    const sent = new Set();
    sealAndSend(form, url, inputs, sent).catch((error) => {
      if (error instanceof Refused && error.note) {
        // The server said why, in the witness's language (no room for the file now): the
        // answers stay in the page and the witness may send again later or a smaller file.
        say(form, error.note);
        busy = false;
        return;
      }
      // The files not yet held whole go with the plain form, sealed by the server as they
      // arrive, as without this script; those held whole wait in the draft.
      const { sealPlain, sealFallback } = form.dataset;
      goingPlain(form, error instanceof PlainChosen ? sealPlain : sealFallback, sent);
      form.submit();
    });
  });
}

if (inWorker()) {
  serveWorker();
} else if (document.currentScript) {
  enhance(document.currentScript);
}
