// MaskLab dashboard: the pages of `masklab serve`, drawn from the server's JSON. No network beyond this server.
(function () {
  'use strict';
  var TOKEN = (document.querySelector('meta[name="masklab-token"]') || {}).content || '';
  var main = document.getElementById('main');
  var params = new URLSearchParams(location.search);
  var timers = [];

  // ---- helpers ----
  function el(tag, attrs) {
    var e = document.createElement(tag);
    if (attrs) for (var k in attrs) {
      var v = attrs[k];
      if (v === null || v === undefined || v === false) continue;
      if (k === 'text') e.textContent = v;
      else if (k === 'html') e.innerHTML = v;
      else if (k.slice(0, 2) === 'on') e.addEventListener(k.slice(2), v);
      else if (k === 'class') e.className = v;
      else e.setAttribute(k, v === true ? '' : v);
    }
    for (var i = 2; i < arguments.length; i++) add(e, arguments[i]);
    return e;
  }
  function add(parent, c) {
    if (c === null || c === undefined || c === false) return;
    if (Array.isArray(c)) { c.forEach(function (x) { add(parent, x); }); return; }
    parent.appendChild(typeof c === 'string' || typeof c === 'number' ? document.createTextNode(String(c)) : c);
  }
  function clear(e) { while (e.firstChild) e.removeChild(e.firstChild); return e; }
  function f4(v) { return v === null || v === undefined ? '' : Number(v).toFixed(4); }
  function f1(v) { return v === null || v === undefined ? '' : Number(v).toFixed(1); }
  function secs(v) {
    if (v === null || v === undefined) return '';
    v = Math.round(v);
    if (v < 60) return v + ' s';
    if (v < 3600) return Math.floor(v / 60) + ' min ' + (v % 60) + ' s';
    return Math.floor(v / 3600) + ' h ' + Math.floor((v % 3600) / 60) + ' min';
  }
  function badge(status) { return el('span', { class: 'badge ' + status, 'data-status': status, text: status }); }
  function runLink(row) {
    var page = row.kind === 'sweep' ? '/sweep' : '/run';
    return el('a', { href: page + '?id=' + encodeURIComponent(row.id), text: row.id === '.' ? '(runs folder)' : row.id });
  }
  function api(path) {
    return fetch(path, { headers: { 'X-MaskLab-Token': TOKEN }, credentials: 'same-origin' }).then(function (r) {
      return r.json().then(function (j) { if (!r.ok) throw new Error(j.error || r.statusText); return j; });
    });
  }
  function post(path, body, type) {
    return fetch(path, {
      method: 'POST', credentials: 'same-origin', body: body,
      headers: { 'X-MaskLab-Token': TOKEN, 'Content-Type': type || 'application/json' }
    }).then(function (r) {
      return r.json().then(function (j) { if (!r.ok) throw new Error(j.error || r.statusText); return j; });
    });
  }
  function every(ms, fn) { timers.push(setInterval(fn, ms)); }
  function live(text) { document.getElementById('live').textContent = text; }
  function error(e) { clear(main); add(main, el('div', { class: 'banner error', id: 'error', text: String(e.message || e) })); }
  function kv(rows) {
    return el('table', { class: 'kv' }, el('tbody', null, rows.filter(function (r) { return r[1] !== null && r[1] !== undefined && r[1] !== ''; })
      .map(function (r) { return el('tr', null, el('th', { text: r[0] }), el('td', { text: String(r[1]) })); })));
  }
  function progress(done, planned) {
    if (!planned) return null;
    var pct = Math.min(100, Math.round(100 * done / planned));
    return el('span', { class: 'progress', title: done + ' of ' + planned }, el('div', { style: 'width:' + pct + '%' }));
  }

  // ---- modal ----
  var modal = document.getElementById('modal');
  function openModal(content) { add(clear(document.getElementById('modal-body')), content); modal.hidden = false; }
  function closeModal() { modal.hidden = true; }
  document.getElementById('modal-close').addEventListener('click', closeModal);
  modal.addEventListener('click', function (e) { if (e.target === modal) closeModal(); });
  document.addEventListener('keydown', function (e) { if (e.key === 'Escape') closeModal(); });

  // ---- charts (uPlot) ----
  var COLORS = ['#0969da', '#cf222e', '#1a7f37', '#8250df', '#bf8700', '#1b7c83', '#e16f24', '#6e7781', '#bc4c00', '#4d2d00'];
  // series: [{label, points: [[x, y]...]}]; x values are unioned so runs of different lengths share one axis.
  function tick(v) {
    if (v === null || v === undefined) return '';
    var a = Math.abs(v);
    return a !== 0 && (a < 0.01 || a >= 1e5) ? v.toExponential(1) : String(+v.toPrecision(3));
  }
  function lineChart(target, title, series, opts) {
    opts = opts || {};
    var xs = {};
    series.forEach(function (s) { s.points.forEach(function (p) { xs[p[0]] = true; }); });
    var x = Object.keys(xs).map(Number).sort(function (a, b) { return a - b; });
    var data = [x].concat(series.map(function (s) {
      var m = {}; s.points.forEach(function (p) { m[p[0]] = p[1]; });
      return x.map(function (v) { return m[v] === undefined ? null : m[v]; });
    }));
    var box = el('div', { class: 'plot', 'data-chart': title });
    add(target, box);
    if (x.length === 0) { add(box, el('p', { class: 'note', text: title + ': no epochs yet' })); return null; }
    var width = opts.width || 460;
    var u = new uPlot({
      title: title, width: width, height: opts.height || 260,
      scales: { x: { time: false }, y: opts.log ? { distr: 3 } : {} },
      series: [{ label: 'epoch' }].concat(series.map(function (s, i) {
        return { label: s.label, stroke: COLORS[i % COLORS.length], width: 2, spanGaps: true, points: { size: 6 },
          value: function (u, v) { return v === null || v === undefined ? '–' : (Math.abs(v) < 0.01 && v !== 0 ? v.toExponential(2) : v.toFixed(4)); } };
      })),
      axes: [{ label: 'epoch' }, { size: 64, values: function (u, vals) { return vals.map(tick); } }],
      legend: { live: true }
    }, data, box);
    return u;
  }

  // ---- runs table ----
  var COLUMNS = [
    ['id', 'run', 'text'], ['kind', 'kind', 'text'], ['status', 'status', 'text'], ['model', 'model', 'text'], ['loss', 'loss', 'text'],
    ['imageSize', 'size', 'text'], ['epochs', 'epochs', 'num'], ['precision', 'precision', 'text'], ['device', 'device', 'text'],
    ['valF1', 'val F1', 'num'], ['valMaskF1', 'mask', 'num'], ['valGenderF1', 'gender', 'num'], ['valAgeF1', 'age', 'num'],
    ['evalF1', 'eval F1', 'num'], ['evalMaskF1', 'eval mask', 'num'], ['evalGenderF1', 'eval gender', 'num'], ['evalAgeF1', 'eval age', 'num'],
    ['oofF1', 'OOF F1', 'num'], ['imagesPerSecond', 'img/s', 'num'], ['wallSeconds', 'wall', 'num'], ['started', 'started', 'text']
  ];
  function cellValue(r, key) { return key === 'epochs' ? r.epochsDone : r[key]; }
  function runsPage() {
    document.title = 'MaskLab runs';
    var state = { sort: params.get('sort') || 'id', dir: params.get('dir') || 'asc', filter: params.get('q') || '', kind: '', status: '', selected: {} };
    var rows = [];
    clear(main);
    var h = el('h1', { text: 'Runs' });
    var sub = el('p', { class: 'note', id: 'runs-root' });
    var filter = el('input', { type: 'search', id: 'filter', placeholder: 'filter: name, model, loss…', value: state.filter, size: 30 });
    var kind = el('select', { id: 'kind-filter' }, ['', 'run', 'kFold', 'fold', 'sweep'].map(function (k) { return el('option', { value: k, text: k || 'every kind' }); }));
    var status = el('select', { id: 'status-filter' }, ['', 'running', 'finished', 'failed', 'stopped', 'pending'].map(function (k) { return el('option', { value: k, text: k || 'every status' }); }));
    var compare = el('button', { type: 'button', class: 'primary', id: 'compare-selected', disabled: true, text: 'Compare selected' });
    var count = el('span', { class: 'note', id: 'selected-count' });
    add(main, [h, sub, el('div', { class: 'toolbar' }, filter, kind, status, compare, count)]);
    var table = el('table', { class: 'runs-table', id: 'runs-table' });
    var thead = el('thead'); var tbody = el('tbody');
    add(table, [thead, tbody]); add(main, table);
    var hr = el('tr', null, el('th', null, ''));
    COLUMNS.forEach(function (c) {
      hr.appendChild(el('th', { class: 'sortable' + (c[2] === 'num' ? ' num' : ''), 'data-key': c[0], text: c[1], onclick: function () {
        if (state.sort === c[0]) state.dir = state.dir === 'asc' ? 'desc' : 'asc';
        else { state.sort = c[0]; state.dir = c[2] === 'num' ? 'desc' : 'asc'; }
        draw();
      } }));
    });
    thead.appendChild(hr);
    filter.addEventListener('input', function () { state.filter = filter.value; draw(); });
    kind.addEventListener('change', function () { state.kind = kind.value; draw(); });
    status.addEventListener('change', function () { state.status = status.value; draw(); });
    compare.addEventListener('click', function () {
      var ids = Object.keys(state.selected);
      location.href = '/compare?' + ids.map(function (i) { return 'id=' + encodeURIComponent(i); }).join('&');
    });

    function matches(r) {
      if (state.kind && r.kind !== state.kind) return false;
      if (state.status && r.status !== state.status) return false;
      if (!state.filter) return true;
      var q = state.filter.toLowerCase();
      return [r.id, r.model, r.loss, r.imageSize, r.precision, r.device, r.status, r.kind].some(function (v) { return v && String(v).toLowerCase().indexOf(q) >= 0; });
    }
    function draw() {
      thead.querySelectorAll('th').forEach(function (th) {
        th.classList.remove('asc', 'desc');
        if (th.getAttribute('data-key') === state.sort) th.classList.add(state.dir);
      });
      var shown = rows.filter(matches);
      var key = state.sort, sign = state.dir === 'asc' ? 1 : -1;
      shown.sort(function (a, b) {
        var x = cellValue(a, key), y = cellValue(b, key);
        if (x === null || x === undefined) return (y === null || y === undefined) ? a.id.localeCompare(b.id) : 1;
        if (y === null || y === undefined) return -1;
        var c = typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y));
        return c !== 0 ? sign * c : a.id.localeCompare(b.id);
      });
      clear(tbody);
      shown.forEach(function (r) {
        var box = el('input', { type: 'checkbox', 'data-id': r.id, checked: !!state.selected[r.id], disabled: r.kind === 'sweep',
          onchange: function () { if (box.checked) state.selected[r.id] = true; else delete state.selected[r.id]; updateSelection(); } });
        var tr = el('tr', { 'data-id': r.id, 'data-kind': r.kind, class: r.parent ? 'child' : null });
        add(tr, el('td', null, box));
        COLUMNS.forEach(function (c) {
          var v = cellValue(r, c[0]), td;
          if (c[0] === 'id') {
            td = el('td', null, runLink(r), r.torn ? el('span', { class: 'torn', title: r.problem || '', text: '⚠ torn metrics' }) : null,
              r.problem && !r.torn ? el('div', { class: 'note', text: r.problem }) : null);
          } else if (c[0] === 'status') {
            td = el('td', null, badge(r.status), r.members ? el('span', { class: 'note', text: ' ' + r.membersFinished + '/' + r.members }) : null);
          } else if (c[0] === 'epochs') {
            td = el('td', { class: 'num' }, r.epochsDone + (r.epochsPlanned ? ' / ' + r.epochsPlanned : ''), r.status === 'running' ? el('div', null, progress(r.epochsDone, r.epochsPlanned)) : null);
          } else if (c[0] === 'wallSeconds') td = el('td', { class: 'num', text: secs(v) });
          else if (c[0] === 'imagesPerSecond') td = el('td', { class: 'num', text: f1(v) });
          else if (c[2] === 'num') td = el('td', { class: 'num', text: f4(v) });
          else if (c[0] === 'started') td = el('td', { text: v ? String(v).replace('T', ' ').slice(0, 19) : '' });
          else if (c[0] === 'kind') td = el('td', { text: v === 'kFold' ? 'k-fold' : v });
          else td = el('td', { text: v === null || v === undefined ? '' : String(v) });
          tr.appendChild(td);
        });
        tbody.appendChild(tr);
      });
      sub.textContent = rows.length + ' entries under ' + (window.__root || '') + (shown.length !== rows.length ? ' (' + shown.length + ' shown)' : '');
      updateSelection();
    }
    function updateSelection() {
      var n = Object.keys(state.selected).length;
      compare.disabled = n < 1;
      count.textContent = n ? n + ' selected' : '';
    }
    var running = 0, loaded = 0;
    function load() {
      loaded = Date.now();
      return api('/api/runs').then(function (j) {
        window.__root = j.root; rows = j.rows; draw();
        running = rows.filter(function (r) { return r.status === 'running'; }).length;
        live(running ? running + ' running · updated ' + new Date().toLocaleTimeString() : 'updated ' + new Date().toLocaleTimeString());
      });
    }
    load().catch(error);
    // Every 3 s while something trains, every 15 s otherwise: a thousand runs cost the server a little each time.
    every(3000, function () {
      if (running || Date.now() - loaded > 15000) load().catch(function (e) { live('update failed: ' + e.message); });
    });
  }

  // ---- run page ----
  function heatmap(target, names, matrix, onCell) {
    var max = 0;
    var rowsum = matrix.map(function (r) { return r.reduce(function (a, b) { return a + b; }, 0); });
    var table = el('table', { class: 'heat', id: 'confusion-table' });
    var head = el('tr', null, el('th', { text: 'true \\ predicted' }));
    names.forEach(function (n, i) { head.appendChild(el('th', { class: 'col', title: n, text: String(i) })); });
    add(table, el('thead', null, head));
    var body = el('tbody');
    matrix.forEach(function (r, t) {
      var tr = el('tr', null, el('th', { class: 'row', text: t + '  ' + names[t] + ' (' + rowsum[t] + ')' }));
      r.forEach(function (v, p) {
        var share = rowsum[t] ? v / rowsum[t] : 0;
        var color = !v ? '#fff' : t === p ? 'rgba(26,127,55,' + (0.15 + 0.85 * share) + ')' : 'rgba(207,34,46,' + (0.15 + 0.85 * share) + ')';
        tr.appendChild(el('td', { class: 'cell', 'data-t': t, 'data-p': p, 'data-n': v, title: names[t] + ' → ' + names[p] + ': ' + v,
          style: 'background:' + color + ';color:' + (share > 0.55 ? '#fff' : '#1f2328'), text: v ? String(v) : '',
          onclick: function () { onCell(t, p); } }));
      });
      body.appendChild(tr);
    });
    add(table, body);
    add(target, table);
  }
  function photoFigure(p, cls) {
    var img = p.url ? el('img', { src: p.url, alt: p.name, loading: 'lazy' }) : el('div', { class: 'missing', text: 'photo outside the served folders (serve --data)' });
    return el('figure', { class: cls || null }, img, el('figcaption', null,
      el('span', { class: 'truth', text: 'true: ' + p.truthName }), el('br'),
      el('span', { class: 'pred', text: 'predicted: ' + p.predictedName + ' (' + Number(p.confidence).toFixed(2) + ')' }), el('br'),
      el('span', { class: 'note', text: p.top.map(function (t) { return t.name + ' ' + t.p.toFixed(2); }).join(' · ') }), el('br'),
      el('span', { class: 'path', text: p.name })));
  }
  // A running run's time left: its remaining epochs at the mean time of those done.
  function eta(r, series) {
    if (r.status !== 'running' || !r.epochsPlanned || series.length !== 1) return null;
    var ep = series[0].epochs.filter(function (e) { return e.seconds !== null && e.seconds !== undefined; });
    if (!ep.length || r.epochsDone >= r.epochsPlanned) return null;
    var mean = ep.reduce(function (a, e) { return a + e.seconds; }, 0) / ep.length;
    return el('span', { class: 'note', id: 'eta', text: ' · about ' + secs(mean * (r.epochsPlanned - r.epochsDone)) + ' left' });
  }
  function seriesPoints(s, key) { return s.epochs.filter(function (e) { return e[key] !== null; }).map(function (e) { return [e.epoch, e[key]]; }); }

  function runPage() {
    var id = params.get('id');
    var charts = null, lastVersion = null;
    function render(d) {
      var r = d.row;
      document.title = 'MaskLab: ' + r.id;
      clear(main);
      add(main, el('div', { class: 'crumbs' }, el('a', { href: '/', text: 'Runs' }), r.parent ? [' / ', el('a', { href: (d.parentKind === 'sweep' ? '/sweep' : '/run') + '?id=' + encodeURIComponent(r.parent), text: r.parent })] : null));
      add(main, el('h1', null, r.id === '.' ? '(runs folder)' : r.id, ' ', badge(r.status)));
      add(main, el('p', { class: 'note' }, el('span', { id: 'epochs-done', 'data-epochs': r.epochsDone, text: 'epoch ' + r.epochsDone + (r.epochsPlanned ? ' of ' + r.epochsPlanned : '') }), ' ',
        progress(r.epochsDone, r.epochsPlanned), eta(r, d.series), r.writer ? ' · written by ' + r.writer : '', ' · ', el('span', { class: 'path', text: d.dir })));
      if (r.kind === 'kFold') add(main, el('p', null, el('a', { href: '/review?id=' + encodeURIComponent(r.id), id: 'review-link', text: 'Review labels (audit suspects)' }), ' · ',
        el('a', { href: '/try?id=' + encodeURIComponent(r.id), text: 'Try a photo on this ensemble' })));
      else if (r.canPredict) add(main, el('p', null, el('a', { href: '/try?id=' + encodeURIComponent(r.id), text: 'Try a photo on this run' })));
      d.series.forEach(function (s) {
        if (s.torn) add(main, el('div', { class: 'banner warn', id: 'torn', text: (s.name) + ': metrics.jsonl line ' + s.torn.line + ' does not read (' + s.torn.reason + '); the epochs before and after it are shown.' }));
        if (s.thinnedFrom) add(main, el('p', { class: 'note', text: s.name + ': the curve shows ' + s.epochs.length + ' of its ' + s.thinnedFrom + ' epochs, evenly spaced (the first, the last and the best kept).' }));
      });
      d.problems.forEach(function (p) { add(main, el('div', { class: 'banner warn', text: p })); });
      add(main, el('div', { class: 'cards' }, [
        ['val macro F1', f4(r.valF1)], ['mask / gender / age', [f4(r.valMaskF1), f4(r.valGenderF1), f4(r.valAgeF1)].join(' / ')],
        ['eval macro F1', f4(r.evalF1)], ['OOF macro F1', f4(r.oofF1)], ['images/s', f1(r.imagesPerSecond)], ['wall time', secs(r.wallSeconds)],
        ['model', r.model], ['loss', r.loss], ['size', r.imageSize], ['precision', r.precision], ['device', r.device]
      ].filter(function (c) { return c[1] && c[1] !== ' /  / '; }).map(function (c) { return el('div', { class: 'card' }, el('div', { class: 'k', text: c[0] }), el('div', { class: 'v', text: c[1] })); })));

      var curves = el('section', { id: 'curves' }, el('h2', { text: 'Curves' }), el('p', { class: 'note', text: 'Hover for values; click a legend entry to hide or show its line.' }));
      var plots = el('div', { class: 'plots' });
      add(curves, plots); add(main, curves);
      charts = drawCurves(plots, d.series);

      if (d.folds && d.folds.length) {
        add(main, el('h2', { text: 'Folds' }));
        add(main, el('table', { id: 'folds' }, el('thead', null, el('tr', null, ['fold', 'status', 'epochs', 'val F1', 'img/s'].map(function (x) { return el('th', { text: x }); }))),
          el('tbody', null, d.folds.map(function (f) {
            return el('tr', null, el('td', null, runLink(f)), el('td', null, badge(f.status)), el('td', { class: 'num', text: f.epochsDone + (f.epochsPlanned ? ' / ' + f.epochsPlanned : '') }),
              el('td', { class: 'num', text: f4(f.valF1) }), el('td', { class: 'num', text: f1(f.imagesPerSecond) }));
          }))));
      }

      var pc = el('section', { id: 'per-class' }, el('h2', { text: 'Per-class F1' + (r.kind === 'kFold' ? ' (out of fold)' : ' (best epoch)') }));
      if (!d.perClass.length) add(pc, el('p', { class: 'note', text: 'No per-class scores yet (per_class.csv is written with the best epoch).' }));
      else add(pc, el('table', { class: 'bars' }, el('tbody', null, d.perClass.map(function (p) {
        return el('tr', null, el('td', { text: p.name }), el('td', { class: 'num', text: f4(p.f1) }),
          el('td', null, el('span', { class: 'bar', style: 'width:' + Math.round(240 * (p.f1 || 0)) + 'px' })), el('td', { class: 'note', text: 'n=' + p.support }));
      }))));
      add(main, pc);

      var cm = el('section', { id: 'confusion' }, el('h2', { text: 'Confusion matrix' + (r.kind === 'kFold' ? ' (out of fold)' : ' (validation, best epoch)') }));
      if (d.confusion) {
        add(cm, el('p', { class: 'note', text: 'Rows are the true class, columns the prediction; colour is the share of the true class. Click a cell to see its photos.' }));
        heatmap(cm, d.classNames, d.confusion, function (t, p) { showCell(id, t, p); });
      } else add(cm, el('p', { class: 'note', text: 'No confusion matrix yet.' }));
      add(main, cm);

      var g = el('section', { id: 'wrong' }, el('h2', { text: 'Most confidently wrong photos' }));
      if (!d.wrong.length) add(g, el('p', { class: 'note', text: 'None recorded (' + d.predictionsSource + ' missing, or every photo right).' }));
      else add(g, el('div', { class: 'gallery' }, d.wrong.map(function (p) { return photoFigure(p); })));
      add(main, g);

      var meta = el('section', { id: 'metadata' }, el('h2', { text: 'Config and metadata' }));
      var m = d.metadata || {};
      var dev = m.device || {};
      add(meta, kv([
        ['start', m.start_time], ['end', m.end_time], ['wall seconds', m.wall_seconds],
        ['device', [dev.device, dev.name, dev.reason].filter(Boolean).join(' · ')],
        ['libtorch', [dev.libtorch_version, dev.libtorch_source].filter(Boolean).join(' · ')],
        ['precision', m.precision ? m.precision.resolved + ' (' + m.precision.setting + ': ' + m.precision.reason + ')' : null],
        ['starting weights', m.starting_weights], ['input normalization', m.input_normalization],
        ['phase seconds', m.phase_seconds ? Object.keys(m.phase_seconds).map(function (k) { return k + ' ' + m.phase_seconds[k]; }).join(', ') : null],
        ['face crop', m.face_crop ? JSON.stringify(m.face_crop) : null],
        ['face-crop fallbacks', d.summary ? [d.summary.face_crop_fallbacks, d.summary.eval_face_crop_fallbacks].filter(function (x) { return x !== undefined && x !== null; }).join(' train / eval ') : null],
        ['label fixes', m.label_fixes ? JSON.stringify(m.label_fixes) : null],
        ['git', m.git ? m.git.commit + (m.git.dirty ? ' (uncommitted changes)' : '') : null],
        ['machine', m.machine ? [m.machine.cpu, m.machine.logical_cores + ' cores', m.machine.torch_threads + ' threads'].join(', ') : null],
        ['command line', m.command_line]
      ]));
      var cfg = d.config || {};
      add(meta, el('details', { open: true }, el('summary', { text: 'Resolved config (config.yaml)' }),
        kv(Object.keys(cfg).sort().map(function (k) { return [k, cfg[k] === null ? '' : cfg[k]]; }))));
      add(meta, el('p', { class: 'note' }, 'Files: ', d.files.map(function (f, i) {
        return [i ? ' · ' : '', el('a', { href: '/files/runs/' + (r.id === '.' ? '' : r.id.split('/').map(encodeURIComponent).join('/') + '/') + encodeURIComponent(f), text: f })];
      })));
      add(main, meta);
    }
    function drawCurves(plots, series) {
      var many = series.length > 1;
      function set(key, name) { return series.map(function (s) { return { label: many ? s.name + ' ' + name : name, points: seriesPoints(s, key) }; }); }
      var loss = many ? set('trainLoss', 'train') .concat(set('valLoss', 'val')) : set('trainLoss', 'train loss').concat(set('valLoss', 'val loss'));
      var f1s = many ? set('valF1', 'val F1') : set('valF1', 'val macro F1').concat(set('valAccuracy', 'val accuracy'));
      var attrs = many ? [] : set('valMaskF1', 'mask').concat(set('valGenderF1', 'gender'), set('valAgeF1', 'age')).filter(function (s) { return s.points.length; });
      var out = [lineChart(plots, 'Loss', loss), lineChart(plots, 'Validation F1', f1s)];
      if (attrs.length) out.push(lineChart(plots, 'Per-attribute F1', attrs));
      out.push(lineChart(plots, 'Learning rate', set('lr', 'lr')));
      return out;
    }
    function load(first) {
      return api('/api/run?id=' + encodeURIComponent(id)).then(function (d) {
        var version = JSON.stringify([d.row.status, d.row.epochsDone, d.series.map(function (s) { return s.epochs.length; }), d.row.valF1, d.row.evalF1]);
        var y = window.scrollY;
        if (first || version !== lastVersion) { render(d); window.scrollTo(0, y); }
        lastVersion = version;
        live((d.row.status === 'running' ? 'live · ' : '') + 'updated ' + new Date().toLocaleTimeString());
      });
    }
    if (!id) { error('which run? (/run?id=...)'); return; }
    load(true).catch(error);
    every(2000, function () { if (modal.hidden) load(false).catch(function (e) { live('update failed: ' + e.message); }); });
  }
  function showCell(id, t, p) {
    api('/api/run/cell?id=' + encodeURIComponent(id) + '&truth=' + t + '&predicted=' + p).then(function (c) {
      openModal(el('div', { id: 'cell-photos' },
        el('h2', { text: 'true ' + c.truthName + ', predicted ' + c.predictedName + ': ' + c.count + ' photo' + (c.count === 1 ? '' : 's') }),
        c.error ? el('div', { class: 'banner warn', text: c.error }) : null,
        c.count > c.photos.length ? el('p', { class: 'note', text: 'the ' + c.photos.length + ' most confident shown' }) : null,
        el('p', { class: 'note', text: 'from ' + c.source }),
        el('div', { class: 'gallery' }, c.photos.map(function (ph) { return photoFigure(ph, t === p ? 'right' : null); }))));
    }).catch(function (e) { openModal(el('div', { class: 'banner error', text: e.message })); });
  }

  // ---- compare ----
  function comparePage() {
    var ids = params.getAll('id');
    document.title = 'MaskLab: compare';
    if (!ids.length) { error('choose runs to compare on the runs page'); return; }
    api('/api/compare?' + ids.map(function (i) { return 'id=' + encodeURIComponent(i); }).join('&')).then(function (d) {
      clear(main);
      add(main, el('div', { class: 'crumbs' }, el('a', { href: '/', text: 'Runs' })));
      add(main, el('h1', { text: 'Compare ' + d.runs.length + ' runs' }));
      if (d.missing.length) add(main, el('div', { class: 'banner warn', text: 'not found: ' + d.missing.join(', ') }));
      add(main, el('table', { id: 'compare-runs' }, el('thead', null, el('tr', null, ['run', 'status', 'model', 'loss', 'epochs', 'val F1', 'mask', 'gender', 'age', 'eval F1', 'img/s'].map(function (x) { return el('th', { text: x }); }))),
        el('tbody', null, d.runs.map(function (x) {
          var r = x.row;
          return el('tr', { 'data-id': r.id }, el('td', null, runLink(r)), el('td', null, badge(r.status)), el('td', { text: r.model || '' }), el('td', { text: r.loss || '' }),
            el('td', { class: 'num', text: r.epochsDone + (r.epochsPlanned ? ' / ' + r.epochsPlanned : '') }),
            el('td', { class: 'num', text: f4(r.valF1) }), el('td', { class: 'num', text: f4(r.valMaskF1) }), el('td', { class: 'num', text: f4(r.valGenderF1) }),
            el('td', { class: 'num', text: f4(r.valAgeF1) }), el('td', { class: 'num', text: f4(r.evalF1) }), el('td', { class: 'num', text: f1(r.imagesPerSecond) }));
        }))));
      var curves = el('section', { id: 'curves' }, el('h2', { text: 'Curves, overlaid' }));
      var plots = el('div', { class: 'plots' });
      add(curves, plots); add(main, curves);
      var all = [];
      d.runs.forEach(function (x) { x.series.forEach(function (s) { all.push(s); }); });
      lineChart(plots, 'Validation macro F1', all.map(function (s) { return { label: s.name, points: seriesPoints(s, 'valF1') }; }), { width: 620 });
      lineChart(plots, 'Training loss', all.map(function (s) { return { label: s.name, points: seriesPoints(s, 'trainLoss') }; }), { width: 620 });
      lineChart(plots, 'Validation loss', all.map(function (s) { return { label: s.name, points: seriesPoints(s, 'valLoss') }; }), { width: 620 });

      var diff = el('section', { id: 'config-diff' }, el('h2', { text: 'Config: the keys that differ' }));
      if (!d.configKeys.length) add(diff, el('p', { class: 'note', text: 'The configs are the same (' + d.sameKeys + ' keys; data folders aside).' }));
      else {
        add(diff, el('p', { class: 'note', text: d.sameKeys + ' other keys are the same.' }));
        add(diff, el('table', null, el('thead', null, el('tr', null, el('th', { text: 'key' }), d.runs.map(function (x) { return el('th', { text: x.row.id }); }))),
          el('tbody', null, d.configKeys.map(function (k, i) {
            return el('tr', { 'data-key': k }, el('th', { text: k }), d.configValues.map(function (vals) { return el('td', { text: vals[i] === null ? '(unset)' : vals[i] }); }));
          }))));
      }
      add(main, diff);
      var pc = el('section', { id: 'per-class' }, el('h2', { text: 'Per-class F1, side by side' }));
      if (!d.perClass.names.length) add(pc, el('p', { class: 'note', text: 'No per_class.csv in these runs.' }));
      else add(pc, el('table', { class: 'bars' }, el('thead', null, el('tr', null, el('th', { text: 'class' }), d.runs.map(function (x) { return el('th', { text: x.row.id }); }))),
        el('tbody', null, d.perClass.names.map(function (n, i) {
          return el('tr', null, el('td', { text: n }), d.perClass.values.map(function (vals, k) {
            var v = vals[i];
            return el('td', { class: 'num' }, f4(v), ' ', el('span', { class: 'bar', style: 'width:' + Math.round(120 * (v || 0)) + 'px;background:' + COLORS[k % COLORS.length] }));
          }));
        }))));
      add(main, pc);
    }).catch(error);
  }

  // ---- sweep ----
  function spreadPlot(target, settings, runs) {
    var shown = settings.filter(function (s) { return s.val; });
    if (!shown.length) { add(target, el('p', { class: 'note', text: 'No setting has finished a run yet.' })); return; }
    var seeds = runs.filter(function (r) { return r.status === 'finished' && r.valF1 !== null; }).map(function (r) { return r.valF1; });
    var lo = Math.min.apply(null, shown.map(function (s) { return s.val.mean - s.val.std; }).concat(seeds));
    var hi = Math.max.apply(null, shown.map(function (s) { return s.val.mean + s.val.std; }).concat(seeds));
    if (hi - lo < 1e-6) { lo -= 0.01; hi += 0.01; }
    var pad = (hi - lo) * 0.1; lo -= pad; hi += pad;
    var W = 720, left = 260, right = 30, rowH = 26, H = shown.length * rowH + 40;
    function X(v) { return left + (v - lo) / (hi - lo) * (W - left - right); }
    var ns = 'http://www.w3.org/2000/svg';
    function s(tag, attrs, text) { var e = document.createElementNS(ns, tag); for (var k in attrs) e.setAttribute(k, attrs[k]); if (text !== undefined) e.textContent = text; return e; }
    var svg = s('svg', { width: W, height: H, id: 'spread-plot', role: 'img', 'aria-label': 'mean ± std of val macro F1 per setting' });
    for (var t = 0; t <= 4; t++) {
      var v = lo + (hi - lo) * t / 4, x = X(v);
      svg.appendChild(s('line', { x1: x, x2: x, y1: 10, y2: H - 24, stroke: '#d0d7de' }));
      svg.appendChild(s('text', { x: x, y: H - 8, 'text-anchor': 'middle' }, v.toFixed(3)));
    }
    shown.forEach(function (st, i) {
      var y = 22 + i * rowH;
      svg.appendChild(s('text', { x: left - 8, y: y + 4, 'text-anchor': 'end' }, (st.labels.join(', ') || '(base)') + (st.mark ? '  [' + st.mark + ']' : '')));
      svg.appendChild(s('line', { x1: X(st.val.mean - st.val.std), x2: X(st.val.mean + st.val.std), y1: y, y2: y, stroke: '#0969da', 'stroke-width': 2 }));
      runs.filter(function (r) { return r.setting === st.index && r.status === 'finished' && r.valF1 !== null; }).forEach(function (r) {
        svg.appendChild(s('rect', { x: X(r.valF1) - 2, y: y - 9, width: 4, height: 4, fill: '#6e7781', 'data-seed': r.seed }, undefined));
      });
      svg.appendChild(s('circle', { cx: X(st.val.mean), cy: y, r: 5, fill: st.mark === 'best' ? '#1a7f37' : '#0969da', 'data-setting': st.index }));
    });
    add(target, el('div', { class: 'plot spread' }, svg));
  }
  function sweepPage() {
    var id = params.get('id');
    if (!id) { error('which sweep? (/sweep?id=...)'); return; }
    var last = null;
    function load() {
      return api('/api/sweep?id=' + encodeURIComponent(id)).then(function (d) {
        var version = JSON.stringify(d.runs.map(function (r) { return [r.status, r.epochsDone]; }));
        if (version !== last) render(d);
        last = version;
        live('updated ' + new Date().toLocaleTimeString());
      });
    }
    function render(d) {
      var r = d.row;
      document.title = 'MaskLab sweep: ' + r.id;
      clear(main);
      add(main, el('div', { class: 'crumbs' }, el('a', { href: '/', text: 'Runs' })));
      add(main, el('h1', null, 'Sweep ' + r.id + ' ', badge(r.status)));
      add(main, el('p', { class: 'note', text: (r.membersFinished || 0) + ' of ' + r.members + ' runs finished · ' + d.dir }));
      if (d.error) add(main, el('div', { class: 'banner warn', text: d.error }));
      var sum = el('section', { id: 'summary' }, el('h2', { text: 'Settings: val macro F1, mean ± std over seeds' }));
      var hasEval = d.settings.some(function (s) { return s.eval; });
      var heads = d.variedKeys.concat(['seeds', 'val macro F1', 'mask', 'gender', 'age']).concat(hasEval ? ['eval macro F1'] : []).concat(['s / run', 'vs best']);
      add(sum, el('table', { id: 'sweep-summary' }, el('thead', null, el('tr', null, heads.map(function (x) { return el('th', { text: x }); }))),
        el('tbody', null, d.settings.slice().sort(function (a, b) { return (a.rank || 1e9) - (b.rank || 1e9); }).map(function (s) {
          function ms(m) { return m ? (m.n > 1 ? f4(m.mean) + ' ± ' + f4(m.std) : f4(m.mean)) : ''; }
          return el('tr', { 'data-setting': s.index }, s.labels.map(function (l) { return el('td', { text: l }); }),
            el('td', { class: 'num', text: String(s.seeds) }), el('td', { class: 'num', text: ms(s.val) }), el('td', { class: 'num', text: ms(s.mask) }),
            el('td', { class: 'num', text: ms(s.gender) }), el('td', { class: 'num', text: ms(s.age) }), hasEval ? el('td', { class: 'num', text: ms(s.eval) }) : null,
            el('td', { class: 'num', text: s.seconds === null || s.seconds === undefined ? '' : Math.round(s.seconds) }), el('td', { text: s.mark }));
        }))));
      spreadPlot(sum, d.settings, d.runs);
      add(sum, el('p', { class: 'note', text: 'Dot: the mean over seeds; line: ± one standard deviation; small squares: each seed run.' }));
      add(main, sum);
      var runs = el('section', { id: 'seed-runs' }, el('h2', { text: 'Seed runs' }));
      var compareBtn = el('button', { type: 'button', text: 'Compare the finished runs', onclick: function () {
        var ids = d.runs.filter(function (x) { return x.status === 'finished'; }).map(function (x) { return 'id=' + encodeURIComponent(x.id); });
        location.href = '/compare?' + ids.join('&');
      } });
      add(runs, el('div', { class: 'toolbar' }, compareBtn));
      add(runs, el('table', { id: 'sweep-runs' }, el('thead', null, el('tr', null, ['run', 'seed', 'status', 'epochs', 'val F1', 'eval F1'].map(function (x) { return el('th', { text: x }); }))),
        el('tbody', null, d.runs.map(function (x) {
          return el('tr', { 'data-id': x.id }, el('td', null, x.status === 'pending' ? x.name : el('a', { href: '/run?id=' + encodeURIComponent(x.id), text: x.name })),
            el('td', { class: 'num', text: String(x.seed) }), el('td', null, badge(x.status), x.problem ? el('div', { class: 'note', text: x.problem }) : null),
            el('td', { class: 'num', text: x.epochsDone + ' / ' + x.epochsPlanned }), el('td', { class: 'num', text: f4(x.valF1) }), el('td', { class: 'num', text: f4(x.evalF1) }));
        }))));
      add(main, runs);
    }
    load().catch(error);
    every(3000, function () { load().catch(function (e) { live('update failed: ' + e.message); }); });
  }

  // ---- label review ----
  function reviewPage() {
    var id = params.get('id');
    var threshold = parseFloat(params.get('threshold') || '0.7');
    var items = [], current = 0, data = null;
    if (!id) { error('which k-fold run? (/review?id=...)'); return; }
    function load() {
      return api('/api/review?id=' + encodeURIComponent(id) + '&threshold=' + threshold).then(function (d) { data = d; render(); });
    }
    function render() {
      var d = data;
      document.title = 'MaskLab label review: ' + d.row.id;
      clear(main);
      add(main, el('div', { class: 'crumbs' }, el('a', { href: '/', text: 'Runs' }), ' / ', el('a', { href: '/run?id=' + encodeURIComponent(d.row.id), text: d.row.id })));
      add(main, el('h1', { text: 'Label review: ' + d.row.id }));
      var th = el('input', { type: 'number', id: 'threshold', min: '0.05', max: '1', step: '0.05', value: String(threshold) });
      add(main, el('div', { class: 'toolbar' }, 'threshold (out-of-fold probability off the label) ', th,
        el('button', { type: 'button', text: 'Apply', onclick: function () { threshold = parseFloat(th.value); history.replaceState(null, '', '/review?id=' + encodeURIComponent(id) + '&threshold=' + threshold); load().catch(error); } })));
      var c = d.counts;
      add(main, el('p', { id: 'review-counts' }, el('b', { text: (c.accepted + c.rejected + c.other) + ' of ' + c.total + ' decided' }),
        ' · accepted ' + c.accepted + ' · rejected ' + c.rejected + (c.other ? ' · other ' + c.other : '') + ' · open ' + c.open + ' · audited ' + d.photos + ' photos of ' + d.people + ' people'));
      add(main, el('p', null, 'Decisions are kept in ', el('code', { id: 'fixes-file', text: d.fixesFile }), ' (written at each click). Train with it: ', el('code', { text: d.trainCommand })));
      if (d.fileError) add(main, el('div', { class: 'banner error', text: d.fileError }));
      add(main, el('p', { class: 'keys' }, 'Keys: ', el('kbd', { text: 'a' }), ' accept · ', el('kbd', { text: 'r' }), ' reject · ', el('kbd', { text: 's' }), ' skip · ',
        el('kbd', { text: 'u' }), ' undo · ', el('kbd', { text: 'j' }), '/', el('kbd', { text: 'k' }), ' next / previous'));
      if (!d.groups.length) add(main, el('p', { class: 'note', id: 'no-suspects', text: 'No suspects at this threshold.' }));
      items = [];
      d.groups.forEach(function (g) {
        var box = el('div', { class: 'group', 'data-person': g.person }, el('h3', { text: g.folder || g.person }));
        g.items.forEach(function (it) {
          var index = items.length;
          var node = el('div', { class: 'item ' + it.decision, 'data-key': it.key, 'data-decision': it.decision, onclick: function () { select(index); } },
            el('div', null, el('b', { text: it.attribute }), ': labelled ', el('b', { text: it.labelled }), ' → suggested ', el('b', { text: it.suggested }),
              el('span', { class: 'note why', text: ' · score ' + it.score.toFixed(3) + ' ≥ threshold ' + it.threshold.toFixed(2) + ' (out-of-fold probability off the label)' +
                (it.predictedAge != null ? ' · predicted age ' + it.predictedAge.toFixed(1) + ' years' : '') }), ' · ', el('span', { class: 'decision', text: it.decision + (it.decision === 'other' ? ' (' + it.existing + ')' : '') })),
            el('div', { class: 'photos' }, it.photos.map(function (p) { return p.url ? el('img', { src: p.url, alt: p.name, title: p.name, loading: 'lazy' }) : el('span', { class: 'note', text: p.name + ' (outside the served folders)' }); })),
            it.canFix ? el('div', null,
              el('button', { type: 'button', class: 'accept', text: 'Accept', onclick: function (e) { e.stopPropagation(); decide(index, 'accept'); } }), ' ',
              el('button', { type: 'button', class: 'reject', text: 'Reject', onclick: function (e) { e.stopPropagation(); decide(index, 'reject'); } }), ' ',
              el('button', { type: 'button', class: 'skip', text: 'Skip', onclick: function (e) { e.stopPropagation(); next(); } }), ' ',
              it.decision !== 'open' ? el('button', { type: 'button', class: 'undo', text: 'Undo', onclick: function (e) { e.stopPropagation(); decide(index, 'undo'); } }) : null)
              : el('p', { class: 'note', text: 'not on the 18 task classes: no label_fixes row can express it' }));
          items.push({ it: it, node: node });
          add(box, node);
        });
        add(main, box);
      });
      select(Math.min(current, items.length - 1), true);
    }
    function select(i, quiet) {
      if (i < 0 || i >= items.length) return;
      items.forEach(function (x) { x.node.classList.remove('current'); });
      current = i;
      items[i].node.classList.add('current');
      if (!quiet) items[i].node.scrollIntoView({ block: 'nearest' });
    }
    function next() {
      for (var i = current + 1; i < items.length; i++) if (items[i].it.decision === 'open') { select(i); return; }
      select(Math.min(current + 1, items.length - 1));
    }
    function decide(i, decision) {
      var it = items[i].it;
      if (!it.canFix) return;
      select(i, true);
      post('/api/review/decide', JSON.stringify({ id: id, key: it.key, decision: decision, threshold: threshold })).then(function () {
        return load();
      }).then(function () { if (decision !== 'undo') next(); }).catch(function (e) { live('not saved: ' + e.message); alert(e.message); });
    }
    document.addEventListener('keydown', function (e) {
      if (e.target && (e.target.tagName === 'INPUT' || e.target.tagName === 'SELECT') || !items.length) return;
      if (e.key === 'a') decide(current, 'accept');
      else if (e.key === 'r') decide(current, 'reject');
      else if (e.key === 'u') decide(current, 'undo');
      else if (e.key === 's' || e.key === 'j' || e.key === 'ArrowDown') { e.preventDefault(); if (e.key === 's') next(); else select(current + 1); }
      else if (e.key === 'k' || e.key === 'ArrowUp') { e.preventDefault(); select(current - 1); }
    });
    load().catch(error);
  }

  // ---- try a photo ----
  function tryPage() {
    document.title = 'MaskLab: try a photo';
    clear(main);
    add(main, el('h1', { text: 'Try a photo' }));
    add(main, el('p', { class: 'note', text: 'The photo is read by the same checked decoder as training, cut around its face where the run crops faces, and given to the run (or every fold of a k-fold run, soft-voted). It is not kept.' }));
    var select = el('select', { id: 'try-run' });
    var file = el('input', { type: 'file', id: 'try-file', accept: 'image/*' });
    var go = el('button', { type: 'button', class: 'primary', id: 'try-go', text: 'Predict' });
    var out = el('div', { id: 'try-result' });
    add(main, [el('div', { class: 'toolbar' }, 'run ', select, file, go), out]);
    api('/api/try/runs').then(function (runs) {
      if (!runs.length) add(out, el('p', { class: 'note', text: 'No run has weights to predict with yet.' }));
      runs.forEach(function (r) { select.appendChild(el('option', { value: r.id, text: r.id + (r.kind === 'kFold' ? ' (k-fold ensemble)' : '') + (r.valF1 != null ? ' · val F1 ' + f4(r.valF1) : '') })); });
      var want = params.get('id');
      if (want) select.value = want;
    }).catch(error);
    go.addEventListener('click', function () {
      var f = file.files && file.files[0];
      if (!f) { clear(out); add(out, el('div', { class: 'banner warn', text: 'choose a photo first' })); return; }
      clear(out); add(out, el('p', { class: 'note', text: 'predicting…' }));
      post('/api/try?id=' + encodeURIComponent(select.value), f, 'application/octet-stream').then(function (r) { show(r, f); })
        .catch(function (e) { clear(out); add(out, el('div', { class: 'banner error', id: 'try-error', text: e.message })); });
    });
    function show(r, f) {
      clear(out);
      var canvas = el('canvas', { id: 'try-canvas' });
      var img = new Image();
      img.onload = function () {
        // Small photos are drawn larger (the task's are 384 x 512, a test set's may be 48 x 64).
        var scale = Math.min(420 / img.width, 480 / img.height);
        canvas.width = Math.round(img.width * scale); canvas.height = Math.round(img.height * scale);
        var g = canvas.getContext('2d');
        g.drawImage(img, 0, 0, canvas.width, canvas.height);
        g.lineWidth = 2;
        if (r.crop) { g.strokeStyle = '#0969da'; g.setLineDash([6, 4]); g.strokeRect(r.crop.x * scale, r.crop.y * scale, r.crop.width * scale, r.crop.height * scale); }
        if (r.face) { g.strokeStyle = '#1a7f37'; g.setLineDash([]); g.strokeRect(r.face.x * scale, r.face.y * scale, r.face.width * scale, r.face.height * scale); }
      };
      img.src = URL.createObjectURL(f);
      var a = r.answer;
      var left = el('div', null, canvas,
        el('p', { class: 'note', text: r.faceCrop ? (r.face ? 'green: the face found; blue dashes: the crop the run sees' : 'no face found: blue dashes show the centred crop the run falls back to') : 'this run reads whole photos (no face crop)' }));
      var sorted = r.probabilities.slice().sort(function (x, y) { return y.p - x.p; });
      var right = el('div', null,
        el('div', { class: 'answer', id: 'try-answer' }, a ? [el('b', { text: a.mask }), ' (' + a.maskP.toFixed(2) + ') · ', el('b', { text: a.gender }), ' (' + a.genderP.toFixed(2) + ') · ',
          el('b', { text: a.age }), ' (' + a.ageP.toFixed(2) + ')'] : [el('b', { text: r.topName }), ' (' + r.topP.toFixed(2) + ')']),
        el('p', { class: 'note', text: r.models > 1 ? r.models + ' fold models soft-voted: ' + r.checkpoints.join(', ') : 'weights: ' + r.checkpoints.join(', ') }),
        el('table', { class: 'bars', id: 'try-probs' }, el('tbody', null, sorted.map(function (p) {
          return el('tr', { 'data-class': p['class'] }, el('td', { text: p.name }), el('td', { class: 'num', text: p.p.toFixed(4) }),
            el('td', null, el('span', { class: 'bar', style: 'width:' + Math.round(240 * p.p) + 'px' })));
        }))));
      add(out, el('div', { class: 'trial' }, left, right));
    }
  }

  var routes = { '/': runsPage, '/run': runPage, '/compare': comparePage, '/sweep': sweepPage, '/review': reviewPage, '/try': tryPage };
  (routes[location.pathname] || function () { error('no such page'); })();
})();
