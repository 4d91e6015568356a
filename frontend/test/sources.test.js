// Static checks of the sources: no HTML sinks with data, no CDN, pinned libraries.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const FRONTEND = join(dirname(fileURLToPath(import.meta.url)), '..');

function files(dir, ext) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...files(path, ext));
    else if (path.endsWith(ext)) out.push(path);
  }
  return out;
}

const SOURCES = files(join(FRONTEND, 'js'), '.js');

test('no module writes markup: no innerHTML, outerHTML, insertAdjacentHTML, document.write or d3 .html()', () => {
  assert.ok(SOURCES.length >= 10);
  const sinks = /\.(innerHTML|outerHTML)\b|insertAdjacentHTML|document\.write|\.html\s*\(|createContextualFragment|DOMParser/;
  for (const path of SOURCES) {
    const code = readFileSync(path, 'utf8').split('\n').filter((line) => !/^\s*(\/\/|\*)/.test(line)).join('\n');
    assert.doesNotMatch(code, sinks, path);
  }
});

test('no eval-like code', () => {
  for (const path of SOURCES) {
    const code = readFileSync(path, 'utf8');
    assert.doesNotMatch(code, /\beval\s*\(|new Function\s*\(|setTimeout\s*\(\s*['"`]/, path);
  }
});

test('index.html loads d3 and NVD3 from vendor/ as classic scripts, nothing from another host', () => {
  const html = readFileSync(join(FRONTEND, 'index.html'), 'utf8');
  assert.match(html, /<script src="vendor\/d3\/d3\.min\.js"><\/script>/);
  assert.match(html, /<script src="vendor\/nvd3\/nv\.d3\.min\.js"><\/script>/);
  assert.match(html, /<script type="module" src="js\/main\.js"><\/script>/);
  assert.ok(html.indexOf('vendor/d3/d3.min.js') < html.indexOf('vendor/nvd3/nv.d3.min.js'), 'd3 before NVD3');
  assert.doesNotMatch(html, /(src|href)="(https?:)?\/\//, 'no CDN');
});

test('d3 3.5.17 and NVD3 1.8.6 pinned in package.json and package-lock.json', () => {
  const pkg = JSON.parse(readFileSync(join(FRONTEND, 'package.json'), 'utf8'));
  assert.deepEqual(pkg.dependencies, { d3: '3.5.17', nvd3: '1.8.6' });
  const lock = JSON.parse(readFileSync(join(FRONTEND, 'package-lock.json'), 'utf8'));
  assert.equal(lock.packages['node_modules/d3'].version, '3.5.17');
  assert.equal(lock.packages['node_modules/nvd3'].version, '1.8.6');
  assert.match(lock.packages['node_modules/d3'].integrity, /^sha512-/);
  assert.match(lock.packages['node_modules/nvd3'].integrity, /^sha512-/);
  assert.deepEqual(lock.packages[''].dependencies, pkg.dependencies);
});

test('no library code copied into the repository', () => {
  for (const path of [...SOURCES, ...files(join(FRONTEND, 'css'), '.css')]) {
    const code = readFileSync(path, 'utf8');
    assert.doesNotMatch(code, /d3\.version\s*=|nv\.version\s*=|Copyright \(c\) 2010-2016, Michael Bostock/, path);
    assert.ok(code.length < 60000, `${path} is suspiciously large`);
  }
});

test('every endpoint path is written in api.js only', () => {
  for (const path of SOURCES) {
    if (path.endsWith('api.js')) continue;
    assert.doesNotMatch(readFileSync(path, 'utf8'), /\/api\/v1/, path);
  }
});
