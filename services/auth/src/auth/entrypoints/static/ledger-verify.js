// ledger-verify.js: check an audit-ledger entry in the browser, trusting nothing but the keys.
//
// An ES2020 module with no dependencies and no build step (the project's own code; served
// same-origin by the privacy dashboard). It mirrors the Python verifier `audit.verify`
// (services/audit/src/audit/verify/): RFC 6962 hashing with WebCrypto's SHA-256, the RFC 9162
// section 2.1.3.2 inclusion-proof walk, the checkpoint's canonical signed bytes and the
// Ed25519 signature with WebCrypto. Needs a secure context (https, or http on localhost).
//
//   import { verifyEntry } from "/static/ledger-verify.js";
//   const result = await verifyEntry(entryResponse, keysResponse);
//   // result: {ok: true, step: null, reason: null, entry: {...}, checkpoint: {...}}
//   //      or {ok: false, step: "signature", reason: "checkpoint signature does not verify"}
//
// `entryResponse` is the JSON body of `GET /ledger/entries/{event_id}` exactly as the audit
// serves it; `keysResponse` the body of `GET /ledger/keys`. Steps, in the order they are
// checked (the Python verifier's order): "crypto" (WebCrypto or its Ed25519 is missing),
// "format" (the response is not the verifier's strict shape), "keys" (the keys document is
// malformed), "key" (no key with the checkpoint's key id), "signature" (the checkpoint's
// signature does not verify), "leaf" (entry.leaf_hash is not the leaf hash of entry.data),
// "shard" (the checkpoint does not name the entry's shard), "proof" (the path does not fit
// the index and tree size), "root" (the path leads to another root than the checkpoint's),
// "event" (with `eventId`: the verified bytes are another event than the one asked for).
// Also "fetch" from `fetchAndVerify`, and "internal" for anything unforeseen.

const HASH_SIZE = 32;
const SIGNATURE_SIZE = 64;
const MAX_PROOF_LENGTH = 64; // a tree with fewer than 2**63 leaves never needs more
const HEADER = "audit-checkpoint/v1";
const ORIGIN_RE = /^[\x21-\x7e](?:[\x20-\x7e]{0,253}[\x21-\x7e])?$/;
const SHARD_RE = /^[!-~]{1,200}$/;
const TIME_RE =
  /^([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.[0-9]{1,6})?Z$/;
const KEY_ID_RE = /^[0-9a-f]{16}$/;
const B64_RE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** The steps of a verification, in the order they are checked. */
export const STEPS = Object.freeze([
  "crypto", "format", "keys", "key", "signature", "leaf", "shard", "proof", "root", "event",
]);

/** A failed check: `step` names which (one of STEPS, or "fetch"/"internal"). */
export class LedgerVerifyError extends Error {
  constructor(step, reason) {
    super(reason);
    this.name = "LedgerVerifyError";
    this.step = step;
  }
}

function fail(step, reason) {
  throw new LedgerVerifyError(step, reason);
}

function subtle() {
  const found = globalThis.crypto && globalThis.crypto.subtle;
  if (!found) fail("crypto", "WebCrypto is unavailable: the page must be served over https");
  return found;
}

function concat(parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

async function sha256(...parts) {
  return new Uint8Array(await subtle().digest("SHA-256", concat(parts)));
}

function equalBytes(a, b) {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}

/** Lowercase hex of bytes. */
export function toHex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Standard padded base64 of bytes. */
export function b64encode(bytes) {
  let text = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(text);
}

function typeName(value) {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  return typeof value;
}

/** Decode canonical standard padded base64 (as the Python verifier's b64decode_strict). */
function b64decode(value, { what, size = null, step = "format" }) {
  if (typeof value !== "string") fail(step, `${what} must be a base64 string, got ${typeName(value)}`);
  if (!B64_RE.test(value)) fail(step, `${what} is not valid base64`);
  const bytes = Uint8Array.from(atob(value), (c) => c.charCodeAt(0));
  if (b64encode(bytes) !== value) fail(step, `${what} is not canonical base64`);
  if (size !== null && bytes.length !== size) {
    fail(step, `${what} must be ${size} bytes, got ${bytes.length}`);
  }
  return bytes;
}

// ---- RFC 6962 hashing and the RFC 9162 inclusion proof -----------------------------------

/** RFC 6962 leaf hash: SHA-256(0x00 || data), as a Uint8Array. */
export async function leafHash(data) {
  return sha256(Uint8Array.of(0), data);
}

/** RFC 6962 interior node hash: SHA-256(0x01 || left || right). */
export async function nodeHash(left, right) {
  return sha256(Uint8Array.of(1), left, right);
}

function checkSize(value, name) {
  if (typeof value === "bigint") {
    if (value < 0n) fail("proof", `${name} must not be negative, got ${value}`);
    return value;
  }
  if (!Number.isSafeInteger(value)) fail("proof", `${name} must be an integer`);
  if (value < 0) fail("proof", `${name} must not be negative, got ${value}`);
  return BigInt(value);
}

function checkHash(value, name) {
  if (!(value instanceof Uint8Array) || value.length !== HASH_SIZE) {
    const got = value instanceof Uint8Array ? value.length : typeName(value);
    fail("proof", `${name} must be ${HASH_SIZE} bytes, got ${got}`);
  }
}

function checkProof(proof) {
  if (!Array.isArray(proof)) fail("proof", "proof must be an array of hashes");
  if (proof.length > MAX_PROOF_LENGTH) {
    fail("proof", `proof has ${proof.length} elements, more than ${MAX_PROOF_LENGTH}`);
  }
  proof.forEach((element, i) => checkHash(element, `proof element ${i}`));
}

/**
 * The root an inclusion proof leads to (RFC 9162 2.1.3.2 steps 1-4); throws a
 * LedgerVerifyError (step "proof") when the path does not fit the index and tree size.
 * Sizes are numbers (safe integers) or BigInts; hashes are 32-byte Uint8Arrays.
 */
export async function rootFromInclusionProof({ leafHash: leaf, index, treeSize, proof }) {
  const i = checkSize(index, "index");
  const n = checkSize(treeSize, "tree size");
  checkHash(leaf, "leaf hash");
  checkProof(proof);
  if (i >= n) fail("proof", `index ${i} is not below tree size ${n}`);
  // BigInt: JavaScript's bit operators on numbers work on 32 bits only.
  let fn = i;
  let sn = n - 1n;
  let result = leaf;
  for (let used = 0; used < proof.length; used++) {
    const element = proof[used];
    if (sn === 0n) fail("proof", `proof has ${proof.length} elements, only ${used} expected`);
    if ((fn & 1n) === 1n || fn === sn) {
      result = await nodeHash(element, result);
      while ((fn & 1n) === 0n && fn !== 0n) {
        fn >>= 1n;
        sn >>= 1n;
      }
    } else {
      result = await nodeHash(result, element);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  if (sn !== 0n) {
    fail("proof", `proof has ${proof.length} elements, too few for this index and size`);
  }
  return result;
}

/** Check that leafHash is at index in the tree of treeSize leaves with this root (step "root"). */
export async function verifyInclusion({ leafHash: leaf, index, treeSize, proof, root }) {
  checkHash(root, "root");
  const computed = await rootFromInclusionProof({ leafHash: leaf, index, treeSize, proof });
  if (!equalBytes(computed, root)) fail("root", "inclusion proof does not lead to the expected root");
}

// ---- strict JSON shapes (the Python verifier's encoding.py, checkpoint.py, responses.py) -----

function exactObject(value, { what, required, optional = [] }) {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    fail("format", `${what} must be a JSON object, got ${typeName(value)}`);
  }
  const keys = Object.keys(value);
  const missing = required.filter((k) => !keys.includes(k)).sort();
  if (missing.length) fail("format", `${what} is missing field(s): ${missing.join(", ")}`);
  const unknown = keys.filter((k) => !required.includes(k) && !optional.includes(k)).sort();
  if (unknown.length) fail("format", `${what} has unknown field(s): ${unknown.join(", ")}`);
  return value;
}

function getStr(obj, key, what) {
  const value = obj[key];
  if (typeof value !== "string") fail("format", `${what}.${key} must be a string, got ${typeName(value)}`);
  return value;
}

function getUint(obj, key, what) {
  const value = obj[key];
  // JSON.parse gives doubles: above 2**53 an integer is no longer exact, so it is refused.
  if (typeof value !== "number" || !Number.isInteger(value)) {
    fail("format", `${what}.${key} must be an integer, got ${typeName(value)}`);
  }
  if (value < 0 || !Number.isSafeInteger(value)) fail("format", `${what}.${key} is out of range: ${value}`);
  return value;
}

function getShard(obj, key, what) {
  const value = getStr(obj, key, what);
  if (!SHARD_RE.test(value)) fail("format", `${what}.${key} is not a valid shard name: ${JSON.stringify(value)}`);
  return value;
}

function daysIn(year, month) {
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  return [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1];
}

function checkTime(time) {
  const m = typeof time === "string" ? TIME_RE.exec(time) : null;
  if (!m) fail("format", `checkpoint time is not RFC 3339 UTC: ${JSON.stringify(time)}`);
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number);
  const valid =
    year >= 1 && month >= 1 && month <= 12 && day >= 1 && day <= daysIn(year, month) &&
    hour <= 23 && minute <= 59 && second <= 59;
  if (!valid) fail("format", `checkpoint time is not a valid date: ${JSON.stringify(time)}`);
}

function parseShardHead(value, what) {
  const obj = exactObject(value, { what, required: ["shard", "size", "root"] });
  return {
    shard: getStr(obj, "shard", what),
    size: getUint(obj, "size", what),
    root: b64decode(obj.root, { what: `${what}.root`, size: HASH_SIZE }),
  };
}

/**
 * The canonical signed bytes of a checkpoint ({origin, shards: [{shard, size, root}], time},
 * roots as bytes), validating every field as the Python verifier's checkpoint_body does.
 */
export function checkpointBody({ origin, shards, time }) {
  if (typeof origin !== "string" || !ORIGIN_RE.test(origin)) {
    fail("format", `invalid checkpoint origin: ${JSON.stringify(origin)}`);
  }
  if (!shards.length) fail("format", "checkpoint must cover at least one shard");
  checkTime(time);
  const lines = [`${HEADER}\n`, `${origin}\n`];
  let previous = null;
  for (const head of shards) {
    if (typeof head.shard !== "string" || !SHARD_RE.test(head.shard)) {
      fail("format", `invalid shard name: ${JSON.stringify(head.shard)}`);
    }
    if (previous !== null && head.shard <= previous) {
      fail("format", "shards must be listed once each, in ascending order");
    }
    lines.push(`shard ${head.shard} ${head.size} ${b64encode(head.root)}\n`);
    previous = head.shard;
  }
  lines.push(`time ${time}\n`);
  return new TextEncoder().encode(lines.join("")); // every character checked is ASCII
}

/** Parse a checkpoint in the verifier's strict shape (`checkpoint_id` allowed if asked). */
function parseCheckpoint(value, { allowId = false } = {}) {
  const what = "checkpoint";
  const obj = exactObject(value, {
    what,
    required: ["origin", "shards", "time", "key_id", "signature"],
    optional: allowId ? ["checkpoint_id"] : [],
  });
  if (!Array.isArray(obj.shards)) fail("format", "checkpoint.shards must be a JSON array");
  const checkpoint = {
    origin: getStr(obj, "origin", what),
    shards: obj.shards.map((item, i) => parseShardHead(item, `checkpoint.shards[${i}]`)),
    time: getStr(obj, "time", what),
    key_id: getStr(obj, "key_id", what),
    signature: b64decode(obj.signature, { what: "checkpoint.signature", size: SIGNATURE_SIZE }),
  };
  checkpoint.body = checkpointBody(checkpoint);
  if (!KEY_ID_RE.test(checkpoint.key_id)) {
    fail("format", `invalid key id: ${JSON.stringify(checkpoint.key_id)}`);
  }
  return checkpoint;
}

function parseEntryResponse(value) {
  const obj = exactObject(value, {
    what: "inclusion response", required: ["entry", "proof"], optional: ["checkpoint"],
  });
  const checkpoint = "checkpoint" in obj ? parseCheckpoint(obj.checkpoint) : null;
  const what = "entry";
  const e = exactObject(obj.entry, { what, required: ["id", "shard", "index", "leaf_hash", "data"] });
  const entry = {
    id: getStr(e, "id", what),
    shard: getShard(e, "shard", what),
    index: getUint(e, "index", what),
    leafHash: b64decode(e.leaf_hash, { what: "entry.leaf_hash", size: HASH_SIZE }),
    data: b64decode(e.data, { what: "entry.data" }),
  };
  if (!Array.isArray(obj.proof)) {
    fail("format", `inclusion response.proof must be a JSON array, got ${typeName(obj.proof)}`);
  }
  if (obj.proof.length > MAX_PROOF_LENGTH) {
    fail("format", `inclusion response.proof has ${obj.proof.length} elements, more than ${MAX_PROOF_LENGTH}`);
  }
  const proof = obj.proof.map((item, i) =>
    b64decode(item, { what: `inclusion response.proof[${i}]`, size: HASH_SIZE }));
  if (checkpoint === null) fail("format", "no checkpoint given for the inclusion proof");
  return { entry, proof, checkpoint };
}

// ---- keys and signatures --------------------------------------------------------------------

/** Key id: lowercase hex of the first 8 bytes of SHA-256 of the raw 32-byte public key. */
export async function keyId(rawPublicKey) {
  return toHex((await sha256(rawPublicKey)).subarray(0, 8));
}

async function importEd25519(raw) {
  try {
    return await subtle().importKey("raw", raw, { name: "Ed25519" }, false, ["verify"]);
  } catch (error) {
    fail("crypto", `this browser's WebCrypto cannot use Ed25519 keys (${error.name})`);
  }
}

/**
 * Import the keys of a `GET /ledger/keys` body ({keys: [{key_id, algorithm, public_key,
 * status}]}; other members are ignored): a Map from key id to CryptoKey. Every listed key
 * verifies, `current` and `retired` alike (a retired key still verifies what it signed).
 */
export async function importKeys(document) {
  const list = document && typeof document === "object" ? document.keys : undefined;
  if (!Array.isArray(list)) fail("keys", "the keys document must be an object with a keys array");
  const keys = new Map();
  for (const [i, item] of list.entries()) {
    if (!item || typeof item !== "object") fail("keys", `keys[${i}] must be an object`);
    if (item.algorithm !== "Ed25519") fail("keys", `keys[${i}] is not an Ed25519 key`);
    const raw = b64decode(item.public_key, { what: `keys[${i}].public_key`, size: 32, step: "keys" });
    const id = await keyId(raw);
    if (item.key_id !== id) fail("keys", `keys[${i}].key_id is not the id of its public key`);
    keys.set(id, await importEd25519(raw));
  }
  return keys;
}

async function checkSignature(checkpoint, keys) {
  const key = keys.get(checkpoint.key_id);
  if (key === undefined) fail("key", `unknown key id ${checkpoint.key_id}`);
  const good = await subtle().verify({ name: "Ed25519" }, key, checkpoint.signature, checkpoint.body);
  if (!good) fail("signature", "checkpoint signature does not verify");
}

function summary(checkpoint) {
  return {
    origin: checkpoint.origin,
    time: checkpoint.time,
    key_id: checkpoint.key_id,
    shards: checkpoint.shards.map((h) => ({ shard: h.shard, size: h.size, root: b64encode(h.root) })),
  };
}

async function outcome(check) {
  try {
    return { ok: true, step: null, reason: null, ...(await check()) };
  } catch (error) {
    if (error instanceof LedgerVerifyError) return { ok: false, step: error.step, reason: error.message };
    return { ok: false, step: "internal", reason: String(error) };
  }
}

/**
 * Verify a checkpoint (`GET /ledger/checkpoints/...`, whose `checkpoint_id` is allowed and
 * not signed) against the keys document: {ok, step, reason, checkpoint}.
 */
export async function verifyCheckpoint(checkpointResponse, keysDocument) {
  return outcome(async () => {
    const checkpoint = parseCheckpoint(checkpointResponse, { allowId: true });
    await checkSignature(checkpoint, await importKeys(keysDocument));
    return { checkpoint: summary(checkpoint) };
  });
}

function checkEvent(data, eventId) {
  // The proof covers the bytes, not entry.id: the bytes must be the event that was asked for.
  let event = null;
  try {
    event = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(data));
  } catch {
    fail("event", "the entry's bytes are not an event");
  }
  const id = event && typeof event === "object" && ("marked" in event ? event.event_id : event.id);
  if (id !== eventId) fail("event", `the entry is event ${JSON.stringify(id)}, not ${eventId}`);
}

/**
 * Verify an entry response (`GET /ledger/entries/{event_id}`) against the keys document
 * (`GET /ledger/keys`), in the Python verifier's order: {ok, step, reason}, and when ok the
 * entry ({id, shard, index, data: the entry's exact bytes}) and the checkpoint it is under.
 * With `eventId`, the verified bytes must also be that event (step "event").
 */
export async function verifyEntry(entryResponse, keysDocument, { eventId } = {}) {
  return outcome(async () => {
    const { entry, proof, checkpoint } = parseEntryResponse(entryResponse);
    const keys = await importKeys(keysDocument);
    await checkSignature(checkpoint, keys);
    if (!equalBytes(await leafHash(entry.data), entry.leafHash)) {
      fail("leaf", "entry.leaf_hash is not the leaf hash of entry.data");
    }
    const head = checkpoint.shards.find((h) => h.shard === entry.shard);
    if (head === undefined) fail("shard", `checkpoint does not cover shard ${entry.shard}`);
    await verifyInclusion({
      leafHash: entry.leafHash, index: entry.index, treeSize: head.size, proof, root: head.root,
    });
    if (eventId !== undefined) checkEvent(entry.data, eventId);
    return {
      entry: { id: entry.id, shard: entry.shard, index: entry.index, data: entry.data },
      checkpoint: summary(checkpoint),
    };
  });
}

async function getJson(url, headers) {
  let response;
  try {
    response = await fetch(url, { headers, credentials: "omit", mode: "cors" });
  } catch (error) {
    fail("fetch", `${url} could not be fetched (${error.message})`);
  }
  if (!response.ok) fail("fetch", `${url} answered ${response.status}`);
  try {
    return await response.json();
  } catch {
    fail("format", `${url} did not answer JSON`);
  }
}

/**
 * Fetch an entry and the keys from the audit (`auditUrl`, e.g. "https://audit.example") with
 * the user's platform token, then verify them (the bytes must be event `eventId`):
 * verifyEntry's result (step "fetch" when a
 * request fails: 401 bad token, 404 not this user's entry, 409 not yet under a checkpoint).
 */
export async function fetchAndVerify({ auditUrl, eventId, subject, token }) {
  return outcome(async () => {
    const base = auditUrl.replace(/\/+$/, "");
    const query = subject ? `?subject=${encodeURIComponent(subject)}` : "";
    const entryUrl = `${base}/ledger/entries/${encodeURIComponent(eventId)}${query}`;
    const [entry, keys] = await Promise.all([
      getJson(entryUrl, { Authorization: `Bearer ${token}` }),
      getJson(`${base}/ledger/keys`, {}),
    ]);
    const result = await verifyEntry(entry, keys, { eventId });
    if (!result.ok) throw new LedgerVerifyError(result.step, result.reason);
    return { entry: result.entry, checkpoint: result.checkpoint };
  });
}
