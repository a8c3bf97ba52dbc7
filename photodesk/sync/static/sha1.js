// SHA-1 of a File, in slices: WebCrypto where the page is a secure context, else this incremental
// implementation (plain-HTTP LAN pages have no crypto.subtle). Large videos never load whole.

const SLICE = 4 * 1024 * 1024;
const SUBTLE_MAX = 64 * 1024 * 1024; // crypto.subtle only digests whole buffers

export class Sha1 {
  constructor() {
    this.h = new Int32Array([0x67452301, 0xefcdab89 | 0, 0x98badcfe | 0, 0x10325476, 0xc3d2e1f0 | 0]);
    this.w = new Int32Array(80);
    this.buf = new Uint8Array(64);
    this.bufLen = 0;
    this.total = 0;
  }

  update(data) {
    const n = data.length;
    let i = 0;
    this.total += n;
    if (this.bufLen > 0) {
      const take = Math.min(64 - this.bufLen, n);
      this.buf.set(data.subarray(0, take), this.bufLen);
      this.bufLen += take;
      i = take;
      if (this.bufLen < 64) return this;
      this._block(this.buf, 0);
      this.bufLen = 0;
    }
    for (; i + 64 <= n; i += 64) this._block(data, i);
    if (i < n) {
      this.buf.set(data.subarray(i), 0);
      this.bufLen = n - i;
    }
    return this;
  }

  _block(b, o) {
    const w = this.w;
    const h = this.h;
    for (let t = 0; t < 16; t++) {
      const j = o + t * 4;
      w[t] = (b[j] << 24) | (b[j + 1] << 16) | (b[j + 2] << 8) | b[j + 3];
    }
    for (let t = 16; t < 80; t++) {
      const x = w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16];
      w[t] = (x << 1) | (x >>> 31);
    }
    let a = h[0], bb = h[1], c = h[2], d = h[3], e = h[4], tmp = 0, t = 0;
    // Four loops, one per round function: no branch inside the hot loop.
    for (; t < 20; t++) {
      tmp = (((a << 5) | (a >>> 27)) + ((bb & c) | (~bb & d)) + e + 0x5a827999 + w[t]) | 0;
      e = d; d = c; c = (bb << 30) | (bb >>> 2); bb = a; a = tmp;
    }
    for (; t < 40; t++) {
      tmp = (((a << 5) | (a >>> 27)) + (bb ^ c ^ d) + e + 0x6ed9eba1 + w[t]) | 0;
      e = d; d = c; c = (bb << 30) | (bb >>> 2); bb = a; a = tmp;
    }
    for (; t < 60; t++) {
      tmp = (((a << 5) | (a >>> 27)) + ((bb & c) | (bb & d) | (c & d)) + e - 0x70e44324 + w[t]) | 0;
      e = d; d = c; c = (bb << 30) | (bb >>> 2); bb = a; a = tmp;
    }
    for (; t < 80; t++) {
      tmp = (((a << 5) | (a >>> 27)) + (bb ^ c ^ d) + e - 0x359d3e2a + w[t]) | 0;
      e = d; d = c; c = (bb << 30) | (bb >>> 2); bb = a; a = tmp;
    }
    h[0] = (h[0] + a) | 0;
    h[1] = (h[1] + bb) | 0;
    h[2] = (h[2] + c) | 0;
    h[3] = (h[3] + d) | 0;
    h[4] = (h[4] + e) | 0;
  }

  hex() {
    const saved = [new Int32Array(this.h), this.buf.slice(), this.bufLen, this.total];
    const bits = this.total * 8;
    const pad = new Uint8Array((this.bufLen < 56 ? 64 : 128) - this.bufLen);
    pad[0] = 0x80;
    const view = new DataView(pad.buffer);
    view.setUint32(pad.length - 8, Math.floor(bits / 0x100000000));
    view.setUint32(pad.length - 4, bits >>> 0);
    this.update(pad);
    let out = "";
    for (const word of this.h) out += (word >>> 0).toString(16).padStart(8, "0");
    [this.h, this.buf, this.bufLen, this.total] = saved;
    return out;
  }
}

function toHex(buffer) {
  return Array.from(new Uint8Array(buffer), (x) => x.toString(16).padStart(2, "0")).join("");
}

export function canUseSubtle() {
  return Boolean(globalThis.crypto && crypto.subtle && globalThis.isSecureContext);
}

// onProgress(bytesHashed) is called after every slice.
export async function sha1File(file, onProgress = () => {}, { forceJs = false } = {}) {
  if (!forceJs && canUseSubtle() && file.size <= SUBTLE_MAX) {
    const digest = await crypto.subtle.digest("SHA-1", await file.arrayBuffer());
    onProgress(file.size);
    return toHex(digest);
  }
  const h = new Sha1();
  for (let offset = 0; offset < file.size; offset += SLICE) {
    const part = await file.slice(offset, offset + SLICE).arrayBuffer();
    h.update(new Uint8Array(part));
    onProgress(Math.min(offset + SLICE, file.size));
  }
  return h.hex();
}

export async function sha1Base64(bytes) {
  let raw;
  if (canUseSubtle()) {
    raw = new Uint8Array(await crypto.subtle.digest("SHA-1", bytes));
  } else {
    const hex = new Sha1().update(new Uint8Array(bytes)).hex();
    raw = new Uint8Array(hex.match(/../g).map((x) => parseInt(x, 16)));
  }
  return btoa(String.fromCharCode(...raw));
}
