// Build OpenStack-Health's client (app/) as its gulp "dev" task did, without gulp 3 or
// node-sass: the views into the "templates" module (as gulp-angular-templatecache with
// standalone: true), app/js/main.js through browserify with the app's own transforms
// (babelify, browserify-ngannotate, brfs, bulkify), app/styles/main.scss through Dart
// Sass, and index.html and images copied. Usage: node build.js OUT_DIR
// It writes into its app/ (templates.js, one Sass fix): run it on a copy, as
// tools/osh-client.sh does.
'use strict';
var fs = require('fs');
var path = require('path');
var browserify = require('browserify');
var sass = require('sass');

var out = path.resolve(process.argv[2] || 'build');
var app = path.join(__dirname, 'app');

function walk(dir) {
  return fs.readdirSync(dir).sort().reduce(function(files, name) {
    var full = path.join(dir, name);
    return files.concat(fs.statSync(full).isDirectory() ? walk(full) : [full]);
  }, []);
}

function templates() {
  var views = path.join(app, 'views');
  var puts = walk(views).filter(function(f) { return f.endsWith('.html'); })
    .map(function(f) {
      var name = path.relative(views, f).split(path.sep).join('/');
      return '$templateCache.put(' + JSON.stringify(name) + ',' +
        JSON.stringify(fs.readFileSync(f, 'utf8')) + ');';
    });
  fs.writeFileSync(path.join(app, 'js', 'templates.js'),
    'angular.module("templates", []).run(["$templateCache", function($templateCache) {' +
    puts.join('\n') + '}]);\n');
}

function copy(from, to) {
  fs.mkdirSync(path.dirname(to), {recursive: true});
  fs.copyFileSync(from, to);
}

templates();
fs.mkdirSync(path.join(out, 'js'), {recursive: true});
fs.mkdirSync(path.join(out, 'css'), {recursive: true});
copy(path.join(app, 'index.html'), path.join(out, 'index.html'));
['images', 'fonts'].forEach(function(dir) {
  walk(path.join(app, dir)).forEach(function(f) {
    copy(f, path.join(out, dir, path.relative(path.join(app, dir), f)));
  });
});
// Dart Sass refuses what node-sass took: `@extend .heading.-large` (a compound
// selector); extending both simple selectors is what Sass's own message proposes.
var typography = path.join(app, 'styles', '_typography.scss');
fs.writeFileSync(typography, fs.readFileSync(typography, 'utf8').replace(
  /@extend \.heading\.(-\w+);/g, '@extend .heading, .$1;'));
var css = sass.renderSync({file: path.join(app, 'styles', 'main.scss'), outputStyle: 'expanded'});
fs.writeFileSync(path.join(out, 'css', 'main.css'), css.css);

var bundler = browserify({entries: [path.join(app, 'js', 'main.js')], debug: false});
['babelify', 'browserify-ngannotate', 'brfs', 'bulkify'].forEach(function(t) {
  bundler.transform(require(t));
});
bundler.bundle(function(err, buf) {
  if (err) {
    console.error('browserify failed: ' + err.message);
    process.exit(1);
  }
  fs.writeFileSync(path.join(out, 'js', 'main.js'), buf);
  console.log(out);
});
