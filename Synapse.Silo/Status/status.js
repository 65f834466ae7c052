// The status page: polls the cluster's state (/status) and its last 15 minutes of traffic (/status/history) once
// a second and updates the page in place. Served by the gateway itself (no inline script: the page's CSP is
// script-src 'self').
//
// Everything inserted into the page goes through textContent or attributes: agent names, hosts and model ids
// come from agents and are never parsed as HTML.
import { LineChart } from './charts.js';

const POLL_MS = 1000, HIDDEN_POLL_MS = 5000, TIMEOUT_MS = 4000, KEY = 'synapse-api-key';
const $ = id => document.getElementById(id);
const collapsed = new Set(JSON.parse(sessionStorage.getItem('synapse-collapsed') || '[]'));
let lastOk = 0, skewMs = 0, failures = 0, timer = 0, generation = 0, latest = null;

function h(tag, cls, text) {
  const node = document.createElement(tag);
  if (cls) node.className = cls;
  if (text !== undefined) node.textContent = text;
  return node;
}
function setText(node, value) { const s = String(value); if (node.textContent !== s) node.textContent = s; }
function setAttr(node, name, value) {
  if (value === null || value === undefined) { if (node.hasAttribute(name)) node.removeAttribute(name); return; }
  const s = String(value); if (node.getAttribute(name) !== s) node.setAttribute(name, s);
}
function setClass(node, cls, on) { if (node.classList.contains(cls) !== !!on) node.classList.toggle(cls, !!on); }
function setHidden(node, hidden) { if (node.hidden !== hidden) node.hidden = hidden; }

/** Keeps container's keyed children in the order of items, creating, updating and removing in place. */
function reconcile(container, items, keyOf, create, update) {
  const existing = new Map();
  for (const child of Array.from(container.children)) { if (child.dataset.key !== undefined) existing.set(child.dataset.key, child); }
  let index = 0;
  for (const item of items) {
    const key = keyOf(item);
    let node = existing.get(key);
    if (node) existing.delete(key); else { node = create(item); node.dataset.key = key; }
    update(node, item);
    const at = container.children[index];
    if (at !== node) container.insertBefore(node, at || null);
    index++;
  }
  for (const stale of existing.values()) stale.remove();
}

function shortSilo(address) {
  // Orleans silo addresses read "S10.0.0.5:11111:123456789": endpoint and generation.
  const m = /^S?(.*):(\d+)$/.exec(address || '');
  return m ? m[1] : (address || '—');
}
function fmtMs(ms) {
  if (!(ms > 0)) return '—';
  if (ms < 1) return '<1 ms';
  if (ms < 1000) return Math.round(ms) + ' ms';
  return (ms / 1000).toFixed(ms < 10000 ? 2 : 1) + ' s';
}
function fmtAge(seconds) {
  if (seconds < 0) seconds = 0;
  if (seconds < 60) return Math.floor(seconds) + ' s';
  if (seconds < 3600) return Math.floor(seconds / 60) + ' m ' + Math.floor(seconds % 60) + ' s';
  return Math.floor(seconds / 3600) + ' h ' + Math.floor(seconds % 3600 / 60) + ' m';
}
function serverNow() { return Date.now() + skewMs; }
function plural(n, one, many) { return n + ' ' + (n === 1 ? one : (many || one + 's')); }

function makeLoad() {
  const wrap = h('div', 'load');
  const bar = h('div', 'bar'); bar.appendChild(h('span'));
  const nums = h('span', 'nums');
  const inflight = h('span', 'inflight'); inflight.dataset.field = 'inFlight';
  const cap = h('span', 'cap'); cap.dataset.field = 'capacity';
  nums.append(inflight, cap);
  wrap.append(bar, nums);
  return wrap;
}
function updateLoad(wrap, inFlight, capacity) {
  const ratio = capacity > 0 ? Math.min(1, inFlight / capacity) : (inFlight > 0 ? 1 : 0);
  const bar = wrap.firstChild;
  const width = (ratio * 100).toFixed(1) + '%';
  if (bar.firstChild.style.width !== width) bar.firstChild.style.width = width;
  setClass(bar, 'warm', ratio >= 0.9);
  setText(wrap.querySelector('.inflight'), inFlight);
  setText(wrap.querySelector('.cap'), ' / ' + capacity);
}
function setAge(node, iso) {
  // The age ticks between polls: see tick().
  setAttr(node, 'data-since', iso || null);
  renderAge(node);
}
function renderAge(node) {
  const iso = node.getAttribute('data-since');
  if (!iso) { setText(node, '—'); return; }
  const seconds = (serverNow() - Date.parse(iso)) / 1000;
  setText(node, fmtAge(seconds) + ' ago');
  setClass(node, 'stale-beat', seconds >= 5 && seconds < 15);
  setClass(node, 'dead-beat', seconds >= 15);
}
function siloTags(container, silos, localSilo) {
  reconcile(container, silos || [], s => s, s => { const t = h('span', 'silo-tag'); t.title = s; return t; }, (t, s) => {
    setText(t, shortSilo(s));
    setClass(t, 'local', s === localSilo);
  });
}

// ---- models and instances -------------------------------------------------------------------------------
function createModel(model) {
  const body = h('tbody', 'model');
  body.dataset.model = model.id;
  const row = h('tr', 'model-row');
  row.dataset.model = model.id;
  const name = h('td');
  const wrap = h('div', 'model-name');
  const toggle = h('button', 'toggle');
  toggle.type = 'button';
  toggle.setAttribute('aria-label', 'Show or hide instances');
  toggle.addEventListener('click', () => {
    const id = body.dataset.model;
    if (collapsed.has(id)) collapsed.delete(id); else collapsed.add(id);
    saveCollapsed();
    if (latest) render(latest);
  });
  const id = h('span', 'id');
  const queued = h('span', 'chip queued'); queued.dataset.field = 'queued';
  const none = h('span', 'chip none', 'no instance');
  wrap.append(toggle, id, queued, none);
  name.appendChild(wrap);
  const overview = h('td'); overview.colSpan = 3;
  const line = h('div', 'overview');
  const summary = h('span', 'muted'); summary.dataset.field = 'summary';
  line.append(summary, h('div', 'states'));
  overview.appendChild(line);
  const load = h('td'); load.appendChild(makeLoad());
  const latency = h('td', 'num muted'); latency.dataset.field = 'latency';
  row.append(name, overview, load, latency, h('td'));
  body.appendChild(row);
  return body;
}
function updateModel(body, model, localSilo) {
  const row = body.firstChild;
  const instances = model.instances || [];
  const open = !collapsed.has(model.id);
  const toggle = row.querySelector('.toggle');
  setAttr(toggle, 'aria-expanded', open ? 'true' : 'false');
  setText(row.querySelector('.id'), model.id);
  const queued = row.querySelector('[data-field="queued"]');
  setText(queued, model.queued + ' queued');
  setHidden(queued, !(model.queued > 0));
  setHidden(row.querySelector('.chip.none'), instances.length > 0);
  setAttr(row, 'data-queued', model.queued);
  setAttr(row, 'data-instances', instances.length);
  setText(row.querySelector('[data-field="summary"]'), plural(instances.length, 'instance') + (model.policy ? ' · ' + model.policy : ''));
  const counts = {};
  for (const i of instances) counts[i.state] = (counts[i.state] || 0) + 1;
  const order = ['ready', 'full', 'unhealthy', 'draining'];
  const present = order.filter(s => counts[s]).concat(Object.keys(counts).filter(s => !order.includes(s)));
  reconcile(row.querySelector('.states'), present, s => s, s => { const n = h('span', 'c-' + s); n.append(h('b'), document.createTextNode(' ' + s)); return n; },
    (n, s) => setText(n.firstChild, counts[s]));
  let inFlight = 0, capacity = 0, latencySum = 0, latencyN = 0;
  for (const i of instances) { inFlight += i.inFlight; capacity += i.capacity; if (i.latencyMs > 0) { latencySum += i.latencyMs; latencyN++; } }
  updateLoad(row.querySelector('.load'), inFlight, capacity);
  setText(row.querySelector('[data-field="latency"]'), latencyN ? fmtMs(latencySum / latencyN) : '—');

  // Instance rows follow the model's row inside its tbody.
  const shown = open ? instances : [];
  reconcileRows(body, row, shown, i => i.agentId, createInstance, (tr, i) => updateInstance(tr, i, model.id, localSilo));
}
function reconcileRows(body, header, items, keyOf, create, update) {
  const existing = new Map();
  for (const child of Array.from(body.children)) { if (child !== header) existing.set(child.dataset.key, child); }
  let prev = header;
  for (const item of items) {
    const key = keyOf(item);
    let node = existing.get(key);
    if (node) existing.delete(key); else { node = create(item); node.dataset.key = key; }
    update(node, item);
    if (prev.nextSibling !== node) body.insertBefore(node, prev.nextSibling);
    prev = node;
  }
  for (const stale of existing.values()) stale.remove();
  const rows = body.children;
  for (let k = 0; k < rows.length; k++) setClass(rows[k], 'last', k === rows.length - 1);
}
function createInstance() {
  const tr = h('tr', 'instance');
  const agent = h('td', 'agent-cell');
  agent.append(h('div', 'name'), h('div', 'aid'));
  const host = h('td', 'mono muted host'); host.dataset.field = 'host';
  const silos = h('td'); silos.appendChild(h('div', 'silo-tags'));
  const state = h('td');
  const badge = h('span', 'state'); badge.dataset.field = 'state';
  const fails = h('span', 'fails'); fails.dataset.field = 'failures';
  state.append(badge, fails);
  const load = h('td'); load.appendChild(makeLoad());
  const engine = h('div', 'engine-signals'); engine.dataset.field = 'engine'; load.appendChild(engine);
  const latency = h('td', 'num'); latency.dataset.field = 'latency';
  const beat = h('td', 'num'); const age = h('span', 'age'); age.dataset.field = 'heartbeat'; beat.appendChild(age);
  tr.append(agent, host, silos, state, load, latency, beat);
  return tr;
}
function updateInstance(tr, i, modelId, localSilo) {
  setAttr(tr, 'data-model', modelId);
  setAttr(tr, 'data-agent-id', i.agentId);
  setAttr(tr, 'data-state', i.state);
  setAttr(tr, 'data-in-flight', i.inFlight);
  setText(tr.querySelector('.name'), i.name || i.agentId);
  setText(tr.querySelector('.aid'), i.agentId);
  setText(tr.querySelector('[data-field="host"]'), i.host || '—');
  setAttr(tr.querySelector('[data-field="host"]'), 'title', i.host || null);
  siloTags(tr.querySelector('.silo-tags'), i.silos, localSilo);
  const badge = tr.querySelector('[data-field="state"]');
  setAttr(badge, 'data-state', i.state);
  setText(badge, i.state);
  const fails = tr.querySelector('[data-field="failures"]');
  setText(fails, plural(i.consecutiveFailures, 'failure'));
  setHidden(fails, !(i.consecutiveFailures > 0));
  updateLoad(tr.querySelector('.load'), i.inFlight, i.capacity);
  // The engine's own load as its agent read it (vLLM, SGLang, llama.cpp); absent for engines with nothing to read.
  const e = i.engine, engine = tr.querySelector('[data-field="engine"]');
  setText(engine, e ? (e.engine || 'engine') + ': ' + e.running + ' running'
    + (e.waiting != null ? ' · ' + e.waiting + ' queued' : '') + (e.kvUsage != null ? ' · KV ' + Math.round(e.kvUsage * 100) + '%' : '') : '');
  setHidden(engine, !e);
  setText(tr.querySelector('[data-field="latency"]'), fmtMs(i.latencyMs));
  setAge(tr.querySelector('[data-field="heartbeat"]'), i.lastHeartbeat);
}

// ---- silos -----------------------------------------------------------------------------------------------
const siloColours = { Active: 'ready', Joining: 'full', Created: 'full', ShuttingDown: 'draining', Stopping: 'draining', Dead: 'unhealthy' };
function createSilo() {
  const tr = h('tr');
  const addr = h('td'); addr.append(h('span', 'mono addr'), h('span', 'tag', 'this'));
  const name = h('td', 'mono muted'); name.dataset.field = 'name';
  const status = h('td'); status.appendChild(h('span', 'silo-status'));
  const agents = h('td', 'num'); agents.dataset.field = 'agents';
  const answered = h('td'); const said = h('span'); said.dataset.field = 'answered'; answered.appendChild(said);
  tr.append(addr, name, status, agents, answered);
  return tr;
}
function updateSilo(tr, s, answeredBy) {
  setAttr(tr, 'data-silo', s.address);
  setAttr(tr, 'data-status', s.status);
  const addr = tr.querySelector('.addr');
  setText(addr, shortSilo(s.address));
  setAttr(addr, 'title', s.address);
  setText(tr.querySelector('[data-field="name"]'), s.name || '');
  const tag = tr.querySelector('.tag');
  setHidden(tag, s.address !== answeredBy);
  setAttr(tag, 'title', 'The silo this page is talking to');
  const status = tr.querySelector('.silo-status');
  setAttr(status, 'class', 'silo-status c-' + (siloColours[s.status] || 'draining'));
  setText(status, s.status);
  setText(tr.querySelector('[data-field="agents"]'), s.agents);
  // A live silo that did not answer the gathering: its agents are missing from the tables above.
  setAttr(tr, 'data-answered', s.answered ? 'true' : 'false');
  const said = tr.querySelector('[data-field="answered"]');
  const dead = s.status === 'Dead';
  setText(said, s.answered ? 'yes' : dead ? '—' : 'no answer');
  setAttr(said, 'class', s.answered || dead ? 'muted' : 'silent');
}

// ---- agents ----------------------------------------------------------------------------------------------
function createAgent() {
  const tr = h('tr');
  const agent = h('td', 'agent-cell');
  const name = h('div', 'name');
  const version = h('span', 'version'); version.dataset.field = 'version';
  name.append(h('span', 'label'), version);
  agent.append(name, h('div', 'aid'));
  const host = h('td', 'mono muted host'); host.dataset.field = 'host';
  const models = h('td'); models.appendChild(h('div', 'model-chips'));
  const load = h('td'); load.appendChild(makeLoad());
  const conns = h('td'); conns.appendChild(h('div', 'conns'));
  tr.append(agent, host, models, load, conns);
  return tr;
}
function updateAgent(tr, a, localSilo) {
  setAttr(tr, 'data-agent-id', a.agentId);
  setAttr(tr, 'data-in-flight', a.inFlight);
  setText(tr.querySelector('.name .label'), a.name || a.agentId);
  setText(tr.querySelector('.aid'), a.agentId);
  setText(tr.querySelector('[data-field="version"]'), a.version ? 'v' + a.version : '');
  setText(tr.querySelector('[data-field="host"]'), a.host || '—');
  setAttr(tr.querySelector('[data-field="host"]'), 'title', a.host || null);
  const chips = tr.querySelector('.model-chips');
  reconcile(chips, a.models || [], m => m, () => h('span', 'model-chip'), (n, m) => setText(n, m));
  if (!(a.models || []).length) reconcile(chips, [0], () => 'none', () => h('span', 'faint', 'no models advertised'), () => {});
  // Capacity is per model (--max-concurrency): the agent can take that many of each of its models.
  const models = Math.max(1, (a.models || []).length);
  updateLoad(tr.querySelector('.load'), a.inFlight, a.capacity * models);
  setAttr(tr.querySelector('.load'), 'title', a.capacity + ' per model');
  reconcile(tr.querySelector('.conns'), a.connections || [], c => c.connectionId, () => {
    const row = h('div', 'conn');
    row.append(h('span', 'silo-tag'), h('span', 'rtt'), h('span', 'cif muted'), h('span', 'draining', 'draining'));
    return row;
  }, (row, c) => {
    setAttr(row, 'data-silo', c.silo);
    setAttr(row, 'title', 'connection ' + c.connectionId + '\nconnected ' + c.connectedAt + '\nlast heartbeat ' + c.lastHeartbeat);
    const tag = row.querySelector('.silo-tag');
    setText(tag, shortSilo(c.silo));
    setClass(tag, 'local', c.silo === localSilo);
    setText(row.querySelector('.rtt'), c.roundTripMs >= 0 ? 'RTT ' + fmtMs(Math.max(c.roundTripMs, 0.5)) : 'RTT —');
    setText(row.querySelector('.cif'), c.inFlight + ' in flight');
    setHidden(row.querySelector('.draining'), !c.draining);
  });
}

// ---- whole page ------------------------------------------------------------------------------------------
function render(status) {
  latest = status;
  const local = status.answeredBy;
  const silos = status.silos || [], models = status.models || [], agents = status.agents || [];
  setText($('version'), status.version || '—');
  setText($('answered-by'), shortSilo(local));
  $('answered-by').title = local || '';

  const up = silos.filter(s => s.status === 'Active').length;
  const live = silos.filter(s => s.status !== 'Dead').length;
  setText($('summary-silos-up'), up);
  setText($('summary-silos-total'), live);
  const dead = silos.length - live, silent = silos.filter(s => s.status === 'Active' && !s.answered).length;
  setText($('summary-silos-hint'), silent ? silent + ' not answering' : (dead ? plural(dead, 'recently dead silo') : 'all answering'));
  setClass($('tile-silos'), 'bad', up < live || silent > 0);

  setText($('summary-agents'), agents.length);
  const sockets = agents.reduce((n, a) => n + (a.connections || []).length, 0);
  setText($('summary-agents-hint'), plural(sockets, 'socket'));
  setText($('summary-models'), models.length);
  const noInstance = models.filter(m => !(m.instances || []).length).length;
  setText($('summary-models-hint'), noInstance ? plural(noInstance, 'model') + ' without instances' : (models.length ? 'all served' : 'none attached'));

  let instances = 0, inFlight = 0, capacity = 0, queued = 0;
  const counts = {};
  for (const m of models) {
    queued += m.queued || 0;
    for (const i of m.instances || []) { instances++; inFlight += i.inFlight; capacity += i.capacity; counts[i.state] = (counts[i.state] || 0) + 1; }
  }
  setText($('summary-instances'), instances);
  const order = ['ready', 'full', 'unhealthy', 'draining'].filter(s => counts[s]);
  reconcile($('summary-instances-hint'), order, s => s, s => { const n = h('span', 'c-' + s); n.append(h('b'), document.createTextNode(' ' + s)); return n; },
    (n, s) => setText(n.firstChild, counts[s]));
  setClass($('tile-instances'), 'bad', !!counts.unhealthy);
  setText($('summary-inflight'), inFlight);
  setText($('summary-capacity'), capacity);
  const ratio = capacity > 0 ? Math.min(1, inFlight / capacity) : 0;
  const bar = $('summary-load');
  bar.firstChild.style.width = (ratio * 100).toFixed(1) + '%';
  setClass(bar, 'warm', ratio >= 0.9);
  setText($('summary-queued'), queued);
  setClass($('tile-queued'), 'warn', queued > 0);

  // Models: one tbody per model, its instances below it.
  setText($('models-count'), models.length ? '· ' + plural(models.length, 'model') + ', ' + plural(instances, 'instance') : '');
  const table = $('models');
  const empty = $('models-empty');
  setHidden(empty, models.length > 0);
  if (!models.length) {
    setText(empty.querySelector('td'), agents.length
      ? 'No model is served yet: the connected agents advertise none. Is their LLM server up?'
      : 'No model is served yet: attach an LLM server as shown above.');
  }
  const existing = new Map();
  for (const body of Array.from(table.tBodies)) { if (body !== empty) existing.set(body.dataset.model, body); }
  let prev = empty;
  for (const m of models) {
    let body = existing.get(m.id);
    if (body) existing.delete(m.id); else body = createModel(m);
    updateModel(body, m, local);
    if (prev.nextSibling !== body) table.insertBefore(body, prev.nextSibling);
    prev = body;
  }
  for (const gone of existing.values()) gone.remove();

  setText($('silos-count'), '· ' + up + ' of ' + live + ' up');
  reconcile($('silos-body'), silos, s => s.address, createSilo, (tr, s) => updateSilo(tr, s, local));
  setText($('agents-count'), agents.length ? '· ' + agents.length : '');
  reconcile($('agents-body'), agents, a => a.agentId, createAgent, (tr, a) => updateAgent(tr, a, local));
  if (!agents.length) {
    reconcile($('agents-body'), [0], () => 'empty', () => { const tr = h('tr', 'empty'); const td = h('td', null, 'No agent connected.'); td.colSpan = 5; tr.appendChild(td); return tr; }, () => {});
  }
  renderGuide(status.attach, agents.length > 0);
  traffic.knownModels(models.map(m => m.id));
}
function saveCollapsed() { sessionStorage.setItem('synapse-collapsed', JSON.stringify(Array.from(collapsed))); }

// ---- connection ------------------------------------------------------------------------------------------
function setConnection(state, label) {
  setAttr(document.body, 'data-connection', state);
  setText($('live'), label);
  const title = state === 'lost' ? 'Synapse · connection lost' : state === 'auth' ? 'Synapse · API key needed' : 'Synapse · cluster status';
  if (document.title !== title) document.title = title;
}
function tick() {
  if (lastOk) {
    const ago = (Date.now() - lastOk) / 1000;
    setText($('updated'), ago < 2 ? 'updated just now' : 'updated ' + fmtAge(ago) + ' ago');
    if (!$('connection-banner').hidden) setText($('connection-detail'), 'Showing data from ' + fmtAge(ago) + ' ago. ' + plural(failures, 'failed attempt') + '.');
  }
  for (const age of document.querySelectorAll('[data-since]')) renderAge(age);
}
function lost(reason) {
  failures++;
  if (failures < 2 && lastOk) return; // one slow answer is not an outage
  setConnection('lost', 'Reconnecting');
  setHidden($('connection-banner'), false);
  if (!lastOk) { setText($('connection-detail'), reason); setText($('updated'), 'no data yet'); }
  setClass($('main'), 'stale', true);
  tick();
}
function askForKey(rejected) {
  setConnection('auth', 'Key needed');
  setText($('updated'), 'waiting for the API key');
  setHidden($('connection-banner'), true);
  setHidden($('content'), true);
  setHidden($('key-error'), !rejected);
  const prompt = $('key-prompt');
  if (prompt.hidden) { setHidden(prompt, false); $('key-input').focus({ preventScroll: true }); }
}

// ---- first run -------------------------------------------------------------------------------------------
// While no agent is connected, /status says how to attach one: the commands are made by the gateway from the address
// this page reached it at, by the same rules as /run. They never hold a key, only a placeholder for it.
function renderGuide(attach, hasAgents) {
  const show = !hasAgents && !!attach;
  setHidden($('first-run'), !show);
  if (!show) return;
  const valid = !!attach.gateway;
  setHidden($('host-note'), valid);
  setHidden($('run-block'), !valid || !attach.agentBinaries);
  setText($('run-command'), attach.runCommand || '');
  setHidden($('no-binaries'), !valid || attach.agentBinaries);
  setText($('source-command'), attach.sourceCommand || '');
  setHidden($('ws-key-note'), !valid || !attach.wsKeyRequired);
  setHidden($('open-ws-note'), !valid || attach.wsKeyRequired);
  setHidden($('scheme-note'), !(valid && location.protocol === 'https:' && attach.gateway.startsWith('http:')));
  const baseUrl = attach.baseUrl || location.origin + '/v1';
  setText($('sdk-snippet'), 'from openai import OpenAI\n\n'
    + 'client = OpenAI(base_url="' + baseUrl + '", api_key="' + (attach.apiKeyRequired ? 'YOUR_API_KEY' : 'unused') + '")\n'
    + 'reply = client.chat.completions.create(\n'
    + '    model="MODEL_ID",  # a model listed on this page\n'
    + '    messages=[{"role": "user", "content": "Hello!"}],\n'
    + ')\n'
    + 'print(reply.choices[0].message.content)');
}

async function copyText(text) {
  if (navigator.clipboard && window.isSecureContext) {
    try { await navigator.clipboard.writeText(text); return true; } catch (e) { /* fall back below */ }
  }
  // A page over plain HTTP (not localhost) has no clipboard API: copy through a selection instead.
  const area = h('textarea', 'offscreen');
  area.value = text;
  area.setAttribute('readonly', '');
  document.body.appendChild(area);
  area.select();
  let copied = false;
  try { copied = document.execCommand('copy'); } catch (e) { copied = false; }
  area.remove();
  return copied;
}
document.addEventListener('click', async event => {
  const button = event.target.closest('button.copy');
  if (!button) return;
  const source = $(button.dataset.copy);
  const copied = await copyText(source.textContent);
  if (!copied) window.getSelection().selectAllChildren(source);
  setText(button, copied ? 'Copied' : 'Press Ctrl+C');
  setAttr(button, 'data-copied', copied ? 'true' : 'false');
  clearTimeout(button.resetTimer);
  button.resetTimer = setTimeout(() => { setText(button, 'Copy'); setAttr(button, 'data-copied', null); }, 2000);
});

// ---- traffic charts ---------------------------------------------------------------------------------------
// /status/history answers the seconds after `since` of one model (or the whole cluster): the page keeps the last
// 15 minutes and asks only for the newest seconds, re-reading a few already shown so that a silo that sealed a
// second late still gets counted.
const WINDOW = 900, OVERLAP = 5;
const SERIES = ['requests', 'outputTokens', 'errors', 'timeToFirstTokenP50Ms', 'timeToFirstTokenP95Ms', 'queue'];
function fmtNumber(v) {
  if (v >= 10000) return Math.round(v / 1000) + 'k';
  if (v >= 1000) return (v / 1000).toFixed(1) + 'k';
  return Number.isInteger(v) ? String(v) : v.toFixed(v < 10 ? 1 : 0);
}
function clockTime(second) {
  const d = new Date(second * 1000), pad = n => String(n).padStart(2, '0');
  return pad(d.getHours()) + ':' + pad(d.getMinutes()) + ':' + pad(d.getSeconds());
}
function fmtLatency(ms, axis) {
  if (ms === 0) return axis ? '0' : '0 ms';
  if (ms < 1) return ms.toFixed(2) + ' ms';
  if (ms < 10) return ms.toFixed(1) + ' ms';
  if (ms < 1000) return Math.round(ms) + ' ms';
  return (ms / 1000).toFixed(ms < 10000 ? 1 : 0) + ' s';
}
const CHARTS = [
  { id: 'requests', title: 'Requests/s', series: [{ key: 'requests', name: 'requests', tone: 'accent' }], integer: true, format: fmtNumber },
  { id: 'tokens', title: 'Output tokens/s', series: [{ key: 'outputTokens', name: 'tokens', tone: 'violet' }], integer: true, format: fmtNumber },
  { id: 'errors', title: 'Errors/s', series: [{ key: 'errors', name: 'errors', tone: 'red' }], integer: true, format: fmtNumber },
  {
    id: 'ttft', title: 'Time to first token', wide: true, format: fmtLatency,
    series: [{ key: 'timeToFirstTokenP50Ms', name: 'p50', tone: 'accent' }, { key: 'timeToFirstTokenP95Ms', name: 'p95', tone: 'amber' }],
  },
  { id: 'queue', title: 'Queue length', series: [{ key: 'queue', name: 'queued', tone: 'amber' }], integer: true, format: fmtNumber },
];

class Traffic {
  constructor() {
    this.scope = sessionStorage.getItem('synapse-scope') || '';
    this.range = [60, 300, 900].includes(Number(sessionStorage.getItem('synapse-range'))) ? Number(sessionStorage.getItem('synapse-range')) : WINDOW;
    this.store = null;
    this.statusModels = [];
    this.historyModels = [];
    this.optionsKey = null;
    this.charts = CHARTS.map(options => {
      const host = h('figure', options.wide ? 'wide' : null);
      $('charts').appendChild(host);
      return new LineChart(host, options);
    });
    $('scope').addEventListener('change', e => this.setScope(e.target.value));
    for (const button of document.querySelectorAll('#traffic [data-range]')) {
      button.addEventListener('click', () => this.setRange(Number(button.dataset.range)));
    }
    this.renderControls();
  }

  request() {
    const params = new URLSearchParams();
    if (this.store && this.store.scope === this.scope) params.set('since', String(Math.max(0, this.store.to - OVERLAP)));
    if (this.scope) params.set('model', this.scope);
    const query = params.toString();
    return { url: 'status/history' + (query ? '?' + query : ''), scope: this.scope };
  }

  apply(history, request) {
    if (request.scope !== this.scope) return; // asked before the selection changed
    let store = this.store;
    if (!store || store.scope !== request.scope) {
      store = this.store = { scope: request.scope, from: history.from, to: history.from - 1, values: {} };
      for (const key of SERIES) store.values[key] = [];
    }
    const to = Math.max(store.to, history.to);
    const from = Math.max(store.from, to - WINDOW + 1);
    if (from > store.from) {
      for (const key of SERIES) store.values[key].splice(0, from - store.from);
      store.from = from;
    }
    const count = history.requests.length;
    for (const key of SERIES) {
      const source = history[key], target = store.values[key];
      for (let i = 0; i < count; i++) {
        const at = history.from + i - store.from;
        if (at >= 0) target[at] = source[i];
      }
    }
    store.to = to;
    this.historyModels = history.models || [];
    const panel = $('traffic');
    setAttr(panel, 'data-state', 'live');
    setAttr(panel, 'data-to', store.to);
    const partial = history.answered < history.silos;
    const known = store.values.requests.findIndex(v => v !== null && v !== undefined);
    const since = known > 0 ? ' · recorded since ' + clockTime(store.from + known) : '';
    setText($('traffic-note'), '· ' + (this.scope ? this.label(this.scope) : 'whole cluster') + since
      + (partial ? ' · ' + history.answered + ' of ' + history.silos + ' silos answered' : ''));
    setClass($('traffic-note'), 'warn-text', partial);
    setText($('charts-foot'), (history.modelsCapped ? 'Some silos track their maximum number of models (Synapse:History:MaxModels); calls to the others count in the cluster total only. ' : '')
      + 'Rates are per second, summed over silos; token counts are what upstreams report in usage (the gateway asks streams for it).');
    this.renderControls();
    this.draw();
  }

  failed() {
    setAttr($('traffic'), 'data-state', 'stale');
    setText($('traffic-note'), '· history unavailable, retrying');
    setClass($('traffic-note'), 'warn-text', true);
  }

  knownModels(ids) {
    this.statusModels = ids;
    this.renderControls();
  }

  label(model) { return model === '_unknown' ? 'models nobody serves' : model; }

  renderControls() {
    const models = Array.from(new Set(this.statusModels.concat(this.historyModels, this.scope ? [this.scope] : []))).sort();
    const key = models.join('\n');
    const select = $('scope');
    if (key !== this.optionsKey) {
      this.optionsKey = key;
      reconcile(select, [''].concat(models), m => 'm:' + m, m => h('option'), (option, m) => {
        option.value = m;
        setText(option, m ? this.label(m) : 'Whole cluster');
      });
    }
    if (select.value !== this.scope) select.value = this.scope;
    for (const button of document.querySelectorAll('#traffic [data-range]')) {
      setAttr(button, 'aria-pressed', Number(button.dataset.range) === this.range ? 'true' : 'false');
    }
  }

  setScope(scope) {
    if (scope === this.scope) return;
    this.scope = scope;
    sessionStorage.setItem('synapse-scope', scope);
    this.store = null;
    setAttr($('traffic'), 'data-state', 'loading');
    setAttr($('traffic'), 'data-to', null);
    this.renderControls();
    poll();
  }

  setRange(range) {
    this.range = range;
    sessionStorage.setItem('synapse-range', String(range));
    this.renderControls();
    this.draw();
  }

  draw() {
    if (!this.store || this.store.to < this.store.from) return;
    for (const chart of this.charts) chart.update(this.store.from, this.store.values, this.store.to, this.range);
  }
}
const traffic = new Traffic();

// ---- polling ---------------------------------------------------------------------------------------------
// The caller's usage today (every key's for an admin key), one row per key and model, from /usage every few seconds:
// each poll of it asks a grain per key, so it runs at a fifth of the page's pace.
const USAGE_EVERY_MS = 5000;
function fmtCount(v) { return Number(v).toLocaleString('en-US'); }
class Usage {
  constructor() { this.last = 0; }
  request() {
    if (Date.now() - this.last < USAGE_EVERY_MS) return null;
    this.last = Date.now();
    return { url: 'usage' };
  }
  apply(body) {
    const rows = [];
    for (const key of body.keys || []) {
      const models = Object.entries(key.todayByModel || {}).sort((a, b) => a[0].localeCompare(b[0]));
      if (models.length === 0) models.push(['', key.today || {}]);
      models.forEach(([model, totals], index) => rows.push({ id: key.name + '\n' + model, key, model, totals, first: index === 0 }));
    }
    setHidden($('usage'), false);
    setText($('usage-note'), plural((body.keys || []).length, 'key'));
    reconcile($('usage-body'), rows, r => r.id, () => {
      const tr = h('tr');
      for (const cls of ['mono', '', 'mono', 'num', 'num', 'num', 'num', 'num']) tr.append(h('td', cls || null));
      return tr;
    }, (tr, r) => {
      const cells = tr.children;
      setText(cells[0], r.first ? r.key.name : '');
      setText(cells[1], r.first ? (r.key.group || '') : '');
      setText(cells[2], r.model || '—');
      setText(cells[3], fmtCount(r.totals.requests || 0));
      setText(cells[4], fmtCount(r.totals.inputTokens || 0));
      setText(cells[5], fmtCount(r.totals.outputTokens || 0));
      setText(cells[6], fmtCount((r.totals.rateLimited || 0) + (r.totals.quotaExceeded || 0)));
      const budget = r.first && r.key.budget;
      setText(cells[7], budget ? fmtCount(budget.spent) + ' / ' + fmtCount(budget.tokens) + ' ' + budget.period : '');
      setAttr(cells[7], 'data-left', budget ? String(budget.left) : null);
      setClass(cells[7], 'bad', !!budget && budget.left <= 0);
    });
  }
  failed() { this.last = 0; }
}
const usage = new Usage();

// Every feed is one JSON endpoint, polled together once a second with the same key. /status decides whether the
// gateway is reachable (banner, key prompt); the other feeds draw their own panel and only mark it stale when they
// fail. Another panel (usage per key, say) is one more entry here and one more section in the page.
const feeds = [
  { request: () => ({ url: 'status' }), render, primary: true },
  { request: () => traffic.request(), render: (body, request) => traffic.apply(body, request), failed: () => traffic.failed() },
  { request: () => usage.request(), render: body => usage.apply(body), failed: () => usage.failed() },
];

async function poll() {
  clearTimeout(timer);
  const mine = ++generation; // a poll started by hand supersedes the running chain
  const key = sessionStorage.getItem(KEY);
  const headers = { 'Accept': 'application/json' };
  if (key) headers['X-API-Key'] = key;
  const abort = new AbortController();
  const timeout = setTimeout(() => abort.abort(), TIMEOUT_MS);
  let delay = document.hidden ? HIDDEN_POLL_MS : POLL_MS;
  try {
    const answers = await Promise.all(feeds.map(async feed => {
      const request = feed.request();
      if (!request) return { feed, request, status: 0, body: null, skipped: true };
      try {
        const response = await fetch(request.url, { headers, cache: 'no-store', signal: abort.signal });
        return { feed, request, status: response.status, body: response.ok ? await response.json() : null };
      } catch (e) {
        return { feed, request, status: 0, body: null };
      }
    }));
    if (mine !== generation) return;
    const primary = answers.find(a => a.feed.primary);
    if (primary.status === 401) {
      if (key) sessionStorage.removeItem(KEY);
      askForKey(!!key);
      delay = Math.max(delay, 3000);
      return;
    }
    if (!primary.body) {
      lost(primary.status ? 'The gateway answered ' + primary.status + '.' : 'The gateway does not answer.');
      return;
    }
    const received = Date.now();
    const generated = Date.parse(primary.body.generatedAt);
    if (!isNaN(generated)) skewMs = generated - received;
    failures = 0;
    lastOk = received;
    setHidden($('key-prompt'), true);
    setHidden($('content'), false);
    setHidden($('connection-banner'), true);
    setClass($('main'), 'stale', false);
    setHidden($('forget-key'), !sessionStorage.getItem(KEY));
    setConnection('live', 'Live');
    for (const answer of answers) {
      if (answer.skipped) continue;
      if (answer.body) answer.feed.render(answer.body, answer.request);
      else if (answer.feed.failed) answer.feed.failed();
    }
    tick();
  } catch (e) {
    if (mine === generation) {
      lost('The page failed to show the answer.');
      console.error(e);
    }
  } finally {
    clearTimeout(timeout);
    if (mine === generation) timer = setTimeout(poll, delay);
  }
}

$('key-prompt').addEventListener('submit', event => {
  event.preventDefault();
  const key = $('key-input').value.trim();
  if (!key) return;
  sessionStorage.setItem(KEY, key);
  $('key-input').value = '';
  setHidden($('key-error'), true);
  setConnection('connecting', 'Connecting');
  poll();
});
$('forget-key').addEventListener('click', () => { sessionStorage.removeItem(KEY); poll(); });
$('expand-all').addEventListener('click', () => { collapsed.clear(); saveCollapsed(); if (latest) render(latest); });
$('collapse-all').addEventListener('click', () => { if (latest) for (const m of latest.models || []) collapsed.add(m.id); saveCollapsed(); if (latest) render(latest); });
document.addEventListener('visibilitychange', () => { if (!document.hidden) poll(); });
setInterval(tick, 500);
poll();
