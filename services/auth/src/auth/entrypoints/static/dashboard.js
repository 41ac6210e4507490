// The privacy dashboard's "Verify" buttons: the browser itself fetches the transfer's ledger
// entry, inclusion proof and signed checkpoint from the audit, with the user's own platform
// token, and checks them with ledger-verify.js (RFC 6962 hashing and Ed25519 in WebCrypto).
import { fetchAndVerify } from "./ledger-verify.js";

const script = document.querySelector("script[data-audit]");
const auditUrl = script.dataset.audit;
const subject = script.dataset.subject;
let cached = null; // {token, until}: a fresh platform user token, reused while it lives

async function userToken() {
  if (cached && Date.now() < cached.until) return cached.token;
  // Same origin, the session cookie: auth mints a short-lived token for this user only.
  const answer = await fetch("/v1/session/token", { method: "POST", credentials: "same-origin" });
  if (!answer.ok) throw new Error(`your session has ended (${answer.status}); log in again`);
  const body = await answer.json();
  cached = { token: body.access_token, until: Date.now() + (body.expires_in - 30) * 1000 };
  return cached.token;
}

function show(output, ok, text) {
  output.textContent = text;
  output.className = `result ${ok ? "ok" : "failed"}`;
}

async function verify(button) {
  const output = document.getElementById(button.getAttribute("aria-describedby"));
  button.disabled = true;
  output.className = "result";
  output.textContent = "Checking the ledger…";
  try {
    const token = await userToken();
    const result = await fetchAndVerify({ auditUrl, eventId: button.dataset.event, subject, token });
    if (result.ok) {
      const { entry, checkpoint } = result;
      show(output, true, `Verified: entry ${entry.index} of shard ${entry.shard} is in the ` +
        `ledger checkpoint signed at ${checkpoint.time}.`);
    } else if (result.step === "fetch" && / answered 409$/.test(result.reason)) {
      // Not a failure: the audit has not signed a checkpoint over this entry yet.
      show(output, false, "Not verifiable yet: the ledger has not signed this entry's " +
        "checkpoint. Try again in a few seconds.");
    } else {
      show(output, false, `Verification failed (${result.step}): ${result.reason}`);
    }
  } catch (error) {
    show(output, false, `Verification failed: ${error.message}`);
  } finally {
    button.disabled = false;
  }
}

for (const button of document.querySelectorAll("button.verify")) {
  button.addEventListener("click", () => verify(button));
}
