#pragma once
// The status page served at / of a node's metrics endpoint: plain HTML and a little JavaScript
// that reads /status.json every second and shows what `nodus node show` shows. Every value is
// put in the page as text (textContent), never as HTML.

#include <string_view>

namespace nodus::cli::daemon {

inline constexpr std::string_view status_page_html = R"html(<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>nodus node</title>
<style>
  body { font: 14px system-ui, sans-serif; margin: 2em; color: #222; }
  h1 { font-size: 1.4em; } h2 { font-size: 1.1em; margin-top: 1.5em; }
  table { border-collapse: collapse; } td, th { border: 1px solid #ccc; padding: 2px 8px; text-align: left; }
  th { background: #f4f4f4; } .none { color: #888; } #error { color: #b00; }
</style>
</head>
<body>
<h1 id="title">nodus node</h1>
<p id="summary"></p>
<p id="error"></p>
<div id="sections"></div>
<script>
const sections = [
  ["tcp_listeners", "TCP listeners", ["address", "expose"]],
  ["tcp_connections", "TCP connections", ["peer", "outgoing", "worker"]],
  ["relays", "Relays", ["name", "relay", "state", "at", "registrations", "last_error"]],
  ["secure_channel_listeners", "Secure channel listeners", ["address", "authorized", "trust_everyone", "channels"]],
  ["secure_channels", "Secure channels", ["address", "peer", "initiator", "open", "sent", "delivered", "missing", "rejected"]],
  ["tcp_outlets", "TCP outlets", ["address", "to", "connections_open", "connections_total", "bytes_in", "bytes_out"]],
  ["tcp_inlets", "TCP inlets", ["from", "via", "to", "connections_open", "connections_total", "bytes_in", "bytes_out"]],
];
function cell(row, text, tag) {
  const c = document.createElement(tag || "td");
  c.textContent = typeof text === "string" ? text : JSON.stringify(text);
  row.appendChild(c);
}
function render(node) {
  document.getElementById("title").textContent = "nodus node " + node.name;
  document.getElementById("summary").textContent =
    "identifier " + node.identifier + " · pid " + node.pid + " · started " + node.started_at + " · " + node.workers + " workers";
  const out = document.getElementById("sections");
  out.replaceChildren();
  for (const [key, title, fields] of sections) {
    const h = document.createElement("h2");
    h.textContent = title;
    out.appendChild(h);
    const list = node[key] || [];
    if (list.length === 0) {
      const p = document.createElement("p");
      p.className = "none";
      p.textContent = "none";
      out.appendChild(p);
      continue;
    }
    const table = document.createElement("table");
    table.id = key;
    const head = document.createElement("tr");
    fields.forEach(f => cell(head, f, "th"));
    table.appendChild(head);
    for (const item of list) {
      const row = document.createElement("tr");
      fields.forEach(f => cell(row, item[f] === undefined || item[f] === null ? "" : item[f]));
      table.appendChild(row);
    }
    out.appendChild(table);
  }
}
async function refresh() {
  try {
    const r = await fetch("/status.json", {cache: "no-store"});
    render(await r.json());
    document.getElementById("error").textContent = "";
  } catch (e) {
    document.getElementById("error").textContent = "the node does not answer: " + e;
  }
}
refresh();
setInterval(refresh, 1000);
</script>
</body>
</html>
)html";

}  // namespace nodus::cli::daemon
