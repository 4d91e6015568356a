// The rules the server serves (health_api/rules.py as_json, written out in
// test/rules.json; tests/api/test_rules.py checks that they are the same),
// installed as main.js installs them from the page.
import { readFileSync } from 'node:fs';
import { setRules } from '../js/rules.js';

export const RULES = JSON.parse(readFileSync(new URL('./rules.json', import.meta.url), 'utf8'));
setRules(RULES);
