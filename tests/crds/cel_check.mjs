// Evaluates every CEL rule of crds/ on the examples and the CEL invalid examples with cel-es
// (@bufbuild/cel, a conformant CEL evaluator): examples must pass every rule, and each invalid
// example must fail exactly the rule its "# expect:" line names. Optional: needs node and
// `npm install --prefix tests/crds` (see package.json); crds_test covers the rest without it.
// Usage: node tests/crds/cel_check.mjs [source-dir]
import fs from "node:fs";
import path from "node:path";
import { run, isCelError } from "@bufbuild/cel";
import { strings } from "@bufbuild/cel/ext";
import YAML from "yaml";

const root = path.resolve(process.argv[2] ?? path.join(path.dirname(new URL(import.meta.url).pathname), "../.."));
const crdFiles = ["weft.io_meshes.yaml", "weft.io_trafficpolicies.yaml", "weft.io_trafficroutes.yaml", "weft.io_accesspolicies.yaml"];

const schemas = {};
for (const file of crdFiles) {
  const crd = YAML.parse(fs.readFileSync(path.join(root, "crds", file), "utf8"));
  schemas[crd.spec.names.kind] = crd.spec.versions[0].schema.openAPIV3Schema;
}

// Same top-down defaulting as the API server (and tests/crds/openapi_schema.cc).
function applyDefaults(schema, value) {
  if (schema.type === "object" && value && typeof value === "object" && !Array.isArray(value)) {
    for (const [name, child] of Object.entries(schema.properties ?? {})) {
      if (!(name in value) && "default" in child) value[name] = structuredClone(child.default);
      if (name in value) applyDefaults(child, value[name]);
    }
    if (schema.additionalProperties) for (const v of Object.values(value)) applyDefaults(schema.additionalProperties, v);
  } else if (schema.type === "array" && Array.isArray(value) && schema.items) {
    for (const item of value) applyDefaults(schema.items, item);
  }
}

// CEL values: objects as maps, integers as int (bigint), as the API server presents them.
function toCel(schema, value) {
  if (Array.isArray(value)) return value.map((v) => toCel(schema?.items, v));
  if (value && typeof value === "object") {
    const m = new Map();
    for (const [k, v] of Object.entries(value)) m.set(k, toCel(schema?.properties?.[k] ?? schema?.additionalProperties, v));
    return m;
  }
  if (typeof value === "number" && schema?.type === "integer") return BigInt(value);
  return value;
}

// Every rule that fails (false, or an evaluation error, which the server also refuses).
function failures(schema, value, where, out) {
  if (!schema || value === undefined) return out;
  for (const r of schema["x-kubernetes-validations"] ?? []) {
    // The strings extension stands in for the Kubernetes strings library (lowerAscii).
    const result = run(r.rule, { self: toCel(schema, value) }, { funcs: strings });
    if (isCelError(result) || result !== true) {
      out.push({ where, message: r.message, error: isCelError(result) ? String(result.message) : "" });
    }
  }
  if (schema.type === "object" && value && typeof value === "object") {
    for (const [name, child] of Object.entries(schema.properties ?? {})) failures(child, value[name], `${where}.${name}`, out);
  } else if (schema.type === "array" && Array.isArray(value)) {
    value.forEach((v, i) => failures(schema.items, v, `${where}[${i}]`, out));
  }
  return out;
}

function check(doc) {
  const schema = schemas[doc.kind];
  if (!schema) return null;
  applyDefaults(schema, doc);
  return failures(schema, doc, doc.kind, []);
}

let passed = 0;
let failed = 0;
function report(ok, what) {
  if (ok) passed++;
  else failed++;
  console.log(`${ok ? "ok  " : "FAIL"} ${what}`);
}

const yamlIn = (dir) => (fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith(".yaml")).sort().map((f) => path.join(dir, f)) : []);

const sources = [...yamlIn(path.join(root, "examples")), ...yamlIn(path.join(root, "examples", "demo"))]
  .map((file) => [path.relative(root, file), fs.readFileSync(file, "utf8")]);
// The ```yaml blocks of the feature pages too (crds_test checks their schema).
const featuresDir = path.join(root, "docs", "features");
for (const file of fs.existsSync(featuresDir) ? fs.readdirSync(featuresDir).filter((f) => f.endsWith(".md")).sort() : []) {
  const blocks = fs.readFileSync(path.join(featuresDir, file), "utf8").match(/^```yaml\n[\s\S]*?^```$/gm) ?? [];
  blocks.forEach((b, i) => sources.push([`docs/features/${file} block ${i + 1}`, b.slice("```yaml\n".length, -3)]));
}
for (const [name, text] of sources) {
  for (const doc of YAML.parseAllDocuments(text).map((d) => d.toJS())) {
    if (!doc || !String(doc.apiVersion ?? "").startsWith("weft.io/")) continue;
    const fails = check(doc);
    report(fails !== null && fails.length === 0,
      `${name} ${doc.kind}/${doc.metadata?.name} passes every rule` +
        (fails?.length ? `: ${fails.map((f) => `${f.where}: ${f.message} ${f.error}`).join("; ")}` : ""));
  }
}

const exercised = new Set();
for (const file of yamlIn(path.join(root, "tests", "crds", "invalid"))) {
  const text = fs.readFileSync(file, "utf8");
  if (!/^# check: cel$/m.test(text)) continue;
  const expect = text.match(/^# expect: (.*)$/m)?.[1];
  const doc = YAML.parse(text);
  const fails = check(doc) ?? [];
  const messages = [...new Set(fails.map((f) => f.message))];
  exercised.add(`${doc.kind}: ${expect}`);
  report(messages.length === 1 && messages[0] === expect,
    `${path.relative(root, file)} fails only "${expect}"` +
      (messages.length === 1 && messages[0] === expect ? "" : `; got: ${fails.map((f) => `${f.where}: ${f.message} ${f.error}`).join("; ") || "nothing"}`));
}

for (const [kind, schema] of Object.entries(schemas)) {
  const walk = (s) => {
    if (!s) return;
    for (const r of s["x-kubernetes-validations"] ?? []) report(exercised.has(`${kind}: ${r.message}`), `${kind} rule exercised: ${r.message}`);
    for (const c of Object.values(s.properties ?? {})) walk(c);
    walk(s.items);
  };
  walk(schema);
}

console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);
