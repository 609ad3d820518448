// Cairn dashboard: the little behaviour the server-rendered pages need. No framework, no build step.
(function () {
  "use strict";
  // Filters that apply on change: a select or checkbox marked data-autosubmit submits its form.
  document.addEventListener("change", function (e) {
    var el = e.target;
    if (el && el.hasAttribute && el.hasAttribute("data-autosubmit") && el.form) el.form.submit();
  });

  var COLORS = {
    pending: "#8a8f98",
    running: "#2f6fdb",
    completed: "#2e9e5b",
    failed: "#d64545",
    cancelled: "#b08a2e",
  };

  function drawRunsChart() {
    var box = document.getElementById("runs-chart");
    var dataEl = document.getElementById("runs-chart-data");
    if (!box || !dataEl || typeof uPlot === "undefined") return;
    var data = JSON.parse(dataEl.textContent || "{}");
    var statuses = Object.keys(data.series || {});
    var columns = [data.hours].concat(
      statuses.map(function (s) {
        return data.series[s];
      }),
    );
    var opts = {
      width: Math.max(320, box.clientWidth || 800),
      height: 220,
      series: [{}].concat(
        statuses.map(function (s) {
          return { label: s, stroke: COLORS[s] || "#555", width: 2, points: { show: true, size: 4 } };
        }),
      ),
      axes: [{}, { label: "runs" }],
      scales: { x: { time: true } },
    };
    box.textContent = "";
    new uPlot(opts, columns, box);
    box.setAttribute("data-drawn", "1");
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", drawRunsChart);
  else drawRunsChart();
})();
