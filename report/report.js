/* scg-report's page: draws the summary (cards, charts, tables) from the
 * scg-stats object and browses the records, filtered by stop reason, kind,
 * persona, label and text, in a list that renders only the rows in view.
 * The state lives in location.hash (#reason=max_turns&q=refund&id=p0001.c2)
 * so that a view can be linked to. Record text only ever goes into the page
 * as text (textContent), never as markup. */
(function () {
'use strict';
var R = JSON.parse(document.getElementById('scg-records').textContent);
var S = JSON.parse(document.getElementById('scg-stats').textContent);
var ROW = 44;

function $(id) { return document.getElementById(id); }
function el(tag, cls, text) {
	var e = document.createElement(tag);
	if (cls) e.className = cls;
	if (text !== undefined && text !== null) e.textContent = String(text);
	return e;
}
function esc(s) {
	return String(s).replace(/[&<>"']/g, function (c) {
		return {'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;'}[c];
	});
}
function num(n) { return Number(n || 0).toLocaleString('en-US'); }
function money(x) { return '$' + Number(x || 0).toFixed(4); }
function pct(x) { return (100 * (x || 0)).toFixed(1) + '%'; }
function entries(o) { return Object.keys(o || {}).map(function (k) { return [k, o[k]]; }); }

/* ---- summary ---------------------------------------------------------- */

function card(key, value, label, bad) {
	var c = el('div', 'card' + (bad ? ' bad' : ''));
	c.dataset.stat = key;
	c.appendChild(el('div', 'n', value));
	c.appendChild(el('div', 'l', label));
	$('cards').appendChild(c);
}

function panel(where, title) {
	if (where === 'evals' && !$('evals')) {
		var d = el('div', 'tables');
		d.id = 'evals';
		$('charts').parentNode.insertBefore(d, $('charts'));
	}
	var p = el('div', 'panel');
	p.appendChild(el('h3', '', title));
	$(where).appendChild(p);
	return p;
}

/* horizontal bars: rows of [label, value]; show formats the value */
function hbars(title, rows, show, cls) {
	if (!rows.length) return;
	var p = panel('charts', title), max = 0, h = 18, lw = 150, w = 460;
	rows.forEach(function (r) { max = Math.max(max, r[1]); });
	var s = '<svg viewBox="0 0 ' + w + ' ' + (rows.length * h + 4) + '" role="img">';
	rows.forEach(function (r, i) {
		var bw = max ? Math.max(1, (w - lw - 80) * r[1] / max) : 0, y = i * h + 2;
		var label = String(r[0]);
		if (label.length > 24) label = label.slice(0, 23) + '\u2026';
		s += '<text x="0" y="' + (y + 12) + '">' + esc(label) + '</text>' +
			'<rect class="bar ' + esc(cls || '') + '" x="' + lw + '" y="' + y + '" width="' + bw.toFixed(1) +
			'" height="' + (h - 4) + '"><title>' + esc(r[0]) + '</title></rect>' +
			'<text x="' + (lw + bw + 4).toFixed(1) + '" y="' + (y + 12) + '">' + esc(show ? show(r[1]) : num(r[1])) + '</text>';
	});
	p.insertAdjacentHTML('beforeend', s + '</svg>');
	p.dataset.chart = title;
}

/* vertical bars, one series per role: buckets is [label, ...], series [[name, [v...]]] */
function vbars(title, buckets, series) {
	if (!buckets.length) return;
	var p = panel('charts', title), max = 0, w = 460, h = 150, base = 130;
	series.forEach(function (s) { s[1].forEach(function (v) { max = Math.max(max, v); }); });
	var gw = (w - 20) / buckets.length, bw = Math.max(2, (gw - 6) / series.length);
	var s = '<svg viewBox="0 0 ' + w + ' ' + h + '" role="img">';
	buckets.forEach(function (b, i) {
		var x0 = 10 + i * gw;
		series.forEach(function (se, k) {
			var v = se[1][i] || 0, bh = max ? (base - 14) * v / max : 0;
			s += '<rect class="bar ' + esc(se[0]) + '" x="' + (x0 + 3 + k * bw).toFixed(1) + '" y="' +
				(base - bh).toFixed(1) + '" width="' + (bw - 1).toFixed(1) + '" height="' + bh.toFixed(1) +
				'"><title>' + esc(se[0] + ' ' + b + ': ' + v) + '</title></rect>';
			if (series.length === 1 && v)
				s += '<text x="' + (x0 + 3).toFixed(1) + '" y="' + (base - bh - 2).toFixed(1) + '">' + num(v) + '</text>';
		});
		s += '<text x="' + (x0 + 3).toFixed(1) + '" y="' + (base + 14) + '">' + esc(b) + '</text>';
	});
	if (series.length > 1)
		series.forEach(function (se, k) {
			s += '<rect class="bar ' + esc(se[0]) + '" x="' + (w - 110) + '" y="' + (4 + k * 14) + '" width="10" height="10"></rect>' +
				'<text x="' + (w - 96) + '" y="' + (13 + k * 14) + '">' + esc(se[0]) + '</text>';
		});
	p.insertAdjacentHTML('beforeend', s + '</svg>');
	p.dataset.chart = title;
}

function table(where, title, head, rows) {
	if (!rows.length) return null;
	var p = panel(where, title), t = el('table'), tr = el('tr');
	head.forEach(function (h) { tr.appendChild(el('th', /^[#$]|num/.test(h) ? 'num' : '', h.replace(/^#/, ''))); });
	t.appendChild(tr);
	rows.forEach(function (r) {
		var row = el('tr');
		r.forEach(function (c, i) {
			var td = el('td', /^[#$]|num/.test(head[i]) ? 'num' : '');
			if (c instanceof Node) td.appendChild(c); else td.textContent = c;
			row.appendChild(td);
		});
		t.appendChild(row);
	});
	p.appendChild(t);
	return p;
}

function idLinks(ids) {
	var span = el('span');
	(ids || []).forEach(function (id, i) {
		if (i) span.appendChild(document.createTextNode(', '));
		var a = el('a', '', id);
		a.href = '#tab=records&id=' + encodeURIComponent(id);
		span.appendChild(a);
	});
	return span;
}

function rateText(r) {
	return r.rate.toFixed(3) + ' [' + r.ci[0].toFixed(3) + ', ' + r.ci[1].toFixed(3) + ']';
}

function rateRows(title, o) {
	table('evals', title, ['', '#n', '#met', '#rate [95% CI]'], entries(o).map(function (e) {
		return [e[0], num(e[1].n), num(e[1].successes), rateText(e[1])];
	}));
}

/* the judge's verdicts: scg-judge's "eval", summed up by scg-stats */
function evalSummary(e) {
	card('success', e.success.rate.toFixed(3), 'goal met: ' + e.success.successes + ' of ' + e.success.n +
		', 95% CI ' + e.success.ci[0].toFixed(3) + '\u2013' + e.success.ci[1].toFixed(3), e.success.rate < 1);
	if (e.pass_k.mean !== null) card('pass_k', e.pass_k.mean.toFixed(3), 'pass^' + e.pass_k.k + ' over ' + e.pass_k.personas + ' personas');
	hbars('Outcomes', entries(e.outcomes));
	if (entries(e.failures).length) hbars('Failure categories', entries(e.failures));
	table('evals', 'Criteria (normalised to 0..1)', ['criterion', '#n', '#mean', '#95% CI', '#weight'],
		entries(e.criteria).map(function (c) {
			return [c[0], num(c[1].n), c[1].mean.toFixed(3), c[1].ci[0].toFixed(3) + ' – ' + c[1].ci[1].toFixed(3), String(c[1].weight)];
		}).concat(e.score.n ? [['weighted score', num(e.score.n), e.score.mean.toFixed(3),
			e.score.ci[0].toFixed(3) + ' – ' + e.score.ci[1].toFixed(3), '']] : []));
	rateRows('Success by persona', e.by_persona);
	rateRows('Success by axis label', e.by_axis);
	rateRows('Success by stop reason', e.by_stop_reason);
	table('evals', 'pass^' + e.pass_k.k + ' by persona', ['persona', '#pass^k'], entries(e.pass_k.by_persona).map(function (p) {
		return [p[0], p[1] === null ? 'fewer tries than k' : p[1].toFixed(3)];
	}));
	if (e.failed.count) table('evals', 'Goal not met', ['#', 'conversations'], [[num(e.failed.count), idLinks(e.failed.ids)]]);
}

function compareSummary(c) {
	var k = c.compare, s = k.success, m = s.mcnemar;
	card('success_change', (s.change >= 0 ? '+' : '') + s.change.toFixed(3), 'success change from ' + c.a.file.replace(/^.*\//, ''), s.change < 0);
	var rows = [['success', s.a.rate.toFixed(3), s.b.rate.toFixed(3), (s.change >= 0 ? '+' : '') + s.change.toFixed(3),
		'McNemar ' + m.method + ' p = ' + m.p + ' (' + m.to_met + ' now met, ' + m.to_not_met + ' no longer)']];
	entries(k.criteria).forEach(function (e) {
		var v = e[1];
		rows.push([e[0], v.a.toFixed(3), v.b.toFixed(3), (v.change >= 0 ? '+' : '') + v.change.toFixed(3),
			'Wilcoxon p = ' + v.wilcoxon.p + ', sign p = ' + v.sign.p + ' (n ' + v.n + ')']);
	});
	var p = table('evals', 'Compared with ' + c.a.file + ' (' + k.pairs + ' pairs)', ['', '#A', '#B', '#change', 'paired test'], rows);
	if (p) p.classList.add('wide');
	table('evals', 'Flipped', ['', 'conversations'], [['now met', idLinks(k.flipped.to_met)],
		['no longer met', idLinks(k.flipped.to_not_met)]]);
}

function summary() {
	var health = 0;
	entries(S.health).forEach(function (h) { health += h[1].count; });
	var d = S.diversity || {};
	card('records', num(S.records), 'records');
	card('conversations', num(S.conversations), 'conversations');
	if (S.dpo_pairs) card('dpo_pairs', num(S.dpo_pairs), 'DPO pairs');
	card('rejects', num(S.rejected.count), 'rejected', S.rejected.count > 0);
	card('cost', money(S.usage.cost), 'cost (USD)');
	card('tokens', num(S.usage.prompt_tokens + S.usage.completion_tokens), 'tokens');
	card('requests', num(S.usage.requests), 'model requests');
	if (S.turns.count) card('turns', (S.turns.mean || 0).toFixed(1), 'user turns, mean');
	card('health', num(health), 'health flags', health > 0);
	card('near_duplicates', pct(d.near_duplicates.share), 'with a near duplicate', d.near_duplicates.conversations > 0);
	if (d.personas.count) card('personas', num(d.personas.count), 'personas');
	if (d.axes.seen) card('axes', pct(d.axes.coverage), 'axes combinations covered');

	if (S.compare) compareSummary(S.compare);
	if (S.eval) evalSummary(S.eval);

	hbars('Stop reasons', entries(S.stop.reason));
	hbars('Stopped by', entries(S.stop.by));
	hbars('Kinds', entries(S.kinds));
	var th = entries(S.turns.histogram);
	vbars('User turns per conversation', th.map(function (e) { return e[0]; }), [['turns', th.map(function (e) { return e[1]; })]]);
	var roles = entries(S.chars), buckets = roles.length ? roles[0][1].histogram.map(function (b) {
		return b.hi === null ? b.lo + '+' : '<' + b.hi;
	}) : [];
	vbars('Characters per message', buckets, roles.map(function (r) {
		return [r[0], r[1].histogram.map(function (b) { return b.count; })];
	}));
	hbars('Cost by model (USD)', entries(S.usage.models).map(function (m) { return [m[0], m[1].cost]; }), money);
	hbars('Cost by stage (USD)', entries(S.usage.stages).map(function (m) { return [m[0], m[1].cost]; }), money);
	hbars('Conversations per persona (top 20)', entries(d.personas.by_persona).slice(0, 20));
	hbars('Axes combinations', entries(d.axes.combinations).slice(0, 20));

	var use = [];
	[['model', S.usage.models], ['stage', S.usage.stages]].forEach(function (g) {
		entries(g[1]).forEach(function (m) {
			use.push([g[0], m[0], num(m[1].requests), num(m[1].prompt_tokens), num(m[1].completion_tokens), money(m[1].cost)]);
		});
	});
	var up = table('tables', 'Usage', ['', 'name', '#requests', '#prompt', '#completion', '$cost'], use);
	if (up) up.classList.add('wide');
	table('tables', 'Health checks', ['check', '#conversations', 'first ids'], entries(S.health).map(function (h) {
		return [h[0].replace(/_/g, ' '), num(h[1].count), idLinks(h[1].ids)];
	}));
	var div = entries(d.distinct).map(function (r) {
		return [r[0], num(r[1].words), r[1].distinct_1.toFixed(3), r[1].distinct_2.toFixed(3)];
	});
	var nd = d.near_duplicates;
	var ndp = table('tables', 'Diversity', ['role', '#words', '#distinct-1', '#distinct-2'], div);
	if (ndp) ndp.appendChild(el('p', '', num(nd.conversations) + ' conversations (' + pct(nd.share) +
		') have a near duplicate at Jaccard \u2265 ' + nd.threshold + '.'));
	if (S.dpo_pairs) table('tables', 'DPO pairs', ['', '#mean chars', '#p50', '#p90'], [
		['chosen', S.dpo.chosen_chars.mean.toFixed(1), num(S.dpo.chosen_chars.p50), num(S.dpo.chosen_chars.p90)],
		['rejected', S.dpo.rejected_chars.mean.toFixed(1), num(S.dpo.rejected_chars.p50), num(S.dpo.rejected_chars.p90)],
		['identical openings', num(S.dpo.identical_openings), pct(S.dpo.identical_openings_share), '']]);
	var rej = [];
	entries(S.rejected.programs).forEach(function (p) {
		entries(p[1].reasons).forEach(function (r) { rej.push([p[0], r[0], num(r[1])]); });
	});
	table('tables', 'Rejects', ['program', 'reason', '#count'], rej);
}

/* ---- the records -------------------------------------------------------- */

function kindOf(r) {
	if (typeof r.kind === 'string') return r.kind;
	if (r.chosen && r.rejected) return 'dpo';
	if (Array.isArray(r.messages)) return 'conversation';
	if (r.scene) return 'scene';
	return 'other';
}

function labelsOf(r) {
	var out = [], p = r.persona || {}, m = r.meta || {};
	entries(p.axes).forEach(function (a) { out.push(a[0] + ': ' + a[1]); });
	if (typeof m.template === 'string') out.push('template: ' + m.template);
	else if (m.template && m.template.name) out.push('template: ' + m.template.name);
	entries(m.injections).forEach(function (a) { if (typeof a[1] === 'string' && a[1].length < 60) out.push(a[0] + ': ' + a[1]); });
	if (r.scene && typeof r.scene.kind === 'string') out.push('scene: ' + r.scene.kind);
	return out;
}

var info = R.map(function (r) {
	return {
		reason: r.stop && r.stop.reason ? String(r.stop.reason) : '(none)',
		outcome: r.eval && r.eval.outcome ? String(r.eval.outcome) : r.stop && r.stop.outcome ? String(r.stop.outcome) : '(none)',
		kind: kindOf(r),
		persona: r.persona && r.persona.name ? String(r.persona.name) : '(none)',
		labels: labelsOf(r),
		text: null
	};
});

function textOf(i) {
	if (info[i].text === null) {
		var r = R[i], parts = [String(r.id || '')];
		['messages', 'original_messages', 'prompt', 'chosen', 'rejected'].forEach(function (k) {
			(Array.isArray(r[k]) ? r[k] : []).forEach(function (m) { if (m && typeof m.content === 'string') parts.push(m.content); });
		});
		info[i].text = parts.join('\n').toLowerCase();
	}
	return info[i].text;
}

function options(sel, values) {
	var counts = {};
	values.forEach(function (v) { counts[v] = (counts[v] || 0) + 1; });
	sel.appendChild(new Option('all', ''));
	entries(counts).sort(function (a, b) { return b[1] - a[1] || (a[0] < b[0] ? -1 : 1); }).forEach(function (e) {
		sel.appendChild(new Option(e[0] + ' (' + e[1] + ')', e[0]));
	});
}

options($('f-reason'), info.map(function (x) { return x.reason; }));
options($('f-kind'), info.map(function (x) { return x.kind; }));
options($('f-outcome'), info.map(function (x) { return x.outcome; }));
options($('f-persona'), info.map(function (x) { return x.persona; }));
options($('f-label'), [].concat.apply([], info.map(function (x) { return x.labels; })));

var state = {}, shown = [], selected = -1;

function readHash() {
	var q = new URLSearchParams(location.hash.replace(/^#/, ''));
	state = {};
	['tab', 'reason', 'kind', 'outcome', 'persona', 'label', 'q', 'id'].forEach(function (k) { if (q.get(k)) state[k] = q.get(k); });
}

function writeHash() {
	var q = new URLSearchParams();
	entries(state).forEach(function (e) { if (e[1]) q.set(e[0], e[1]); });
	var h = q.toString();
	history.replaceState(null, '', h ? '#' + h : location.pathname + location.search);
}

function filter() {
	var q = (state.q || '').toLowerCase();
	shown = [];
	for (var i = 0; i < R.length; i++) {
		var x = info[i];
		if (state.reason && x.reason !== state.reason) continue;
		if (state.kind && x.kind !== state.kind) continue;
		if (state.outcome && x.outcome !== state.outcome) continue;
		if (state.persona && x.persona !== state.persona) continue;
		if (state.label && x.labels.indexOf(state.label) < 0) continue;
		if (q && textOf(i).indexOf(q) < 0) continue;
		shown.push(i);
	}
	$('shown').textContent = num(shown.length);
	$('total').textContent = num(R.length);
	$('rows').style.height = shown.length * ROW + 'px';
	$('list').scrollTop = 0;
	draw();
}

function snippet(r) {
	var msgs = Array.isArray(r.messages) ? r.messages : Array.isArray(r.prompt) ? r.prompt : [];
	for (var i = 0; i < msgs.length; i++)
		if (msgs[i] && msgs[i].role === 'user' && typeof msgs[i].content === 'string') return msgs[i].content.slice(0, 160);
	if (r.scene) return entries(r.scene).map(function (e) { return e[1]; }).join(' \u00b7 ').slice(0, 160);
	return '';
}

/* only the rows in view (and a few around) are in the page */
function draw() {
	var list = $('list'), rows = $('rows');
	var first = Math.max(0, Math.floor(list.scrollTop / ROW) - 5);
	var last = Math.min(shown.length, Math.ceil((list.scrollTop + (list.clientHeight || 600)) / ROW) + 5);
	rows.textContent = '';
	for (var k = first; k < last; k++) {
		var i = shown[k], r = R[i], x = info[i], row = el('div', 'row' + (i === selected ? ' sel' : ''));
		row.style.top = k * ROW + 'px';
		row.dataset.idx = i;
		row.dataset.id = r.id || '';
		row.dataset.reason = x.reason;
		row.appendChild(el('span', 'id', r.id || '#' + (i + 1)));
		row.appendChild(el('span', 'tag', x.kind));
		if (x.reason !== '(none)') row.appendChild(el('span', 'tag', x.reason));
		if (x.outcome !== '(none)') row.appendChild(el('span', 'tag ' + (x.outcome === 'met' ? 'ok' : 'bad'), x.outcome));
		if (x.persona !== '(none)') row.appendChild(el('span', 'tag', x.persona));
		row.appendChild(el('div', 'snip', snippet(r)));
		rows.appendChild(row);
	}
}

/* ---- one record --------------------------------------------------------- */

function dl(pairs) {
	var d = el('dl');
	pairs.forEach(function (p) {
		if (p[1] === undefined || p[1] === null || p[1] === '') return;
		d.appendChild(el('dt', '', p[0]));
		var dd = el('dd');
		if (p[1] instanceof Node) dd.appendChild(p[1]); else dd.textContent = typeof p[1] === 'object' ? JSON.stringify(p[1]) : String(p[1]);
		d.appendChild(dd);
	});
	return d;
}

/* the name of the tool whose call a tool message answers */
function toolName(list, m) {
	var name = '';
	list.forEach(function (x) {
		(x && Array.isArray(x.tool_calls) ? x.tool_calls : []).forEach(function (c) {
			if (c && c.id === m.tool_call_id && c.function) name = String(c.function.name);
		});
	});
	return name;
}

function messages(list) {
	var box = el('div');
	list = Array.isArray(list) ? list : [];
	list.forEach(function (m) {
		var role = m && typeof m.role === 'string' ? m.role : '?';
		var calls = m && Array.isArray(m.tool_calls) ? m.tool_calls : [];
		var div = el('div', 'msg ' + role.replace(/[^a-z]/g, ''));
		div.appendChild(el('span', 'role', role === 'tool' ? 'tool ' + toolName(list, m) : role));
		if (m && typeof m.content === 'string') div.appendChild(document.createTextNode(m.content));
		else if (!calls.length) div.appendChild(document.createTextNode(JSON.stringify(m && m.content)));
		calls.forEach(function (c) {
			var f = c && c.function ? c.function : {};
			div.appendChild(el('code', 'call', '\u2192 ' + f.name + ' ' + (typeof f.arguments === 'string' ? f.arguments : JSON.stringify(f.arguments))));
		});
		box.appendChild(div);
	});
	return box;
}

function pair(a, b, ta, tb) {
	var p = el('div', 'pair'), l = el('div', 'left'), r = el('div', 'right');
	l.appendChild(el('h3', '', ta)); l.appendChild(messages(a));
	r.appendChild(el('h3', '', tb)); r.appendChild(messages(b));
	p.appendChild(l); p.appendChild(r);
	return p;
}

function usageTable(u) {
	var t = el('table'), tr = el('tr');
	['model / stage', 'requests', 'prompt', 'completion', 'cost'].forEach(function (h, i) { tr.appendChild(el('th', i ? 'num' : '', h)); });
	t.appendChild(tr);
	function line(name, v) {
		var row = el('tr');
		[name, num(v.requests), num(v.prompt_tokens), num(v.completion_tokens), v.cost === undefined ? '' : money(v.cost)].forEach(function (c, i) {
			row.appendChild(el('td', i ? 'num' : '', c));
		});
		t.appendChild(row);
	}
	entries(u).forEach(function (m) {
		line(m[0], m[1]);
		entries(m[1].stages).forEach(function (s) { line('\u2003' + s[0], s[1]); });
	});
	return t;
}

function evalView(e) {
	var box = el('div', 'eval');
	box.appendChild(el('h3', '', 'verdict'));
	var ev = e.evidence || {};
	box.appendChild(dl([
		['outcome', e.outcome],
		['evidence', ev.text !== undefined ? (ev.turn !== undefined ? 'turn ' + ev.turn + ': ' : '') + ev.text : ''],
		['failures', Array.isArray(e.failures) ? e.failures.join(', ') : '']
	]));
	var crit = entries(e.criteria);
	if (crit.length) {
		var t = el('table'), tr = el('tr');
		['criterion', 'score', 'scale', 'weight', 'reason'].forEach(function (h, i) { tr.appendChild(el('th', i && i < 4 ? 'num' : '', h)); });
		t.appendChild(tr);
		crit.forEach(function (c) {
			var row = el('tr'), x = c[1] || {};
			[c[0], x.score, Array.isArray(x.scale) ? x.scale.join('–') : '', x.weight === undefined ? '' : x.weight, x.reason].forEach(function (v, i) {
				row.appendChild(el('td', i && i < 4 ? 'num' : '', v === undefined ? '' : v));
			});
			t.appendChild(row);
		});
		box.appendChild(t);
	}
	return box;
}

function show(i) {
	selected = i;
	var v = $('view'), r = R[i];
	v.textContent = '';
	if (!r) { v.appendChild(el('p', 'hint', 'No record with that id.')); return; }
	v.dataset.id = r.id || '';
	v.appendChild(el('h2', '', r.id || '#' + (i + 1)));
	var p = r.persona || {}, s = r.stop || {}, src = r.source || {}, m = r.meta || {};
	v.appendChild(dl([
		['kind', info[i].kind],
		['persona', p.name], ['description', p.description], ['goal', p.goal || p.scenario],
		['axes', entries(p.axes).map(function (a) { return a[0] + ': ' + a[1]; }).join(', ')],
		['assistant', r.assistant && r.assistant.name], ['character', r.character && r.character.name],
		['scene', r.scene ? entries(r.scene).map(function (e) { return e[0] + ': ' + (typeof e[1] === 'string' ? e[1] : JSON.stringify(e[1])); }).join('\n') : ''],
		['source', src.file ? src.file + (src.chunk !== undefined ? ' #' + src.chunk : '') : ''],
		['chunk', src.text],
		['task', r.task ? [r.task.goal, r.task.outcome].filter(Boolean).join(' \u2192 ') : ''],
		['stop', s.reason ? s.reason + (s.by ? ' by ' + s.by : '') + (s.turn !== undefined ? ' at turn ' + s.turn : '') : ''],
		['outcome', s.outcome ? s.outcome + (Array.isArray(s.failed) ? ': ' + s.failed.join('; ') : '') : ''],
		['rationale', s.rationale],
		['tool state', r.tool_state],
		['labels', info[i].labels.join(', ')],
		['params', m.params]
	]));
	if (Array.isArray(r.messages) && Array.isArray(r.original_messages))
		v.appendChild(pair(r.original_messages, r.messages, 'original', 'restyled'));
	else if (Array.isArray(r.messages))
		v.appendChild(messages(r.messages));
	if (Array.isArray(r.prompt)) v.appendChild(messages(r.prompt));
	if (Array.isArray(r.chosen) && Array.isArray(r.rejected)) v.appendChild(pair(r.chosen, r.rejected, 'chosen', 'rejected'));
	if (r.eval && typeof r.eval === 'object') v.appendChild(evalView(r.eval));
	if (m.usage && entries(m.usage).length) {
		v.appendChild(el('h3', '', 'usage'));
		v.appendChild(usageTable(m.usage));
	}
	v.scrollTop = 0;
	draw();
}

function byId(id) {
	for (var i = 0; i < R.length; i++) if (String(R[i].id) === id) return i;
	return -1;
}

function apply() {
	readHash();
	['reason', 'kind', 'outcome', 'persona', 'label', 'q'].forEach(function (k) {
		var e = document.querySelector('[data-key="' + k + '"]');
		e.value = state[k] || '';
	});
	var records = state.tab ? state.tab === 'records' : Object.keys(state).length > 0;
	$('overview').hidden = records;
	$('records').hidden = !records;
	document.querySelectorAll('[data-tab]').forEach(function (a) {
		a.classList.toggle('on', a.dataset.tab === (records ? 'records' : 'overview'));
	});
	filter();
	if (state.id) {
		show(byId(state.id));
		var k = shown.indexOf(selected);
		if (k >= 0) { $('list').scrollTop = Math.max(0, k * ROW - ROW * 3); draw(); }
	}
}

summary();
$('filters').addEventListener('input', function (ev) {
	var k = ev.target.dataset.key;
	if (!k) return;
	state[k] = ev.target.value;
	state.tab = 'records';
	writeHash();
	filter();
});
$('filters').addEventListener('submit', function (ev) { ev.preventDefault(); });
$('f-clear').addEventListener('click', function () { state = {tab: 'records'}; writeHash(); apply(); });
$('list').addEventListener('scroll', draw);
$('rows').addEventListener('click', function (ev) {
	var row = ev.target.closest('.row');
	if (!row) return;
	state.id = row.dataset.id;
	state.tab = 'records';
	writeHash();
	show(Number(row.dataset.idx));
});
$('list').addEventListener('keydown', function (ev) {
	var k = shown.indexOf(selected);
	if (ev.key === 'ArrowDown' || ev.key === 'j') k = Math.min(shown.length - 1, k + 1);
	else if (ev.key === 'ArrowUp' || ev.key === 'k') k = Math.max(0, k - 1);
	else return;
	ev.preventDefault();
	state.id = R[shown[k]].id;
	writeHash();
	show(shown[k]);
	var list = $('list');
	if (k * ROW < list.scrollTop) list.scrollTop = k * ROW;
	else if ((k + 1) * ROW > list.scrollTop + list.clientHeight) list.scrollTop = (k + 1) * ROW - list.clientHeight;
});
window.addEventListener('hashchange', apply);
apply();
document.documentElement.dataset.renderMs = Math.round(performance.now());
})();
