// Validates rendered manifests against the Kubernetes OpenAPI schemas, as
// compiled by kubernetes-models (types, enums, required fields, formats), and
// refuses unknown fields the way the API server's strict field validation
// does, using the field lists of the same package's type declarations.
// Custom resources of weft.io are left to the C++ test (against crds/).
// Usage: node validate.mjs FILE... (multi-document YAML); exit 1 on a problem.
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";
import YAML from "yaml";

const require = createRequire(import.meta.url);
const modelsDir = path.dirname(require.resolve("kubernetes-models/package.json"));
const nodeModules = path.dirname(modelsDir);

// "apps/v1" + Deployment -> kubernetes-models/apps/v1/Deployment
function modelPath(apiVersion, kind) {
  return path.join(modelsDir, ...apiVersion.split("/"), kind);
}

// The fields of a type declaration: name -> type text; imports: name -> file.
const declarations = new Map();
function declaration(file) {
  if (declarations.has(file)) return declarations.get(file);
  const text = fs.readFileSync(file, "utf8");
  const imports = new Map();
  for (const m of text.matchAll(/import \{ ([^}]+) \} from "([^"]+)";/g)) {
    for (const name of m[1].split(",").map((s) => s.trim())) {
      const spec = m[2];
      imports.set(name, spec.startsWith(".") ? path.resolve(path.dirname(file), spec) : path.join(nodeModules, spec));
    }
  }
  const start = text.search(/export interface I\w+( extends [\w, ]+)? \{/);
  let fields = null;
  if (start >= 0) {
    fields = new Map();
    let depth = 0;
    let i = text.indexOf("{", start);
    let body = "";
    for (; i < text.length; i++) {
      if (text[i] === "{") depth++;
      if (text[i] === "}") depth--;
      if (depth === 0) break;
      body += text[i];
    }
    body = body.slice(1).replace(/\/\*\*[\s\S]*?\*\//g, "");
    // Top-level properties: "name"?: TYPE; where TYPE may hold braces.
    const re = /"([^"]+)"\??: /g;
    let m;
    let level = 0;
    let last = 0;
    const tops = [];
    for (let j = 0; j < body.length; j++) {
      if (body[j] === "{" || body[j] === "<") level++;
      if (body[j] === "}" || body[j] === ">") level--;
      if (level === 0 && body[j] === '"' && (j === 0 || /\s/.test(body[j - 1]))) {
        re.lastIndex = j;
        m = re.exec(body);
        if (m && m.index === j) tops.push({ name: m[1], at: j, typeAt: re.lastIndex });
      }
    }
    tops.forEach((t, k) => {
      const end = k + 1 < tops.length ? tops[k + 1].at : body.length;
      fields.set(t.name, body.slice(t.typeAt, end).trim().replace(/;$/, "").trim());
      last = end;
    });
  }
  const d = { fields, imports };
  declarations.set(file, d);
  return d;
}

// Unknown fields of `value` against the declaration in `file`.
function unknownFields(value, file, where, out) {
  const d = declaration(file);
  if (!d.fields || !value || typeof value !== "object" || Array.isArray(value)) return;
  for (const [key, v] of Object.entries(value)) {
    if (!d.fields.has(key)) {
      out.push(`${where}.${key}: unknown field`);
      continue;
    }
    checkType(v, d.fields.get(key), d.imports, `${where}.${key}`, out);
  }
}

function checkType(value, type, imports, where, out) {
  let m;
  if ((m = /^Array<(.+)>$/s.exec(type))) {
    if (Array.isArray(value)) value.forEach((item, i) => checkType(item, m[1].trim(), imports, `${where}[${i}]`, out));
  } else if ((m = /^\{\s*\[key: string\]: (.+?);?\s*\}$/s.exec(type))) {
    if (value && typeof value === "object") for (const [k, v] of Object.entries(value)) checkType(v, m[1].trim(), imports, `${where}.${k}`, out);
  } else if (imports.has(type)) {
    const file = imports.get(type) + ".d.ts";
    if (fs.existsSync(file)) unknownFields(value, file, where, out);
  }
}

const problems = [];
let checked = 0;
for (const file of process.argv.slice(2)) {
  const docs = YAML.parseAllDocuments(fs.readFileSync(file, "utf8"));
  for (const doc of docs) {
    if (doc.errors.length) {
      problems.push(`${file}: ${doc.errors[0].message}`);
      continue;
    }
    const object = doc.toJS();
    if (!object) continue;
    const { apiVersion = "", kind = "" } = object;
    const name = `${kind}/${object.metadata?.name ?? "?"}`;
    if (apiVersion.split("/")[0] === "weft.io") continue;
    const model = modelPath(apiVersion, kind);
    if (!fs.existsSync(model + ".js")) {
      problems.push(`${name}: no Kubernetes schema for ${apiVersion} ${kind}`);
      continue;
    }
    const Model = require(model)[kind];
    try {
      new Model(object).validate();
    } catch (e) {
      problems.push(`${name}: ${e.message}`);
    }
    const unknown = [];
    unknownFields(object, model + ".d.ts", kind, unknown);
    for (const u of unknown) problems.push(`${name}: ${u}`);
    checked++;
  }
}
for (const p of problems) console.log(p);
console.log(`validate.mjs: ${checked} objects checked, ${problems.length} problems`);
process.exit(problems.length || checked === 0 ? 1 : 0);
