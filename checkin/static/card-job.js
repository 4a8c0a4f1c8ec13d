// Shows a print job's progress until its PDF is ready.
(function () {
  "use strict";
  const job = document.getElementById("job");
  if (!job) return;
  const bar = document.getElementById("job-progress");
  const count = document.getElementById("job-count");
  async function poll() {
    const response = await fetch(job.dataset.state, { credentials: "same-origin" });
    if (!response.ok) return setTimeout(poll, 2000);
    const state = await response.json();
    bar.value = state.done;
    count.textContent = state.done + " / " + state.total;
    document.getElementById("job-ready").hidden = state.status !== "done";
    document.getElementById("job-failed").hidden = state.status !== "failed";
    if (state.status === "running") setTimeout(poll, 700);
  }
  poll();
})();
