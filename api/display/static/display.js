/* Station display: polls the hub aggregate and draws the board.
 *
 * Settings come from the <body> data attributes (rendered by the server): data-api (the hub's
 * JSON), data-poll-s (20), data-stale-after-s (60), data-tz (the city's time zone), data-lang.
 * Every word comes from the string table in #display-strings (one table per language).
 * Polls use If-None-Match; a 304 keeps the data. When polls fail the last good data stays up
 * for stale-after-s seconds, then the board gives way to the "data unavailable" notice.
 */
(function () {
  "use strict";

  var body = document.body;
  var T = JSON.parse(document.getElementById("display-strings").textContent);
  var cfg = {
    api: body.dataset.api,
    pollMs: parseFloat(body.dataset.pollS) * 1000,
    staleMs: parseFloat(body.dataset.staleAfterS) * 1000,
    tz: body.dataset.tz,
    lang: body.dataset.lang
  };
  cfg.timeoutMs = Math.max(2000, Math.min(15000, cfg.pollMs));
  var MAX_DEPARTURES = 10;
  var MAX_STATIONS = 3;
  var MAX_CAR_STATIONS = 2;
  var MAX_LOCATIONS = 2;
  var MAX_EVSES = 8;
  var COUNTDOWN_LIMIT_MIN = 30; /* later departures show their clock time */

  var state = { data: null, etag: null, lastOkMs: null, startedMs: Date.now(), lastError: null };

  /* ---- text ---- */

  function fmt(key, vars) {
    var text = T[key] || key;
    Object.keys(vars || {}).forEach(function (k) {
      text = text.split("{" + k + "}").join(String(vars[k]));
    });
    return text;
  }

  var clockFormat = new Intl.DateTimeFormat(cfg.lang === "de" ? "de-DE" : "en-GB", {
    hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZone: cfg.tz
  });

  function clock(value) {
    var d = value instanceof Date ? value : new Date(value);
    return isNaN(d.getTime()) ? "–" : clockFormat.format(d);
  }

  /* ---- colour contrast (WCAG 2.x) ---- */

  function parseHex(hex) {
    var m = /^#?([0-9a-f]{6})$/i.exec(String(hex || "").trim());
    if (!m) { return null; }
    var n = parseInt(m[1], 16);
    return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
  }

  function luminance(rgb) {
    var c = rgb.map(function (v) {
      var s = v / 255;
      return s <= 0.04045 ? s / 12.92 : Math.pow((s + 0.055) / 1.055, 2.4);
    });
    return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
  }

  function contrast(a, b) {
    var la = luminance(a), lb = luminance(b);
    return (Math.max(la, lb) + 0.05) / (Math.min(la, lb) + 0.05);
  }

  /* The badge colours of a line: its route colour, and its text colour when that reaches 4.5:1,
   * else black or white, whichever contrasts more. */
  function badgeColours(color, textColor) {
    var bg = parseHex(color) || [74, 85, 98];
    var fg = parseHex(textColor);
    var hex = function (rgb) {
      return "#" + rgb.map(function (v) { return (256 + v).toString(16).slice(1); }).join("");
    };
    if (fg && contrast(bg, fg) >= 4.5) { return { background: hex(bg), color: hex(fg) }; }
    var black = [0, 0, 0], white = [255, 255, 255];
    var pick = contrast(bg, black) >= contrast(bg, white) ? black : white;
    return { background: hex(bg), color: hex(pick) };
  }

  /* ---- DOM helpers ---- */

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) { node.className = cls; }
    if (text !== undefined && text !== null) { node.textContent = text; }
    return node;
  }

  function icon(name) {
    var ns = "http://www.w3.org/2000/svg";
    var svg = document.createElementNS(ns, "svg");
    svg.setAttribute("aria-hidden", "true");
    var use = document.createElementNS(ns, "use");
    use.setAttribute("href", "#icon-" + name);
    svg.appendChild(use);
    return svg;
  }

  function setStale(section, part) {
    var tag = section.querySelector(".stale-tag");
    var stale = !!(part && part.stale);
    tag.hidden = !stale;
    tag.textContent = stale ? T.stale : "";
  }

  /* ---- departures ---- */

  function departureTime(item, nowMs) {
    var whenMs = new Date(item.when || item.planned_when).getTime();
    var minutes = Math.floor((whenMs - nowMs) / 60000);
    if (item.cancelled) {
      var s = el("s", null, clock(item.planned_when || item.when));
      return s;
    }
    if (minutes <= 0) { return document.createTextNode(T.now); }
    if (minutes < COUNTDOWN_LIMIT_MIN) { return document.createTextNode(fmt("in_min", { n: minutes })); }
    return document.createTextNode(clock(item.when));
  }

  function departureNotes(item, realtime) {
    var notes = [];
    if (item.cancelled) {
      notes.push(["note-cancelled", T.cancelled]);
    } else if (item.delay_s !== null && item.delay_s !== undefined) {
      var d = Math.round(item.delay_s / 60);
      if (d > 0) { notes.push(["note-delay", fmt("delay_min", { n: d })]); }
      else if (d < 0) { notes.push(["note-early", fmt("early_min", { n: -d })]); }
      else if (realtime) { notes.push(["note-ok", T.on_time]); }
    }
    if (!item.cancelled && item.platform && item.planned_platform && item.platform !== item.planned_platform) {
      notes.push(["note-platform", T.platform_changed]);
    }
    return notes;
  }

  function renderDepartures(part, nowMs) {
    var section = document.querySelector(".departures");
    var tbody = section.querySelector("tbody");
    setStale(section, part);
    var items = ((part && part.items) || []).filter(function (item) {
      var whenMs = new Date(item.when || item.planned_when).getTime();
      return !isNaN(whenMs) && whenMs > nowMs - 60000;
    }).slice(0, MAX_DEPARTURES);
    var rows = items.map(function (item) {
      var tr = el("tr", item.cancelled ? "departure cancelled" : "departure");
      var line = item.line || {};
      var colours = badgeColours(line.color, line.text_color);
      var badge = el("span", "badge", line.name || "");
      badge.style.background = colours.background;
      badge.style.color = colours.color;
      var tdLine = el("td", "line");
      tdLine.appendChild(badge);
      tr.appendChild(tdLine);
      tr.appendChild(el("td", "dest", item.direction || item.stop_name || ""));
      var tdTime = el("td", "time");
      tdTime.appendChild(departureTime(item, nowMs));
      tr.appendChild(tdTime);
      var changed = item.platform && item.planned_platform && item.platform !== item.planned_platform;
      tr.appendChild(el("td", changed ? "platform changed" : "platform", item.platform || ""));
      var tdNote = el("td", "note");
      departureNotes(item, part.realtime).forEach(function (note, i) {
        if (i > 0) { tdNote.appendChild(document.createTextNode(" · ")); }
        tdNote.appendChild(el("span", note[0], note[1]));
      });
      tr.appendChild(tdNote);
      return tr;
    });
    tbody.replaceChildren.apply(tbody, rows);
    section.querySelector(".empty").hidden = rows.length > 0;
  }

  /* ---- bikes, cars ---- */

  function stationItem(st, availableKey) {
    var li = el("li", "station");
    li.appendChild(el("span", "name", st.name || st.station_id));
    li.appendChild(el("span", "distance",
      st.distance_m !== undefined && st.distance_m !== null ? fmt("distance_m", { n: Math.round(st.distance_m) }) : ""));
    var counts = el("span", "counts");
    counts.appendChild(el("strong", "vehicles", String(st.vehicles_available)));
    counts.appendChild(document.createTextNode(" " + T[availableKey]));
    if (st.docks_available !== null && st.docks_available !== undefined) {
      counts.appendChild(document.createTextNode(" · "));
      counts.appendChild(el("strong", "docks", String(st.docks_available)));
      counts.appendChild(document.createTextNode(" " + T.docks_available));
    }
    li.appendChild(counts);
    return li;
  }

  function renderOffers(id, part, availableKey, maxStations, extra) {
    var section = document.getElementById(id);
    setStale(section, part);
    var list = section.querySelector(".stations");
    var stations = ((part && part.stations) || []).slice(0, maxStations);
    var items = stations.map(function (st) { return stationItem(st, availableKey); });
    if (!items.length) { items = [el("li", "none", T.no_stations)]; }
    list.replaceChildren.apply(list, items);
    section.querySelector(".extra").textContent = extra || "";
  }

  /* ---- chargers ---- */

  var STATUS_ICON = {
    AVAILABLE: "available", CHARGING: "charging", OUTOFORDER: "out", INOPERATIVE: "out",
    BLOCKED: "blocked", RESERVED: "blocked"
  };

  function renderChargers(part) {
    var section = document.getElementById("chargers");
    setStale(section, part);
    var box = section.querySelector(".locations");
    var locations = ((part && part.locations) || []).slice(0, MAX_LOCATIONS);
    var nodes = [];
    locations.forEach(function (loc) {
      var name = el("p", "location-name", (loc.name || loc.location_id) + " ");
      if (loc.distance_m !== undefined && loc.distance_m !== null) {
        name.appendChild(el("span", "distance", fmt("distance_m", { n: Math.round(loc.distance_m) })));
      }
      nodes.push(name);
      var ul = el("ul", "evses");
      (loc.evses || []).slice(0, MAX_EVSES).forEach(function (evse) {
        var status = String(evse.status || "UNKNOWN").toUpperCase();
        var li = el("li", "evse " + status);
        li.dataset.evse = evse.evse_uid || "";
        li.appendChild(icon(STATUS_ICON[status] || "unknown"));
        li.appendChild(el("span", "status", T["status_" + status] || T.status_UNKNOWN));
        var kw = (evse.connectors || []).reduce(function (m, c) { return Math.max(m, c.max_power_kw || 0); }, 0);
        if (kw > 0) { li.appendChild(el("span", "power", Math.round(kw) + " kW")); }
        ul.appendChild(li);
      });
      nodes.push(ul);
    });
    if (!nodes.length) { nodes = [el("p", "empty", T.no_chargers)]; }
    box.replaceChildren.apply(box, nodes);
  }

  /* ---- the whole board ---- */

  function render() {
    var nowMs = Date.now();
    document.getElementById("clock").textContent = clock(new Date(nowMs));
    var fresh = state.lastOkMs !== null && nowMs - state.lastOkMs <= cfg.staleMs;
    if (!fresh) {
      var waited = nowMs - state.startedMs > cfg.staleMs;
      if (state.data === null && !waited) { body.dataset.state = "loading"; return; }
      body.dataset.state = "unavailable";
      document.getElementById("unavailable-detail").textContent =
        state.data ? fmt("unavailable_detail", { t: clock(state.data.as_of) }) : "";
      return;
    }
    var data = state.data;
    body.dataset.state = "ok";
    if (data.name) { document.getElementById("hub-name").textContent = data.name; }
    document.getElementById("as-of").textContent = fmt("as_of", { t: clock(data.as_of) });
    renderDepartures(data.departures || {}, nowMs);
    var bikes = data.bikes || {};
    renderOffers("bikes", bikes, "bikes_available", MAX_STATIONS,
      bikes.free_floating ? fmt("free_floating", { n: bikes.free_floating }) : "");
    var cars = data.cars || {};
    var vehicles = (cars.vehicles || []).length;
    renderOffers("cars", cars, "cars_available", MAX_CAR_STATIONS,
      vehicles ? fmt("cars_vehicles", { n: vehicles }) : "");
    renderChargers(data.chargers || {});
  }

  function poll() {
    var headers = { Accept: "application/json" };
    if (state.etag && state.data) { headers["If-None-Match"] = state.etag; }
    /* a server that accepts but never answers must not stall the polling */
    var controller = typeof AbortController === "function" ? new AbortController() : null;
    var timer = controller ? window.setTimeout(function () { controller.abort(); }, cfg.timeoutMs) : null;
    fetch(cfg.api, { headers: headers, cache: "no-store", signal: controller ? controller.signal : undefined })
      .then(function (resp) {
        if (resp.status === 304 && state.data) { return null; }
        if (!resp.ok) { throw new Error("HTTP " + resp.status); }
        var etag = resp.headers.get("ETag");
        return resp.json().then(function (doc) { state.etag = etag; return doc; });
      })
      .then(function (doc) {
        if (doc !== null) { state.data = doc; }
        state.lastOkMs = Date.now();
        state.lastError = null;
      })
      .catch(function (err) { state.lastError = String(err); })
      .then(function () {
        if (timer !== null) { window.clearTimeout(timer); }
        render();
        window.setTimeout(poll, cfg.pollMs);
      });
  }

  window.knotenDisplay = { badgeColours: badgeColours, contrast: contrast, parseHex: parseHex, state: state };
  render();
  poll();
  window.setInterval(render, 1000);
})();
