// modelyard dashboard: the few live parts, without a framework.
"use strict";

(function () {
  // Runs table: the compare button counts the ticked runs.
  var compareForm = document.getElementById("compare-form");
  if (compareForm) {
    var button = document.getElementById("compare");
    var update = function () {
      var ticked = compareForm.querySelectorAll("input.pick:checked").length;
      button.disabled = ticked < 2;
      button.textContent = ticked ? "Compare " + ticked + " selected" : "Compare selected";
    };
    compareForm.addEventListener("change", update);
    update();
  }

  // A block with data-poll is replaced by the HTML its URL answers, every 3 s.
  document.querySelectorAll("[data-poll]").forEach(function (block) {
    setInterval(function () {
      fetch(block.dataset.poll, { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.text() : null; })
        .then(function (html) { if (html !== null) { block.innerHTML = html; } })
        .catch(function () { /* the server restarts: try again at the next tick */ });
    }, 3000);
  });

  // Endpoint page: live requests/s and mean latency per variant, from two readings of
  // the gateway's cumulative counters; percentiles, failures (5xx) and refused
  // requests (4xx) as the server computed them.
  var live = document.getElementById("live");
  if (live) {
    var previous = null;
    var read = function () {
      fetch(live.dataset.live, { credentials: "same-origin" })
        .then(function (r) { return r.json(); })
        .then(function (data) {
          var now = Date.now() / 1000;
          data.variants.forEach(function (v) {
            var row = document.querySelector('tr[data-variant="' + CSS.escape(v.variant) + '"]');
            if (!row) { return; }
            var before = previous && previous.values[v.variant];
            if (before) {
              var seconds = Math.max(now - previous.time, 0.001);
              var count = v.latency_count - before.latency_count;
              row.querySelector(".rate").textContent = ((v.requests - before.requests) / seconds).toFixed(1);
              row.querySelector(".latency").textContent =
                count > 0 ? (1000 * (v.latency_sum - before.latency_sum) / count).toFixed(1) + " ms" : "–";
            }
            row.querySelector(".errors").textContent = v.failures.toFixed(0) + " / " + v.requests.toFixed(0);
            row.querySelector(".client-errors").textContent = v.client_errors.toFixed(0);
            row.querySelector(".error-rate").textContent =
              v.error_rate === null ? "–" : (100 * v.error_rate).toFixed(1) + "%";
            ["p50", "p95", "p99"].forEach(function (q) {
              var ms = v.latency_ms[q];
              row.querySelector("." + q).textContent = ms === null ? "–" : ms.toFixed(1) + " ms";
            });
          });
          var values = {};
          data.variants.forEach(function (v) { values[v.variant] = v; });
          previous = { time: now, values: values };
        })
        .catch(function () { /* next tick */ });
    };
    read();
    setInterval(read, 2000);
  }

  // Compare page: Plotly charts from the JSON the server rendered into the page.
  window.addEventListener("load", function () {
    var source = document.getElementById("chart-data");
    if (!source || typeof Plotly === "undefined") { return; }
    var charts = JSON.parse(source.textContent);
    var layout = function (x, y) {
      return { margin: { t: 20, r: 20 }, xaxis: { title: { text: x } }, yaxis: { title: { text: y } } };
    };
    var config = { displaylogo: false, responsive: true };
    var curves = function () {
      var key = document.getElementById("curve-metric").value;
      var traces = (charts.curves[key] || []).map(function (c) {
        return { x: c.steps, y: c.values, name: c.run, mode: "lines+markers", type: "scatter" };
      });
      Plotly.react("curves", traces, layout("step", key), config);
    };
    var scatter = function () {
      var param = document.getElementById("scatter-param").value;
      var metric = document.getElementById("scatter-metric").value;
      var traces = charts.runs.map(function (r) {
        return { x: [r.params[param]], y: [r.metrics[metric]], name: r.name, mode: "markers",
                 type: "scatter", marker: { size: 12 } };
      });
      Plotly.react("scatter", traces, layout(param, metric), config);
    };
    var parallel = function () {
      var dimensions = [];
      charts.params.concat(charts.metrics).forEach(function (key) {
        var isMetric = charts.metrics.indexOf(key) >= 0;
        var raw = charts.runs.map(function (r) { return isMetric ? r.metrics[key] : r.params[key]; });
        var numbers = raw.map(function (v) { return v === undefined ? NaN : Number(v); });
        if (numbers.every(function (v) { return !isNaN(v); })) {
          dimensions.push({ label: key, values: numbers });
        } else {
          var labels = Array.from(new Set(raw.map(String)));
          dimensions.push({ label: key, values: raw.map(function (v) { return labels.indexOf(String(v)); }),
                            tickvals: labels.map(function (_, i) { return i; }), ticktext: labels });
        }
      });
      var colour = charts.runs.map(function (_, i) { return i; });
      Plotly.react("parallel", [{ type: "parcoords", dimensions: dimensions.slice(0, 30),
                                  line: { color: colour, colorscale: "Viridis" } }],
                   { margin: { t: 40, l: 60, r: 60 } }, config);
    };
    ["curve-metric"].forEach(function (id) { document.getElementById(id).addEventListener("change", curves); });
    ["scatter-param", "scatter-metric"].forEach(function (id) {
      document.getElementById(id).addEventListener("change", scatter);
    });
    if (charts.metrics.length) { curves(); }
    if (charts.metrics.length && charts.params.length) { scatter(); }
    if (charts.runs.length) { parallel(); }
  });
})();
