// Paperline: make Panel's FileDropper keep accepting files after the first ones.
// Panel's FilePond `process` handler reports a one-chunk file as loaded before FilePond has finished
// starting the transfer, so FilePond never marks it complete, never frees its upload slot (two by
// default), and every later file waits forever as "Uploading". Deferring `load`/`error` by one tick lets
// FilePond record the start first. FilePond also fails to start files it queued while its slots were busy, so
// nothing is queued (every file starts at once; the server keys chunks by file name), and each finished file
// is cleared from the list (Paperline's acknowledgement list shows it instead). Previews are switched off: a
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
    options.onprocessfile = (error, file) => {
      if (onprocessfile) onprocessfile(error, file);
      setTimeout(() => {
        if (!pond) return;
        if (!error) pond.removeFile(file.id, { revert: false });
      }, 300);
    };
    pond = create.call(this, element, options);
    return pond;
  };
  window.FilePond.__paperlineFix = true;
})();
