#!/usr/bin/env node
// A solc command line that py-solc-x can drive, backed by the npm `solc` package.
//
// Why by hand: py-solc-x's own installer downloads native solc binaries, which this
// environment cannot reach, and the npm package's CLI (`solcjs`) prints a banner line
// before its JSON and rejects `--allow-paths`. This shim answers the two calls
// py-solc-x makes (`--version` and `--standard-json`) and resolves imports against the
// base and include paths it is given, and nothing else.
'use strict';
const fs = require('fs');
const path = require('path');
const solc = require('solc');

const args = process.argv.slice(2);

if (args.includes('--version')) {
  process.stdout.write('solc, the solidity compiler commandline interface\n');
  process.stdout.write(`Version: ${solc.version()}\n`);
  process.exit(0);
}

if (!args.includes('--standard-json')) {
  process.stderr.write('only --version and --standard-json are supported\n');
  process.exit(2);
}

function pathList(flag) {
  const out = [];
  args.forEach((a, i) => {
    if (a === flag && i + 1 < args.length) out.push(...args[i + 1].split(','));
    else if (a.startsWith(flag + '=')) out.push(...a.slice(flag.length + 1).split(','));
  });
  return out.filter(Boolean);
}

const roots = [
  ...pathList('--base-path'),
  ...pathList('--include-path'),
  path.join(__dirname, 'node_modules'),
  process.cwd(),
];

function findImports(importPath) {
  for (const root of roots) {
    const candidate = path.resolve(root, importPath);
    if (fs.existsSync(candidate)) return { contents: fs.readFileSync(candidate, 'utf8') };
  }
  return { error: `File not found: ${importPath} (searched ${roots.join(', ')})` };
}

const input = fs.readFileSync(0, 'utf8');
process.stdout.write(solc.compile(input, { import: findImports }));
