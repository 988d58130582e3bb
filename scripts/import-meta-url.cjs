// esbuild inject for the CommonJS bundle: what import.meta.url means in the ES module sources.
export const importMetaUrl = require('node:url').pathToFileURL(__filename).href;
