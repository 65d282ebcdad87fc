/**
 * Loads one data file as a stream would (`node bin/run-ts.mjs tests/support/load-feed.ts FILE#COLUMN`)
 * and prints what was read and the peak memory, for tests that run it in a child
 * process with a small heap.
 */
import { readFeedFile, describeFeedFile } from '../../src/engine/node/sources/paced.ts';
import { parseSourceUri, type SourceSpec } from '../../src/engine/core/sources/uri.ts';

const spec = parseSourceUri(process.argv[2]!) as Extract<SourceSpec, { kind: 'file' }>;
const file = await readFeedFile(spec.path, spec);
console.log(JSON.stringify({ summary: describeFeedFile(file), length: file.length, last: file.record(file.length - 1), maxRssMB: process.resourceUsage().maxRSS / 1024 }));
