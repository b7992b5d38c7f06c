// Shrinks a photo in the browser, before Gradio uploads it, to the picture Run would send the
// API anyway. Installed by a load hook (see shrink.py, which explains why it works this way and
// fills in __CONFIG__ from the app's settings). Anything unexpected hands Gradio the visitor's
// original file, and the server prepares it exactly as it prepares any upload.
() => {
  if (window.__tryonShrink) return;
  const config = __CONFIG__;
  // Set either way once this hook has run (null: this browser's uploads go as they are).
  window.__tryonShrink = null;
  try {
    new DataTransfer(); // no DataTransfer, no way to hand a new file over: leave uploads alone
    if (typeof HTMLCanvasElement.prototype.toBlob !== "function") return;
  } catch (error) {
    return;
  }
  const stats = { shrunk: 0, kept: 0, failed: 0 };
  const ours = new WeakSet(); // events this script dispatched: let through untouched
  const pending = new WeakMap(); // component -> the latest choice being shrunk for it

  // Run's sizing rule (target size, tryon_demo/pictures), to the pixel: Python rounds half to even.
  function roundHalfEven(x) {
    const floor = Math.floor(x);
    const fraction = x - floor;
    if (fraction !== 0.5) return Math.round(x);
    return floor % 2 === 0 ? floor : floor + 1;
  }
  function plan(width, height) {
    const long = Math.max(width, height);
    if (!config.maxLongSide || long <= config.maxLongSide) return [width, height];
    const scale = Math.max(config.maxLongSide / long, config.minSide / Math.min(width, height));
    if (scale >= 1) return [width, height];
    return [Math.max(1, roundHalfEven(width * scale)), Math.max(1, roundHalfEven(height * scale))];
  }

  function loadImage(blob) {
    return new Promise((resolve, reject) => {
      const url = URL.createObjectURL(blob);
      const image = new Image();
      image.onload = () => resolve({ image, url });
      image.onerror = () => {
        URL.revokeObjectURL(url);
        reject(new Error("the browser cannot decode this picture"));
      };
      image.src = url;
    });
  }

  // Browsers since 2020 turn a photo upright by its EXIF orientation when they draw it; an
  // older one would send it sideways. So a tiny picture stored on its side (orientation 6) is
  // drawn once each way the page may draw a photo, to find out which ways are safe.
  const probe = () => new Blob([Uint8Array.from(atob(config.probe), (c) => c.charCodeAt(0))]);
  function drawnUpright(source) {
    const [width, height] = config.probeUpright;
    const canvas = document.createElement("canvas");
    canvas.width = width;
    canvas.height = height;
    const context = canvas.getContext("2d");
    context.drawImage(source, 0, 0, width, height);
    const top = context.getImageData(width >> 1, height >> 2, 1, 1).data[0];
    const bottom = context.getImageData(width >> 1, (3 * height) >> 2, 1, 1).data[0];
    return config.probeDarkTop ? top < 96 && bottom > 160 : top > 160 && bottom < 96;
  }
  const upright = (async () => {
    const { image, url } = await loadImage(probe());
    try {
      const [width, height] = config.probeUpright;
      return image.naturalWidth === width && image.naturalHeight === height && drawnUpright(image);
    } finally {
      URL.revokeObjectURL(url);
    }
  })().catch(() => false);
  // Chromium and Firefox can also decode and resize in one step, off the page's main thread, so
  // the page stays responsive while a phone works (and a little sooner, and a little closer to
  // the server's Lanczos); the same probe says whether that way turns pictures upright too.
  const resizeOptions = (width, height) => ({
    imageOrientation: "from-image",
    resizeWidth: width,
    resizeHeight: height,
    resizeQuality: "high",
  });
  const resizesUpright = (async () => {
    const [width, height] = config.probeUpright;
    const bitmap = await createImageBitmap(probe(), resizeOptions(width, height));
    try {
      return bitmap.width === width && bitmap.height === height && drawnUpright(bitmap);
    } finally {
      bitmap.close();
    }
  })().catch(() => false);

  // The photo decoded and resized to ``width`` x ``height`` in one step, or null where the
  // browser cannot (the page then draws the decoded <img> at that size itself).
  async function resized(file, width, height) {
    if (!(await resizesUpright)) return null;
    try {
      const bitmap = await createImageBitmap(file, resizeOptions(width, height));
      if (bitmap.width === width && bitmap.height === height) return bitmap;
      bitmap.close();
    } catch (error) {
      // drawn from the <img> instead
    }
    return null;
  }

  // Only what the browser draws exactly as the server reads it: a still JPEG (colour or grey),
  // and a still PNG or WebP without EXIF (whose orientation browsers and Pillow may not read
  // alike). Anything else (HEIC, GIF, CMYK, animations) goes as it is, for the server.
  async function isPlainPhoto(file) {
    const head = new Uint8Array(await file.slice(0, 262144).arrayBuffer());
    const text = (from, to) => String.fromCharCode(...head.subarray(from, to));
    if (head[0] === 0xff && head[1] === 0xd8) return [1, 3].includes(jpegComponents(head));
    if (text(1, 4) === "PNG") return stillPng(head, text);
    if (text(0, 4) === "RIFF" && text(8, 12) === "WEBP") {
      return !(text(12, 16) === "VP8X" && head[20] & 0x0a); // the animation and EXIF flags
    }
    return false;
  }

  function jpegComponents(head) {
    // Walk the markers to the frame header, which says how many colour components there are.
    let at = 2;
    while (at + 9 < head.length && head[at] === 0xff) {
      const marker = head[at + 1];
      if (marker === 0xff) {
        at += 1; // fill byte
        continue;
      }
      if (marker >= 0xc0 && marker <= 0xcf && ![0xc4, 0xc8, 0xcc].includes(marker)) {
        return head[at + 9];
      }
      at += 2 + ((head[at + 2] << 8) | head[at + 3]);
    }
    return 0;
  }

  function stillPng(head, text) {
    // An animation (acTL) and EXIF (eXIf) come before the first image data (IDAT).
    for (let at = 8; at + 8 <= head.length; ) {
      const length = ((head[at] << 24) | (head[at + 1] << 16) | (head[at + 2] << 8) | head[at + 3]) >>> 0;
      const type = text(at + 4, at + 8);
      if (type === "acTL" || type === "eXIf") return false;
      if (type === "IDAT") return true;
      at += 12 + length;
    }
    return false;
  }

  // The picture Run would send, as a JPEG file, or null when the original should go as it is:
  // nothing to shrink, or one the server refuses or treats apart (too large, too many pixels,
  // not a plain photo), so its refusals and notes stay exactly what they are today.
  async function shrink(file) {
    if (file.size > config.maxBytes || !(await isPlainPhoto(file)) || !(await upright)) {
      return null;
    }
    const { image, url } = await loadImage(file);
    try {
      const width = image.naturalWidth;
      const height = image.naturalHeight;
      if (!width || !height || width * height > config.maxPixels) return null;
      const [newWidth, newHeight] = plan(width, height);
      if (newWidth === width && newHeight === height) return null;
      const source = (await resized(file, newWidth, newHeight)) || image;
      const canvas = document.createElement("canvas");
      canvas.width = newWidth;
      canvas.height = newHeight;
      const context = canvas.getContext("2d", { alpha: false });
      context.fillStyle = "#ffffff"; // transparency onto white, as the server flattens it
      context.fillRect(0, 0, newWidth, newHeight);
      context.imageSmoothingEnabled = true;
      context.imageSmoothingQuality = "high";
      context.drawImage(source, 0, 0, newWidth, newHeight);
      if (source !== image) source.close();
      const blob = await new Promise((resolve) =>
        canvas.toBlob(resolve, "image/jpeg", config.quality),
      );
      canvas.width = canvas.height = 0; // hand the pixels back now, not at collection
      if (!blob || blob.type !== "image/jpeg" || blob.size >= file.size) return null;
      const stem = (file.name || "photo").replace(/\.[^.]*$/, "") || "photo";
      return new File([blob], `${stem}.jpg`, { type: "image/jpeg", lastModified: Date.now() });
    } finally {
      URL.revokeObjectURL(url);
      image.removeAttribute("src");
    }
  }

  async function shrinkOrKeep(file) {
    try {
      const smaller = await shrink(file);
      stats[smaller ? "shrunk" : "kept"] += 1;
      return smaller || file;
    } catch (error) {
      stats.failed += 1;
      console.warn("Photo not shrunk in the browser; the original is uploaded.", error);
      return file;
    }
  }

  // Gradio may draw a component anew while its photo is being shrunk (a language switch hides
  // and shows the lookbook's gallery): the file then goes to the component as drawn now,
  // found by its id, once it is back on the page.
  async function drawnNow(component) {
    for (let waited = 0; waited <= 5000; waited += 100) {
      if (component.isConnected) return component;
      const again = component.id ? document.getElementById(component.id) : null;
      if (again) return again;
      await new Promise((done) => setTimeout(done, 100));
    }
    return null;
  }

  // Shrinks ``files`` one at a time (a phone holds one decoded photo, not all), then gives the
  // result to ``deliver`` with the component as drawn then; after the time limit the originals
  // go instead, so a stuck decode never leaves the visitor waiting. A newer choice for the
  // same component wins.
  async function handOver(component, files, deliver) {
    const token = {};
    pending.set(component, token);
    component.classList.add("tryon-shrinking");
    component.setAttribute("aria-busy", "true");
    const work = (async () => {
      const chosen = [];
      for (const file of files) chosen.push(await shrinkOrKeep(file));
      return chosen;
    })();
    let timer;
    const late = new Promise((resolve) => {
      timer = setTimeout(() => resolve(null), config.timeoutMs);
    });
    const chosen = (await Promise.race([work, late])) || files;
    clearTimeout(timer);
    if (pending.get(component) !== token) return;
    pending.delete(component);
    component.classList.remove("tryon-shrinking");
    component.removeAttribute("aria-busy");
    const now = await drawnNow(component);
    if (now) deliver(chosen, now);
  }

  function fileList(files) {
    const transfer = new DataTransfer();
    for (const file of files) transfer.items.add(file);
    return transfer;
  }

  // Hands files over as a drop on ``target``, the way Gradio receives any dropped file.
  function dropOn(target, files) {
    const drop = new DragEvent("drop", {
      bubbles: true,
      cancelable: true,
      composed: true,
      dataTransfer: fileList(files),
    });
    ours.add(drop);
    target.dispatchEvent(drop);
  }

  // Where the component listens for dropped files (Gradio's Image: its upload container).
  function dropZone(component) {
    return component.querySelector(".upload-container") || component;
  }

  function componentOf(node) {
    return node instanceof Element ? node.closest(`.${config.className}`) : null;
  }

  function images(list) {
    return Array.from(list || []).filter((file) => file.type === "" || file.type.startsWith("image/"));
  }

  // Each listener runs in the capture phase on the window, so it sees the visitor's choice
  // before any of Gradio's own listeners, holds it back while the photo is shrunk, then
  // passes the smaller file on through the same door.
  window.addEventListener(
    "change",
    (event) => {
      const input = event.target;
      if (ours.has(event) || !(input instanceof HTMLInputElement) || input.type !== "file") return;
      const component = componentOf(input);
      const files = Array.from(input.files || []);
      if (!component || files.length === 0) return;
      event.stopImmediatePropagation();
      handOver(component, files, (chosen, now) => {
        const target = input.isConnected ? input : now.querySelector("input[type=file]");
        if (!target) return;
        target.files = fileList(chosen).files;
        const change = new Event("change", { bubbles: true });
        ours.add(change);
        target.dispatchEvent(change);
      });
    },
    true,
  );

  window.addEventListener(
    "drop",
    (event) => {
      const component = componentOf(event.target);
      const files = Array.from(event.dataTransfer?.files || []);
      if (ours.has(event) || !component || files.length === 0) return;
      event.preventDefault();
      event.stopImmediatePropagation();
      const target = event.target;
      handOver(component, files, (chosen, now) =>
        dropOn(target.isConnected ? target : dropZone(now), chosen),
      );
    },
    true,
  );

  // Gradio's "Paste from clipboard" source reads the clipboard itself, so its button is taken
  // over: the clipboard is read here, the picture shrunk and dropped on the component.
  async function clipboardImages() {
    const found = [];
    for (const item of await navigator.clipboard.read()) {
      const type = item.types.find((kind) => kind.startsWith("image/"));
      if (type) {
        const blob = await item.getType(type);
        found.push(new File([blob], `clipboard.${type.slice(6)}`, { type }));
        break;
      }
    }
    return found;
  }

  window.addEventListener(
    "click",
    (event) => {
      const component = componentOf(event.target);
      const button = event.target instanceof Element ? event.target.closest("button") : null;
      if (!component || !button || !navigator.clipboard?.read) return;
      if (!button.matches(config.pasteButton)) return;
      event.preventDefault();
      event.stopImmediatePropagation();
      clipboardImages().then(
        (files) => {
          if (files.length) handOver(component, files, (chosen, now) => dropOn(dropZone(now), chosen));
        },
        (error) => console.warn("The clipboard could not be read.", error),
      );
    },
    true,
  );

  // Ctrl+V / Cmd+V on a component that has the focus: the same, from the paste event's data.
  window.addEventListener(
    "paste",
    (event) => {
      const component = componentOf(event.target);
      const files = images(event.clipboardData?.files);
      if (!component || files.length === 0) return;
      event.preventDefault();
      event.stopImmediatePropagation();
      handOver(component, files.slice(0, 1), (chosen, now) => dropOn(dropZone(now), chosen));
    },
    true,
  );

  // For tests and the curious: the rule, what happened so far, and which way photos are drawn.
  window.__tryonShrink = { plan, stats, resizesWhileDecoding: resizesUpright };
}
