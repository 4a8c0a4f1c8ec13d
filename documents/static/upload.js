// Uploads each chosen file as its own request, with a progress bar per file; without
// JavaScript the form posts the first file the classic way.
(function () {
  "use strict";
  const form = document.getElementById("upload-form");
  if (!form || !window.FormData || !window.XMLHttpRequest) return;
  const list = document.getElementById("upload-progress");
  const csrf = form.querySelector("input[name=_csrf_token]").value;

  function send(file, row) {
    return new Promise(function (resolve) {
      const data = new FormData(form);
      data.delete("file");
      data.delete("_csrf_token");
      data.append("file", file, file.name);
      if (form.elements.title.value && form.elements.file.files.length > 1) {
        data.set("title", form.elements.title.value + " – " + file.name.replace(/\.[^.]+$/, ""));
      }
      const request = new XMLHttpRequest();
      request.open("POST", form.dataset.api);
      request.setRequestHeader("x-csrf-token", csrf);
      request.setRequestHeader("accept", "application/json");
      const bar = row.querySelector("progress");
      const status = row.querySelector(".status");
      request.upload.onprogress = function (event) {
        if (event.lengthComputable) bar.value = event.loaded / event.total;
      };
      request.onload = function () {
        bar.value = 1;
        let body = {};
        try { body = JSON.parse(request.responseText); } catch (e) { /* not JSON */ }
        if (request.status < 300) {
          row.classList.add("done");
          status.textContent = "✓";
        } else {
          row.classList.add("failed");
          status.textContent = body.message || request.statusText;
        }
        resolve(request.status < 300);
      };
      request.onerror = function () {
        row.classList.add("failed");
        status.textContent = "✗";
        resolve(false);
      };
      request.send(data);
    });
  }

  form.addEventListener("submit", async function (event) {
    event.preventDefault();
    list.replaceChildren();
    const files = Array.from(form.elements.file.files);
    const rows = files.map(function (file) {
      const row = document.createElement("li");
      const name = document.createElement("span");
      name.textContent = file.name;
      const bar = document.createElement("progress");
      bar.max = 1;
      bar.value = 0;
      const status = document.createElement("span");
      status.className = "status";
      row.append(name, bar, status);
      list.append(row);
      return row;
    });
    let ok = true;
    for (let i = 0; i < files.length; i++) ok = (await send(files[i], rows[i])) && ok;
    if (ok) location.reload();
  });
})();
