// The shared rules as the server serves them (their one home is
// health_api/rules.py): the resolutions with their bucket sizes and widest
// windows, the run outcomes, the job key and the name of the job of runs
// without one. The server writes them into index.html
// (<script id="ci-health-rules">, the same JSON as the API's GET /status
// `rules`), so main.js has them before its first request; nothing in the
// dashboard copies them.

let current = null;

/** Installs the `rules` object of GET /status (main.js; tests pass the API's own). */
export function setRules(rules) {
  if (!rules || !Array.isArray(rules.resolutions) || rules.resolutions.length === 0) {
    throw new Error('the API served no rules (GET /status: rules)');
  }
  current = Object.freeze({ ...rules });
}

/** Reads the rules the server wrote into the page (main.js, once). */
export function loadRulesFromPage(doc = globalThis.document) {
  const node = doc ? doc.getElementById('ci-health-rules') : null;
  setRules(node ? JSON.parse(node.textContent) : null);
}

/** The rules in force; an error before setRules (a page rendered too early). */
export function rules() {
  if (!current) throw new Error('the rules are not loaded yet (GET /status)');
  return current;
}

/** True once setRules ran. */
export function rulesLoaded() {
  return current !== null;
}

/** Resolution names, finest first. */
export function resolutionNames() {
  return rules().resolutions.map((r) => r.name);
}

/** Milliseconds per bucket of a resolution (undefined for an unknown one). */
export function bucketMs(resolution) {
  const r = rules().resolutions.find((x) => x.name === resolution);
  return r ? r.seconds * 1000 : undefined;
}

/** The widest window (ms) the API serves at a resolution (undefined for an unknown one). */
export function maxWindowMs(resolution) {
  const r = rules().resolutions.find((x) => x.name === resolution);
  return r ? r.max_window_seconds * 1000 : undefined;
}

/** The job name of the runs stored without one, as the API serves it. */
export function noJobName() {
  return rules().no_job_name;
}
