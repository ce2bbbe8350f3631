import assert from 'node:assert/strict';
import { committed, finish, generate } from './generate-grpc-types.ts';

describe('gRPC types generated from proto/', function () {
  this.timeout(60_000);

  it('are committed as generated (run node hack/generate-grpc-types.ts after changing proto/)', () => {
    const fresh = generate();
    const inRepo = committed();
    assert.deepEqual([...inRepo.keys()], [...fresh.keys()], 'the same files');
    for (const [file, text] of fresh)
      assert.equal(inRepo.get(file), text, `src/grpc/generated/${file} is stale`);
  });

  it('gives relative imports the .ts extension, and leaves package imports alone', () => {
    const text = finish("import type { A } from './a/B';\nimport type * as grpc from '@grpc/grpc-js';\n");
    assert.match(text, /from '\.\/a\/B\.ts'/);
    assert.match(text, /from '@grpc\/grpc-js'/);
  });
});
