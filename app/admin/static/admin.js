// Small touches for every admin page: UTC instants shown in the browser's local time, and
// live queue figures (person-group list) refreshed from the dashboard JSON.
(function () {
  function localize(root) {
    root.querySelectorAll("time[data-local-time]").forEach(function (el) {
      var when = new Date(el.getAttribute("datetime"));
      if (isNaN(when)) return;
      el.title = el.getAttribute("datetime");
      var options = { month: "short", day: "numeric", hour: "numeric", minute: "2-digit" };
      if (when.getFullYear() !== new Date().getFullYear()) options.year = "numeric";
      el.textContent = el.hasAttribute("data-time-only")
        ? when.toLocaleTimeString()
        : when.toLocaleString(undefined, options);
    });
  }
  localize(document);

  var figures = document.querySelectorAll("[data-queue-id][data-figure]");
  if (!figures.length) return;
  var url = (document.querySelector(".navbar-brand") || {}).getAttribute("href") || "/admin";
  url = url.replace(/\/$/, "") + "/dashboard.json";
  function poll() {
    fetch(url, { credentials: "same-origin" }).then(function (r) {
      return r.ok ? r.json() : null;
    }).then(function (data) {
      if (!data) return;
      var byId = {};
      data.queues.forEach(function (q) { byId[q.id] = q; });
      figures.forEach(function (el) {
        var q = byId[el.getAttribute("data-queue-id")];
        if (q) el.textContent = String(q[el.getAttribute("data-figure")]);
      });
    }).catch(function () {}).then(function () { setTimeout(poll, 5000); });
  }
  setTimeout(poll, 5000);
})();
