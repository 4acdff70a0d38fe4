// Paperline: make Panel's FileDropper keep accepting files after the first ones.
// Panel's FilePond `process` handler reports a one-chunk file as loaded before FilePond has finished
// starting the transfer, so FilePond never marks it complete, never frees its upload slot (two by
// default), and every later file waits forever as "Uploading". Deferring `load`/`error` by one tick lets
// FilePond record the start first. FilePond also fails to start files it queued while its slots were busy, so
// nothing is queued (every file starts at once; the server keys chunks by file name), and each finished file
// is cleared from the list once Paperline's upload list shows it. Previews are switched off: a
// PDF need not be rendered in the browser to be uploaded.
// Checked against Panel 1.9.4 (its FileDropper's `process` handler in panel/models/file_dropper.ts, compiled into
// panel/dist/panel.min.js) and the FilePond 4.32.12 it bundles; Panel is pinned to 1.9.x in pyproject.toml and
// tests/unit/test_patches.py fails the day `FilePond.create` or that handler's arguments change, or FilePond leaves
// major version 4. We found no upstream issue for either fault.
(function paperlineFilePondFix() {
  if (!window.FilePond || !window.FilePond.create) {
    setTimeout(paperlineFilePondFix, 5);
    return;
  }
  if (window.FilePond.__paperlineFix) return;
  const create = window.FilePond.create;
  window.FilePond.create = function (element, options) {
    options = Object.assign({ allowImagePreview: false, allowPdfPreview: false }, options || {}, {
      maxParallelUploads: 1000,
      allowMinimumUploadDuration: false,
    });
    const server = options.server;
    if (server && typeof server.process === "function") {
      const process = server.process;
      const later = (fn) => (...args) => setTimeout(() => fn(...args), 0);
      options.server = Object.assign({}, server, {
        process: (field, file, metadata, load, error, progress, abort, transfer, opts) => {
          const handle = process(field, file, metadata, later(load), later(error), progress, abort, transfer, opts);
          return handle && typeof handle.abort === "function" ? handle : { abort: () => {} };
        },
      });
    }
    let pond = null;
    const onprocessfile = options.onprocessfile;
    // A finished file leaves the drop area once the upload list shows it (no moment with the file nowhere on
    // screen), or after LIST_WAIT_MS whatever the server says. Panel renders panes in shadow roots: look in each.
    const LIST_WAIT_MS = 15000;
    const listed = (name) => {
      const look = (root) => {
        for (const item of root.querySelectorAll(".pl-ack")) {
          if ((item.textContent || "").includes(name)) return true;
        }
        for (const node of root.querySelectorAll("*")) {
          if (node.shadowRoot && look(node.shadowRoot)) return true;
        }
        return false;
      };
      return look(document);
    };
    options.onprocessfile = (error, file) => {
      if (onprocessfile) onprocessfile(error, file);
      if (error) return;
      const finished = Date.now();
      const leave = () => {
        if (!pond) return;
        if (listed(file.filename) || Date.now() - finished > LIST_WAIT_MS) pond.removeFile(file.id, { revert: false });
        else setTimeout(leave, 250);
      };
      setTimeout(leave, 300);
    };
    pond = create.call(this, element, options);
    return pond;
  };
  window.FilePond.__paperlineFix = true;
})();
