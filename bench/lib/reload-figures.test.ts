import assert from 'node:assert/strict';
import {
  changeOrder,
  countById,
  isTemplateChange,
  patchVerdict,
  reloadTargets,
  untargeted,
  withinGoal,
} from './reload-figures.ts';

describe('reload figures', () => {
  it('spreads the Deployments over the resources, one Secret each, in the Secret’s namespace', () => {
    const targets = reloadTargets(4, { resources: 1000, paths: 100 });
    assert.deepEqual(
      targets.map((t) => [t.deployment, t.ref.namespace, t.ref.name]),
      [
        ['reload-0', 'bench-vs', 'vs-0'],
        ['reload-1', 'bench-vs-bulk', 'vs-250'],
        ['reload-2', 'bench-vs-bulk', 'vs-500'],
        ['reload-3', 'bench-vs-bulk', 'vs-750'],
      ],
    );
    assert.equal(new Set(targets.map((t) => t.ref.name)).size, 4);
    assert.equal(reloadTargets(50, { resources: 10, paths: 10 }).length, 10);
  });

  it('warms up on a resource no Deployment asks for, when there is one', () => {
    const knobs = { resources: 1000, paths: 100 };
    assert.equal(untargeted(reloadTargets(100, knobs), knobs).name, 'vs-1');
    assert.equal(untargeted(reloadTargets(1000, knobs), knobs).name, 'vs-0');
    const small = { resources: 10, paths: 10 };
    assert.equal(untargeted(reloadTargets(9, small), small).name, 'vs-9');
  });

  it('takes the changes round-robin over the targets', () => {
    assert.deepEqual(changeOrder(['a', 'b', 'c'], 5), ['a', 'b', 'c', 'a', 'b']);
    assert.deepEqual(changeOrder(['a', 'b', 'c'], 2), ['a', 'b']);
    assert.deepEqual(changeOrder([], 3), []);
  });

  it('wants exactly the patches the changes asked for, and none elsewhere', () => {
    const wanted = countById(['ns/a', 'ns/b', 'ns/a']);
    assert.deepEqual(
      patchVerdict(
        wanted,
        new Map([
          ['ns/a', [1, 2]],
          ['ns/b', [3]],
        ]),
      ),
      {
        patches: 3,
        extra: 0,
        missing: 0,
        exact: true,
      },
    );
    // A change restarting twice, one lost, and a Deployment nobody changed patched anyway.
    const seen = new Map([
      ['ns/a', [1, 2, 3]],
      ['ns/c', [4]],
    ]);
    assert.deepEqual(patchVerdict(wanted, seen), { patches: 4, extra: 2, missing: 1, exact: false });
  });

  it('judges p99 against the debounce plus one second', () => {
    assert.equal(withinGoal(11_000, 10_000), true);
    assert.equal(withinGoal(11_001, 10_000), false);
  });

  it('counts a generation bump as a template change, not the first sight', () => {
    assert.equal(isTemplateChange(undefined, 3), false);
    assert.equal(isTemplateChange(1, 1), false);
    assert.equal(isTemplateChange(1, 2), true);
  });
});
