/** The scanner alone on a saved archive (`docker save -o FILE`): prints findings count and throughput. */
import { createReadStream } from 'node:fs';
import { findingsOf } from '../src/scan/findings.js';
import { orderImage, readSaveStream } from '../src/scan/save-stream.js';

const t0 = performance.now();
const contents = await readSaveStream(createReadStream(process.argv[2]!, { highWaterMark: 1 << 20 }));
const findings = findingsOf(orderImage(contents));
const ms = performance.now() - t0;
console.log(`${findings.length} findings, ${contents.layerBytes} layer bytes in ${ms.toFixed(0)} ms (${(contents.layerBytes / 1e6 / (ms / 1000)).toFixed(0)} MB/s)`);
