// Validate custom resources against the schemas of their CRDs.
//
// Reads a JSON array of Kubernetes objects on stdin (ExternalSecret and
// SecretStore of external-secrets.io/v1, Application and AppProject of
// argoproj.io/v1alpha1) and checks each with the validate() of the
// @kubernetes-models classes, which are generated from the upstream CRDs.
// Prints "ok <kind>/<name>" or "invalid <kind>/<name>: <reason>" per object;
// exits 1 when any object is invalid, 2 on bad input or a kind it cannot check.
//
// The packages live in .tools/node (make tools); MCP_NODE_MODULES overrides.
import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const modules = process.env.MCP_NODE_MODULES ?? resolve(here, "../../.tools/node/node_modules");

const MODELS = {
  "external-secrets.io/v1/ExternalSecret": "@kubernetes-models/external-secrets/external-secrets.io/v1/ExternalSecret.js",
  "external-secrets.io/v1/SecretStore": "@kubernetes-models/external-secrets/external-secrets.io/v1/SecretStore.js",
  "argoproj.io/v1alpha1/Application": "@kubernetes-models/argo-cd/argoproj.io/v1alpha1/Application.js",
  "argoproj.io/v1alpha1/AppProject": "@kubernetes-models/argo-cd/argoproj.io/v1alpha1/AppProject.js",
};

async function modelFor(obj) {
  const key = `${obj.apiVersion}/${obj.kind}`;
  const path = MODELS[key];
  if (!path) {
    throw new Error(`no CRD validator for ${key}; known: ${Object.keys(MODELS).join(", ")}`);
  }
  const module = await import(pathToFileURL(join(modules, path)).href);
  return module[obj.kind];
}

async function main() {
  let objects;
  try {
    objects = JSON.parse(readFileSync(0, "utf8"));
  } catch (err) {
    console.error(`error: stdin is not JSON: ${err.message}`);
    return 2;
  }
  if (!Array.isArray(objects) || objects.length === 0) {
    console.error("error: expected a non-empty JSON array of objects on stdin");
    return 2;
  }
  let invalid = 0;
  for (const obj of objects) {
    const label = `${obj?.kind}/${obj?.metadata?.name}`;
    let Model;
    try {
      Model = await modelFor(obj);
    } catch (err) {
      console.error(`error: ${label}: ${err.message}`);
      return 2;
    }
    try {
      new Model(obj).validate();
      console.log(`ok ${label}`);
    } catch (err) {
      invalid += 1;
      console.log(`invalid ${label}: ${err.message}`);
    }
  }
  return invalid === 0 ? 0 : 1;
}

process.exitCode = await main();
