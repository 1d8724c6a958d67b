// Builds the chat page into ../service/static (or the directory given as the first argument):
// index.html, ui/app-<hash>.js and .css, the fonts they use, and the bundled code's licences.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import * as esbuild from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
const outRoot = resolve(process.argv[2] ?? join(here, '..', 'service', 'static'));
const uiDir = join(outRoot, 'ui');
const MARKER = '<!-- built by web/build.mjs -->';

const indexPath = join(outRoot, 'index.html');
if (existsSync(outRoot)) {
  if (existsSync(indexPath) && !readFileSync(indexPath, 'utf8').includes(MARKER)) {
    throw new Error(`${outRoot} holds an index.html this script did not build; not replacing it`);
  }
  rmSync(outRoot, { recursive: true });
}
mkdirSync(uiDir, { recursive: true });

const result = await esbuild.build({
  absWorkingDir: here,
  entryPoints: { app: 'src/main.tsx' },
  bundle: true,
  minify: true,
  format: 'esm',
  target: ['es2022'],
  outdir: uiDir,
  entryNames: '[name]-[hash]',
  assetNames: 'assets/[name]-[hash]',
  loader: { '.woff2': 'file', '.woff': 'file', '.svg': 'file', '.png': 'file', '.jpg': 'file' },
  define: { 'process.env.NODE_ENV': '"production"' },
  legalComments: 'linked',
  metafile: true,
  logLevel: 'warning',
});

const outputs = Object.keys(result.metafile.outputs).map((path) => resolve(here, path));
const entry = (suffix) => {
  const found = outputs.filter((path) => basename(path).startsWith('app-') && path.endsWith(suffix));
  if (found.length !== 1) {
    throw new Error(`expected one app-*${suffix}, found ${found.length}`);
  }
  return relative(outRoot, found[0]);
};

// Relative URLs, so the page also works when a proxy serves the service under a path prefix.
writeFileSync(
  indexPath,
  `<!doctype html>
${MARKER}
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>agent-stream-gateway</title>
    <link rel="icon" href="data:," />
    <link rel="stylesheet" href="${entry('.css')}" />
  </head>
  <body>
    <div id="root"></div>
    <script type="module" src="${entry('.js')}"></script>
  </body>
</html>
`,
);

// Every bundled package, with its version and licence (their licence texts are in node_modules).
const packages = new Map();
for (const info of Object.values(result.metafile.outputs)) {
  for (const input of Object.keys(info.inputs)) {
    const match = /^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(input);
    if (match && !packages.has(match[1])) {
      const manifest = JSON.parse(readFileSync(join(here, match[1], 'package.json'), 'utf8'));
      packages.set(match[1], `${manifest.name}@${manifest.version}  ${manifest.license ?? 'see its package'}`);
    }
  }
}
writeFileSync(
  join(uiDir, 'THIRD-PARTY-LICENSES.txt'),
  `Packages bundled into this page (name@version  licence):\n\n${[...new Set(packages.values())].sort().join('\n')}\n`,
);

let total = 0;
for (const [path, info] of Object.entries(result.metafile.outputs)) {
  total += info.bytes;
  if (info.bytes > 100_000) {
    console.log(`${relative(outRoot, resolve(here, path))}  ${(info.bytes / 1024).toFixed(0)} KiB`);
  }
}
console.log(`built ${outputs.length + 1} files, ${(total / 1024).toFixed(0)} KiB, into ${outRoot}`);
