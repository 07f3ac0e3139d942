/** The published status schema, compiled once: the status files a test reads must match it. */
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './processes.js';

const ajv = new Ajv2020({ allErrors: true });
addFormats.default(ajv);

/** Validates one status document; after a false result, `statusSchema.errors` says why. */
export const statusSchema = ajv.compile(JSON.parse(readFileSync(join(ROOT, 'schemas', 'status.schema.json'), 'utf8')) as object);
