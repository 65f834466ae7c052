// Validates the objects `helm template` rendered (read from stdin): each against its Kubernetes schema from
// kubernetes-models, then the references between them. Exits 1 with one line per problem.
//   node validate.mjs --tools DIR [--label NAME]   validate
//   node validate.mjs --tools DIR --json           print the objects as a JSON array instead (for the tests)
import { createRequire } from 'node:module';
import path from 'node:path';
import { readFileSync } from 'node:fs';

const args = process.argv.slice(2);
const option = (name) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : undefined; };
const tools = path.resolve(option('--tools') ?? '.ci/tools');
const label = option('--label') ?? 'manifests';
// The packages live in the tools folder, not beside this script: resolve from there.
const require = createRequire(path.join(tools, 'package.json'));
const YAML = require('yaml');

const docs = YAML.parseAllDocuments(readFileSync(0, 'utf8'));
const problems = [];
const objects = [];
for (const doc of docs) {
  if (doc.errors.length > 0) {
    problems.push(`YAML: ${doc.errors.map((e) => e.message).join('; ')}`);
    continue;
  }
  const object = doc.toJS();
  if (object !== null && object !== undefined) objects.push(object);
}

if (args.includes('--json')) {
  for (const p of problems) console.error(p);
  // Wait until stdout took it all: exiting right after a large write to a pipe cuts it at 64 KiB.
  await new Promise((resolve) => process.stdout.write(JSON.stringify(objects, null, 2) + '\n', resolve));
  process.exit(problems.length > 0 ? 1 : 0);
}

const fieldCache = new Map();
const id = (o) => `${o?.kind ?? '?'}/${o?.metadata?.name ?? '?'}`;

// Each apiVersion maps to a module of model classes; CRDs come from their own packages.
function modelClass(apiVersion, kind) {
  const candidates = [`kubernetes-models/${apiVersion}`];
  if (apiVersion.startsWith('monitoring.coreos.com/')) {
    candidates.unshift(`@kubernetes-models/prometheus-operator/${apiVersion}`);
  }
  for (const name of candidates) {
    try {
      const cls = require(name)[kind];
      if (cls) return cls;
    } catch (e) {
      if (e.code !== 'MODULE_NOT_FOUND') throw e;
    }
  }
  return undefined;
}

for (const o of objects) {
  if (typeof o !== 'object' || !o.apiVersion || !o.kind) {
    problems.push(`${id(o)}: not a Kubernetes object (no apiVersion or kind)`);
    continue;
  }
  const Model = modelClass(o.apiVersion, o.kind);
  if (!Model) {
    problems.push(`${id(o)}: no schema for ${o.apiVersion} ${o.kind}; add its package to .ci/chart-check.sh`);
    continue;
  }
  try {
    new Model(o).validate();
  } catch (e) {
    const details = (e.errors ?? []).map((d) => `${d.instancePath || '/'} ${d.message}`).join('; ');
    problems.push(`${id(o)}: ${details || e.message}`);
  }
  problems.push(...unknownFields(o));
}

problems.push(...crossReferences(objects));

if (problems.length > 0) {
  console.error(`${label}: ${problems.length} problem(s) in ${objects.length} objects:`);
  for (const p of problems) console.error(`  - ${p}`);
  process.exit(1);
}
console.log(`${label}: ${objects.length} objects valid (${[...new Set(objects.map((o) => o.kind))].join(', ')})`);

// The OpenAPI schemas accept unknown fields (the API server drops them silently), so a misspelt field would pass.
// Check the fields where the chart's templates do their work, against the field lists of the models' typings.
function unknownFields(o) {
  const found = [];
  const check = (value, type, where) => {
    if (!value || typeof value !== 'object') return;
    const fields = fieldsOf(type);
    for (const key of Object.keys(value)) {
      if (!fields.has(key)) found.push(`${id(o)}: unknown field ${where}.${key}`);
    }
  };
  if (o.kind === 'Deployment') check(o.spec, 'apps/v1/DeploymentSpec', 'spec');
  if (o.kind === 'Service') check(o.spec, 'v1/ServiceSpec', 'spec');
  const pod = o.spec?.template?.spec;
  if (!pod) return found;
  check(pod, 'v1/PodSpec', 'spec.template.spec');
  for (const c of [...(pod.containers ?? []), ...(pod.initContainers ?? [])]) {
    const where = `container ${c.name}`;
    check(c, 'v1/Container', where);
    for (const probe of ['startupProbe', 'livenessProbe', 'readinessProbe']) check(c[probe], 'v1/Probe', `${where}.${probe}`);
    check(c.lifecycle, 'v1/Lifecycle', `${where}.lifecycle`);
    check(c.lifecycle?.preStop, 'v1/LifecycleHandler', `${where}.lifecycle.preStop`);
    for (const e of c.env ?? []) check(e, 'v1/EnvVar', `${where}.env ${e.name}`);
  }
  return found;
}

// Field names of a model, read from its .d.ts (the generated validators do not expose their schemas).
function fieldsOf(type) {
  if (!fieldCache.has(type)) {
    const dts = readFileSync(require.resolve(`kubernetes-models/${type}`).replace(/\.js$/, '.d.ts'), 'utf8');
    fieldCache.set(type, new Set([...dts.matchAll(/^ {4}"([A-Za-z0-9$]+)"\??:/gm)].map((m) => m[1])));
  }
  return fieldCache.get(type);
}

function crossReferences(all) {
  const found = [];
  const byKind = (kind) => all.filter((o) => o.kind === kind);
  const named = (kind, name) => all.find((o) => o.kind === kind && o.metadata?.name === name);
  const matches = (selector, labels) =>
    Object.entries(selector ?? {}).every(([k, v]) => labels?.[k] === v);
  const podTemplates = [...byKind('Deployment'), ...byKind('StatefulSet')];

  const seen = new Set();
  for (const o of all) {
    const key = `${o.apiVersion}/${o.kind}/${o.metadata?.namespace ?? ''}/${o.metadata?.name}`;
    if (seen.has(key)) found.push(`${id(o)}: defined twice`);
    seen.add(key);
  }

  for (const w of podTemplates) {
    const labels = w.spec.template.metadata?.labels;
    if (!matches(w.spec.selector?.matchLabels, labels)) found.push(`${id(w)}: selector does not match its pod labels`);
    const spec = w.spec.template.spec;
    const sa = spec.serviceAccountName;
    if (sa && sa !== 'default' && byKind('ServiceAccount').length > 0 && !named('ServiceAccount', sa)) {
      found.push(`${id(w)}: service account ${sa} is not rendered`);
    }
    for (const c of spec.containers) {
      const ports = new Set((c.ports ?? []).map((p) => p.name));
      for (const probe of ['startupProbe', 'livenessProbe', 'readinessProbe']) {
        const port = c[probe]?.httpGet?.port ?? c[probe]?.tcpSocket?.port;
        if (typeof port === 'string' && !ports.has(port)) found.push(`${id(w)}: ${probe} uses unknown port ${port}`);
      }
      const defined = new Set();
      for (const e of c.env ?? []) {
        // $(VAR) expands only from variables defined earlier in the list.
        for (const [, ref] of String(e.value ?? '').matchAll(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g)) {
          if (!defined.has(ref)) found.push(`${id(w)}: env ${e.name} uses $(${ref}) before it is defined`);
        }
        defined.add(e.name);
        const ref = e.valueFrom?.secretKeyRef;
        const secret = ref && named('Secret', ref.name);
        // A Secret the chart does not render is the user's (existingSecret); one it renders must have the key.
        if (secret && !(ref.key in (secret.data ?? {})) && !(ref.key in (secret.stringData ?? {}))) {
          found.push(`${id(w)}: env ${e.name} wants key ${ref.key} that Secret/${ref.name} does not have`);
        }
      }
    }
  }

  for (const s of byKind('Service')) {
    const targets = podTemplates.filter((w) => matches(s.spec.selector, w.spec.template.metadata?.labels));
    if (targets.length === 0) found.push(`${id(s)}: selects no pods`);
    for (const p of s.spec.ports ?? []) {
      if (typeof p.targetPort !== 'string') continue;
      const ok = targets.some((w) => w.spec.template.spec.containers.some((c) => (c.ports ?? []).some((cp) => cp.name === p.targetPort)));
      if (!ok) found.push(`${id(s)}: targetPort ${p.targetPort} is no container port of the pods it selects`);
    }
  }

  for (const i of byKind('Ingress')) {
    for (const rule of i.spec.rules ?? []) {
      for (const p of rule.http?.paths ?? []) {
        const svc = named('Service', p.backend?.service?.name);
        if (!svc) { found.push(`${id(i)}: backend service ${p.backend?.service?.name} is not rendered`); continue; }
        const port = p.backend.service.port;
        if (!(svc.spec.ports ?? []).some((sp) => sp.name === port.name || sp.port === port.number)) {
          found.push(`${id(i)}: backend port ${port.name ?? port.number} is not on ${id(svc)}`);
        }
      }
    }
  }

  for (const h of byKind('HorizontalPodAutoscaler')) {
    const target = named(h.spec.scaleTargetRef.kind, h.spec.scaleTargetRef.name);
    if (!target) found.push(`${id(h)}: scale target is not rendered`);
    else if (target.spec.replicas !== undefined) found.push(`${id(h)}: ${id(target)} also sets replicas; they would fight`);
    if (h.spec.minReplicas > h.spec.maxReplicas) found.push(`${id(h)}: minReplicas above maxReplicas`);
  }

  for (const kind of ['PodDisruptionBudget', 'ServiceMonitor']) {
    for (const o of byKind(kind)) {
      const labelsOf = kind === 'ServiceMonitor'
        ? byKind('Service').map((s) => s.metadata.labels)
        : podTemplates.map((w) => w.spec.template.metadata?.labels);
      if (!labelsOf.some((l) => matches(o.spec.selector?.matchLabels, l))) found.push(`${id(o)}: selects nothing`);
    }
  }

  for (const b of byKind('RoleBinding')) {
    if (!named(b.roleRef.kind, b.roleRef.name)) found.push(`${id(b)}: ${b.roleRef.kind}/${b.roleRef.name} is not rendered`);
    for (const s of b.subjects ?? []) {
      if (s.kind === 'ServiceAccount' && s.name !== 'default' && byKind('ServiceAccount').length > 0 && !named('ServiceAccount', s.name)) {
        found.push(`${id(b)}: subject ServiceAccount/${s.name} is not rendered`);
      }
    }
  }

  for (const c of byKind('ConfigMap')) {
    for (const [key, value] of Object.entries(c.data ?? {})) {
      if (!key.endsWith('.json')) continue;
      try { JSON.parse(value); } catch (e) { found.push(`${id(c)}: ${key} is not valid JSON: ${e.message}`); }
    }
  }
  return found;
}
