// Evaluates the rendered webhooks' matchConditions (CEL, with cel-es) on
// sample pods: the namespace webhook must call the injector for every pod
// but those that opt out, the pod webhook only for pods that opt in, and no
// expression may fail to evaluate (that would hand the pod to failurePolicy).
// Usage: node match_conditions.mjs RENDERED.yaml; exit 1 on a problem.
import fs from "node:fs";
import { run, isCelError } from "@bufbuild/cel";
import YAML from "yaml";

// Objects as CEL maps, as the API server presents them.
const toCel = (v) =>
  Array.isArray(v) ? v.map(toCel) : v && typeof v === "object" ? new Map(Object.entries(v).map(([k, x]) => [k, toCel(x)])) : v;

const pod = (annotations) => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name: "web", namespace: "shop", ...(annotations === undefined ? {} : { annotations }) },
  spec: { containers: [{ name: "web", image: "web:1" }] },
});
// pod, and whether each webhook must call the injector for it
const samples = [
  ["no annotations", pod(undefined), { namespace: true, pod: false }],
  ["empty annotations", pod({}), { namespace: true, pod: false }],
  ["other annotations", pod({ "example.com/team": "shop" }), { namespace: true, pod: false }],
  ["weft.io/inject: enabled", pod({ "weft.io/inject": "enabled" }), { namespace: true, pod: true }],
  ["weft.io/inject: disabled", pod({ "weft.io/inject": "disabled" }), { namespace: false, pod: false }],
  ["weft.io/inject: yes (the injector warns)", pod({ "weft.io/inject": "yes" }), { namespace: true, pod: false }],
];

const problems = [];
let evaluated = 0;
for (const doc of YAML.parseAllDocuments(fs.readFileSync(process.argv[2], "utf8"))) {
  const o = doc.toJS();
  if (o?.kind !== "MutatingWebhookConfiguration") continue;
  for (const hook of o.webhooks) {
    const which = hook.name.split(".")[0];
    if (!hook.matchConditions) {
      problems.push(`${hook.name}: no matchConditions`);
      continue;
    }
    for (const [what, object, expected] of samples) {
      let called = true;
      for (const c of hook.matchConditions) {
        const result = run(c.expression, { object: toCel(object), oldObject: null });
        evaluated++;
        if (isCelError(result) || typeof result !== "boolean") {
          problems.push(`${hook.name} ${c.name} on a pod with ${what}: ${isCelError(result) ? result.message : "not a bool"}`);
          called = false;
        } else {
          called = called && result;
        }
      }
      if (!(which in expected)) problems.push(`${hook.name}: an unexpected webhook`);
      else if (called !== expected[which]) problems.push(`${hook.name} on a pod with ${what}: ${called ? "calls" : "skips"} the injector`);
    }
  }
}
for (const p of problems) console.log(p);
console.log(`match_conditions.mjs: ${evaluated} evaluations, ${problems.length} problems`);
process.exit(problems.length || evaluated === 0 ? 1 : 0);
