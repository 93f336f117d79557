// Injected into the CommonJS build only (tsup.config.ts): `import.meta.url` there is this file's URL. The ES build
// keeps the real `import.meta.url` and no Node-only imports, so that browser bundles of it need no shims.
export const importMetaUrl = require('node:url').pathToFileURL(__filename).href;
