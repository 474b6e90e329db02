/* Inference Chip Wars: fit every Altair chart to its column, then draw it with vega-embed.
 *
 * The book's renderer (inference_wars/charts.py) emits iwEmbed(el, spec). Here:
 *  - single and layered charts take the width of their column (width "container");
 *  - faceted charts share the column, or stack their panels on a narrow screen;
 *  - on a narrow screen legends move below the chart and long labels are limited;
 *  - long titles, subtitles and axis titles wrap instead of widening the chart;
 *  - usermeta.iw_axis_titles = {y: "<vega expression>"} makes an axis title follow a menu.
 * Rendered views are kept in window.__iwViews for the browser tests.
 */
(function () {
  "use strict";
  var CHAR_W = 0.56; // average glyph width as a fraction of the font size

  function wrap(text, maxChars) {
    if (typeof text !== "string" || text.length <= maxChars) return text;
    var words = text.split(" "), lines = [], line = "";
    words.forEach(function (w) {
      if (line && (line + " " + w).length > maxChars) { lines.push(line); line = w; }
      else { line = line ? line + " " + w : w; }
    });
    if (line) lines.push(line);
    return lines;
  }

  function wrapAll(text, maxChars) {
    if (Array.isArray(text)) {
      var out = [];
      text.forEach(function (t) { out = out.concat(wrap(t, maxChars)); });
      return out;
    }
    return wrap(text, maxChars);
  }

  function fixTitle(spec, width) {
    var t = spec.title;
    if (!t) return;
    if (typeof t === "string" || Array.isArray(t)) t = spec.title = {text: t};
    if (t.text && !t.text.expr) t.text = wrapAll(t.text, Math.floor(width / (15 * 0.62)));  // bold
    if (t.subtitle) t.subtitle = wrapAll(t.subtitle, Math.floor(width / (12 * CHAR_W)));
  }

  // Walk every encoding of the spec (layers, facets, concatenations).
  function eachEncoding(node, fn, data) {
    if (!node || typeof node !== "object") return;
    data = node.data || data;
    if (node.encoding) fn(node.encoding, data);
    ["layer", "hconcat", "vconcat", "concat"].forEach(function (k) {
      (node[k] || []).forEach(function (n) { eachEncoding(n, fn, data); });
    });
    if (node.spec) eachEncoding(node.spec, fn, data);
  }

  function distinctValues(spec, data, field) {
    var rows = data && data.name && spec.datasets && spec.datasets[data.name];
    if (!rows || !field) return 0;
    var seen = {};
    rows.forEach(function (r) { seen[r[field]] = true; });
    return Object.keys(seen).length;
  }

  function fixEncodings(spec, width, height, narrow) {
    eachEncoding(spec, function (enc, data) {
      ["x", "y"].forEach(function (ch) {
        var e = enc[ch];
        if (!e || typeof e !== "object") return;
        // category labels along a narrow x axis: slant them when they would not fit side by side
        if (narrow && ch === "x" && (e.type === "nominal" || e.type === "ordinal") && e.axis !== null) {
          var n = distinctValues(spec, data, e.field);
          if (n * 62 > width) { e.axis = e.axis || {}; e.axis.labelAngle = -45; }
        }
        var room = ch === "x" ? width : height;
        // a narrow chart's long y labels (up to 38% of it) leave the x title less than the width
        if (narrow && ch === "x") room = Math.floor(room * 0.75);
        var maxChars = Math.floor(room / (12 * CHAR_W));
        if (typeof e.title === "string") e.title = wrap(e.title, maxChars);
        // log axes: about one tick per 60 px, so wide ranges get decades (10M, 100M, 1B), not 90M
        if (e.scale && e.scale.type === "log" && e.axis !== null) {
          e.axis = e.axis || {};
          if (e.axis.tickCount === undefined) e.axis.tickCount = Math.max(3, Math.floor(room / 60));
        }
        if (e.axis && typeof e.axis.title === "string") e.axis.title = wrap(e.axis.title, maxChars);
        if (narrow && e.axis && e.axis.labelLimit) e.axis.labelLimit = Math.min(e.axis.labelLimit, width * 0.38);
      });
      ["color", "shape", "strokeDash", "opacity", "size"].forEach(function (ch) {
        var e = enc[ch];
        if (!narrow || !e || typeof e !== "object" || !e.legend) return;
        e.legend.orient = "bottom";
        delete e.legend.columns;  // the narrow layout picks the columns that fit (adapt)
        if (e.legend.labelLimit) e.legend.labelLimit = Math.min(e.legend.labelLimit, width - 40);
      });
    });
  }

  // Longest label among the values of fields shown in a legend (from the inline datasets).
  function longestLegendLabel(spec) {
    var fields = {}, longest = 0;
    eachEncoding(spec, function (enc) {
      ["color", "shape", "strokeDash", "opacity", "size"].forEach(function (ch) {
        if (enc[ch] && enc[ch].field && enc[ch].legend !== null) fields[enc[ch].field] = true;
      });
    });
    Object.keys(spec.datasets || {}).forEach(function (name) {
      (spec.datasets[name] || []).forEach(function (row) {
        Object.keys(fields).forEach(function (f) {
          if (row[f] !== undefined && row[f] !== null) longest = Math.max(longest, String(row[f]).length);
        });
      });
    });
    return longest;
  }

  function adapt(spec, width) {
    var narrow = width < 560;
    var height = 320;
    spec.config = spec.config || {};
    if (narrow) {
      var longest = longestLegendLabel(spec), twoColumns = longest * 6.4 + 30 <= width / 2;
      spec.config.legend = Object.assign({}, spec.config.legend, {
        orient: "bottom", direction: "horizontal", columns: twoColumns ? 2 : 1,
        labelLimit: twoColumns ? Math.floor(width / 2) - 30 : width - 40, titleLimit: width - 20, symbolLimit: 40,
        // several legends below a narrow chart: one under the other, not side by side
        layout: {bottom: {anchor: "start", direction: "vertical", margin: 8}}});
      spec.config.axis = Object.assign({}, spec.config.axis, {labelLimit: Math.floor(width * 0.38)});
    }
    fixTitle(spec, width);
    var composed = spec.hconcat || spec.vconcat || spec.concat || spec.repeat;
    if (spec.facet && spec.spec) {
      var inner = spec.spec;
      height = inner.height || height;
      if (spec.facet.column) {
        var n = distinctValues(spec, spec.data, spec.facet.column.field) || 2;
        if (narrow || (width - 90 * n) / n < 200) {
          spec.facet.row = spec.facet.column; delete spec.facet.column;
          inner.width = width - 100;
        } else {
          inner.width = Math.floor((width - 90 * n) / n);
        }
      } else {
        inner.width = width - 100;
      }
      fixEncodings(spec, inner.width, height, narrow);
    } else if (!composed) {
      height = spec.height || height;
      spec.width = "container";
      (spec.layer || []).forEach(function (l) { delete l.width; });
      fixEncodings(spec, width - 90, height, narrow);
    }
    return spec;
  }

  // Axis titles that follow a menu: replace the compiled Vega axis title with a signal.
  function liveTitles(vg, titles) {
    var orient = {x: ["bottom", "top"], y: ["left", "right"]};
    (function walk(node) {
      if (!node || typeof node !== "object") return;
      (node.axes || []).forEach(function (a) {
        Object.keys(titles).forEach(function (ch) {
          if (orient[ch].indexOf(a.orient) >= 0 && a.title)
            a.title = {signal: titles[ch]};
        });
      });
      (node.marks || []).forEach(walk);
    })(vg);
    return vg;
  }

  // Vega-Lite warns 'Dropping "fit-y" because spec has discrete height' for every chart with a
  // band y axis and width "container", though only fit-x is asked for: drop that one warning.
  var HARMLESS = /Dropping "fit-y" because spec has discrete height/;
  function logger() {
    var base = vega.logger(vega.Warn), warn = base.warn;
    base.warn = function () {
      if (HARMLESS.test(Array.prototype.join.call(arguments, " "))) return base;
      return warn.apply(base, arguments);
    };
    return base;
  }

  window.iwEmbed = function (el, spec) {
    var width = Math.floor(el.getBoundingClientRect().width || (el.parentElement || el).clientWidth || 600);
    el.__iwSpec = spec;
    var titles = spec.usermeta && spec.usermeta.iw_axis_titles;
    var opts = {actions: false, renderer: "svg", logger: logger()};
    if (titles) opts.patch = function (vg) { return liveTitles(vg, titles); };
    return vegaEmbed(el, adapt(JSON.parse(JSON.stringify(spec)), width), opts)
      .then(function (r) {
        el.setAttribute("data-rendered", "true");
        (window.__iwViews = window.__iwViews || []).push(r.view);
        el.__iwView = r.view;
      })
      .catch(function (e) { el.setAttribute("data-error", String(e)); console.error(e); });
  };
})();
