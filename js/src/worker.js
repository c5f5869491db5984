// The worker side of seal.js (the same bundle, loaded as a dedicated Worker): seals one file
// into parts handed to the page as they are made, or hashes one file.
import { Encrypter } from "age-encryption";
import { Sha256 } from "./sha256.js";

// Backpressure: the worker seals at most `window` parts the page has not yet released (sent
// and held by the server), so a file of several GB never sits sealed in memory.
const credit = { left: 0, wake: null };

function release() {
  credit.left += 1;
  if (credit.wake) credit.wake();
}

async function emit(bytes, index) {
  while (credit.left === 0) await new Promise((resolve) => (credit.wake = resolve));
  credit.wake = null;
  credit.left -= 1;
  postMessage({ ok: true, kind: "part", index, bytes: bytes.buffer }, [bytes.buffer]);
}

// The sealed file in parts of `partSize` (the parts endpoint's size), posted as they are made.
async function sealFile(file, recipients, partSize, window) {
  credit.left = window;
  const encrypter = new Encrypter();
  for (const recipient of recipients) encrypter.addRecipient(recipient);
  const sealed = await encrypter.encrypt(file.stream());
  postMessage({ ok: true, kind: "size", sealedSize: sealed.size(file.size) });
  const reader = sealed.getReader();
  let part = new Uint8Array(partSize);
  let filled = 0;
  let index = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    for (let at = 0; at < value.length; ) {
      const n = Math.min(partSize - filled, value.length - at);
      part.set(value.subarray(at, at + n), filled);
      filled += n;
      at += n;
      if (filled === partSize) {
        await emit(part, index++);
        part = new Uint8Array(partSize);
        filled = 0;
      }
    }
  }
  if (filled > 0) await emit(part.slice(0, filled), index++);
  return { parts: index };
}

// The plaintext's SHA-256 for the receipt. Our own interpreter-friendly SHA-256 (sha256.js), not
// @noble/hashes': at Tor Browser's "Safer" (no JIT) noble made this worker the slower of the
// page's two, capping the witness's upload, and sha256.js hashes 1.5-2x as fast there.
async function hashFile(file) {
  const digest = new Sha256();
  const reader = file.stream().getReader();
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    digest.update(value);
    size += value.length;
  }
  return { sha256: digest.hexDigest(), size };
}

// Messages in: {op: "seal", file, recipients, partSize, window}, {op: "hash", file}, and
// {op: "release"} (the page is done with one part). Out: {kind: "size"} and {kind: "part"}
// while sealing, then {kind: "end"} with the result, or {ok: false, error}.
export function serveWorker() {
  self.onmessage = async (event) => {
    const { op, file, recipients, partSize, window } = event.data;
    if (op === "release") {
      release();
      return;
    }
    try {
      const result =
        op === "seal" ? await sealFile(file, recipients, partSize, window) : await hashFile(file);
      postMessage({ ok: true, kind: "end", ...result });
    } catch (error) {
      postMessage({ ok: false, error: String(error) });
    }
  };
}
