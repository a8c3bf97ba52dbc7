// A small tus 1.0 client: create, PATCH in chunks, and after a dropped connection ask the server
// (HEAD) where it got to and continue. Upload URLs are kept in localStorage by SHA-1 and size, so
// picking the same file again later resumes it too.

import { canUseSubtle, sha1Base64 } from "./sha1.js";

const RESULT_STATUS = "Photodesk-Upload-Status";
const RESULT_ASSET = "Photodesk-Asset-Id";
const RESULT_ERROR = "Photodesk-Upload-Error";
const BACKOFF_MS = [500, 1000, 2000, 4000, 8000, 15000, 30000];

export class UploadError extends Error {
  constructor(message, status = 0) {
    super(message);
    this.status = status;
  }
}

class NetworkError extends Error {}

function send(method, url, headers, body, onUpload) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open(method, url);
    xhr.setRequestHeader("Tus-Resumable", "1.0.0");
    for (const [name, value] of Object.entries(headers || {})) xhr.setRequestHeader(name, value);
    if (onUpload) xhr.upload.onprogress = (e) => onUpload(e.loaded);
    xhr.onload = () =>
      resolve({ status: xhr.status, header: (n) => xhr.getResponseHeader(n), text: xhr.responseText });
    xhr.onerror = () => reject(new NetworkError("the connection to the server was lost"));
    xhr.ontimeout = xhr.onerror;
    xhr.onabort = () => reject(new NetworkError("the request was aborted"));
    xhr.send(body ?? null);
  });
}

function messageOf(response) {
  try {
    const body = JSON.parse(response.text);
    if (body && body.message) return body.message;
  } catch (_) { /* not JSON */ }
  return `the server answered ${response.status}`;
}

function resultOf(response) {
  const status = response.header(RESULT_STATUS);
  if (!status) return null;
  const asset = response.header(RESULT_ASSET);
  const error = response.header(RESULT_ERROR);
  return {
    status,
    assetId: asset ? Number(asset) : null,
    error: error ? decodeURIComponent(error) : null,
  };
}

function encodeMetadata(meta) {
  return Object.entries(meta)
    .filter(([, v]) => v !== undefined && v !== null && v !== "")
    .map(([k, v]) => `${k} ${btoa(unescape(encodeURIComponent(String(v))))}`)
    .join(",");
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function storageKey(sha1, size) {
  return `photodesk.tus.${sha1}.${size}`;
}

// Upload one File; resolves to {status: created|duplicate|rejected, assetId, error}.
export async function tusUpload({
  endpoint,
  file,
  sha1,
  metadata = {},
  chunkSize = 8 * 1024 * 1024,
  maxRetries = BACKOFF_MS.length,
  onProgress = () => {},
  storage = globalThis.localStorage,
}) {
  const key = storageKey(sha1, file.size);
  let url = storage.getItem(key);
  let offset = 0;

  async function askOffset() {
    const r = await send("HEAD", url);
    if (r.status === 200) return { offset: Number(r.header("Upload-Offset")), result: resultOf(r) };
    if (r.status === 404 || r.status === 410) return null;
    throw new UploadError(messageOf(r), r.status);
  }

  const finish = (result) => {
    storage.removeItem(key);
    onProgress(file.size);
    return result;
  };

  if (url) {
    const known = await askOffset().catch((e) => {
      if (e instanceof NetworkError) throw new UploadError(e.message);
      throw e;
    });
    if (known === null) {
      storage.removeItem(key);
      url = null;
    } else if (known.result) {
      return finish(known.result);
    } else {
      offset = known.offset;
    }
  }
  if (!url) {
    let r;
    try {
      r = await send("POST", endpoint, {
        "Upload-Length": String(file.size),
        "Upload-Metadata": encodeMetadata({ ...metadata, filename: file.name, filetype: file.type }),
      });
    } catch (e) {
      throw new UploadError(e.message);
    }
    if (r.status !== 201) throw new UploadError(messageOf(r), r.status);
    url = new URL(r.header("Location"), new URL(endpoint, location.href)).href;
    storage.setItem(key, url);
    const result = resultOf(r);
    if (result) return finish(result);
    offset = 0;
  }
  onProgress(offset);

  let failures = 0;
  for (;;) {
    const end = Math.min(offset + chunkSize, file.size);
    const chunk = file.slice(offset, end);
    const headers = {
      "Upload-Offset": String(offset),
      "Content-Type": "application/offset+octet-stream",
    };
    if (canUseSubtle()) headers["Upload-Checksum"] = `sha1 ${await sha1Base64(await chunk.arrayBuffer())}`;
    let r = null;
    try {
      const base = offset;
      r = await send("PATCH", url, headers, chunk, (loaded) => onProgress(base + loaded));
    } catch (e) {
      if (!(e instanceof NetworkError)) throw e;
    }
    if (r !== null) {
      const result = resultOf(r);
      if (result) return finish(result);
      if (r.status === 204) {
        offset = Number(r.header("Upload-Offset"));
        failures = 0;
        onProgress(offset);
        continue;
      }
      if (r.status === 404 || r.status === 410) storage.removeItem(key);
      if (![409, 423, 460].includes(r.status) && r.status < 500) {
        throw new UploadError(messageOf(r), r.status);
      }
    }
    // The connection dropped, or the server and we disagree: ask where it is, then go on.
    failures += 1;
    if (failures > maxRetries) {
      throw new UploadError("the connection keeps failing; pick the file again later to resume");
    }
    await sleep(BACKOFF_MS[Math.min(failures, BACKOFF_MS.length) - 1]);
    try {
      const known = await askOffset();
      if (known === null) {
        storage.removeItem(key);
        throw new UploadError("the server no longer has this upload; pick the file again", 404);
      }
      if (known.result) return finish(known.result);
      offset = known.offset;
      onProgress(offset);
    } catch (e) {
      if (!(e instanceof NetworkError)) throw e;
    }
  }
}
