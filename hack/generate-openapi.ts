// Writes docs/api/openapi.json from the API's route schemas (make generate).
import { mkdirSync, writeFileSync } from 'node:fs';
import { openApiDocument } from '../src/http/api/openapi.ts';

const file = new URL('../docs/api/openapi.json', import.meta.url);
mkdirSync(new URL('.', file), { recursive: true });
writeFileSync(file, `${JSON.stringify(await openApiDocument(), null, 2)}\n`);
console.log('wrote docs/api/openapi.json');
