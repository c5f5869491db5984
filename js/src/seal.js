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

function sealedInputs(input, file, result) {
  const group = FILE_INPUT.exec(input.name)[1];
  const meta = document.createElement("input");
  meta.type = "hidden";
  meta.name = `group${group}-sealed-meta`;
  meta.value = JSON.stringify({ size: result.size, sha256: result.sha256 });
  const part = document.createElement("input");
  part.type = "file";
  part.name = `group${group}-sealed`;
  part.hidden = true;
  const transfer = new DataTransfer();
  transfer.items.add(new File([result.blob], file.name, { type: file.type }));
  part.files = transfer.files;
  return [meta, part];
}

function say(form, text) {
  const status = form.querySelector("#seal-status");
  if (status) {
    status.hidden = false;
    status.textContent = text;
  }
}

async function sealAndSend(form, url, inputs) {
  const recipients = JSON.parse(form.dataset.sealRecipients);
  if (!Array.isArray(recipients) || recipients.length === 0) throw new Error("no recipient");
  const added = [];
  try {
    const files = inputs.flatMap((input) => Array.from(input.files, (file) => [input, file]));
    let done = 0;
    for (const [input, file] of files) {
      say(form, `${form.dataset.sealSealing} ${done + 1} / ${files.length}`);
      const result = await sealOne(url, file, recipients);
      const pair = sealedInputs(input, file, result);
      input.after(...pair);
      added.push(...pair);
      done += 1;
    }
  } catch (error) {
    for (const element of added) element.remove();
    throw error;
  }
  // Disabled inputs are not sent: only the sealed copies leave the browser.
  for (const input of inputs) input.disabled = true;
  say(form, form.dataset.sealSending);
  form.submit();
}

function enhance(script) {
  const form = document.getElementById("testimony-form");
  if (!form || !form.dataset.sealRecipients || !capable()) return;
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
    sealAndSend(form, url, inputs).catch(() => {
      // Nothing was sent: the plain form goes, sealed by the server as without this script.
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
