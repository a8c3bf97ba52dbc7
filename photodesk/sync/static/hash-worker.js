// Hashes picked files off the main thread, so the page stays responsive on a phone.

import { sha1File } from "./sha1.js";

self.onmessage = async (event) => {
  const { id, file } = event.data;
  try {
    let last = 0;
    const sha1 = await sha1File(file, (done) => {
      const now = Date.now();
      if (now - last > 100) {
        last = now;
        self.postMessage({ id, done });
      }
    });
    self.postMessage({ id, sha1 });
  } catch (e) {
    self.postMessage({ id, error: String(e && e.message ? e.message : e) });
  }
};
