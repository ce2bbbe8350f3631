// The Argo CD health checks of docs/gitops.md, run by the Lua interpreter Argo CD embeds
// (github.com/yuin/gopher-lua, from the Go module proxy) on objects in each state the operator
// reports. Needs Go, as the test bed build does.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { repoRoot } from './support/testbed/paths.ts';

const GOPHER_LUA = 'github.com/yuin/gopher-lua v1.1.1';

// Converts each object to a Lua table (as Argo CD does), runs the script, prints the health.
const MAIN_GO = `package main

import (
	"encoding/json"
	"fmt"
	"os"

	lua "github.com/yuin/gopher-lua"
)

func toLua(L *lua.LState, v interface{}) lua.LValue {
	switch x := v.(type) {
	case bool:
		return lua.LBool(x)
	case float64:
		return lua.LNumber(x)
	case string:
		return lua.LString(x)
	case []interface{}:
		t := L.NewTable()
		for _, e := range x {
			t.Append(toLua(L, e))
		}
		return t
	case map[string]interface{}:
		t := L.NewTable()
		for k, e := range x {
			t.RawSetString(k, toLua(L, e))
		}
		return t
	}
	return lua.LNil
}

func main() {
	var in struct {
		Script  string                   \`json:"script"\`
		Objects []map[string]interface{} \`json:"objects"\`
	}
	if err := json.NewDecoder(os.Stdin).Decode(&in); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	out := []map[string]string{}
	for _, o := range in.Objects {
		L := lua.NewState()
		L.SetGlobal("obj", toLua(L, o))
		if err := L.DoString(in.Script); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		hs, ok := L.Get(-1).(*lua.LTable)
		if !ok {
			fmt.Fprintln(os.Stderr, "the script returned no table")
			os.Exit(1)
		}
		out = append(out, map[string]string{
			"status":  hs.RawGetString("status").String(),
			"message": hs.RawGetString("message").String(),
		})
		L.Close()
	}
	json.NewEncoder(os.Stdout).Encode(out)
}
`;

function run(cmd: string, args: string[], cwd: string, input: string) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    const child = execFile(
      cmd,
      args,
      { cwd, env: { ...process.env, GOFLAGS: '-mod=mod', GOTOOLCHAIN: 'local' }, maxBuffer: 16 << 20 },
      (err, stdout, stderr) =>
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
    );
    child.stdin?.end(input);
  });
}

const ready = (status: string, extra: Record<string, unknown> = {}) => ({
  type: 'Ready',
  status,
  reason: status === 'True' ? 'Synced' : 'TenancyDenied',
  message:
    status === 'True' ? 'Secret db holds the latest data' : 'namespace "x" may not use backend "vault"',
  observedGeneration: 2,
  ...extra,
});
const object = (kind: string, conditions?: unknown[], generation = 2) => ({
  apiVersion: 'vaultsync.io/v1alpha1',
  kind,
  metadata: { name: 'x', namespace: 'shop', generation },
  spec: {},
  ...(conditions ? { status: { observedGeneration: 2, conditions } } : {}),
});

describe('Argo CD health checks in docs/gitops.md', function () {
  this.timeout(180_000);

  it('map Ready, observedGeneration and Issuing to Healthy, Degraded and Progressing in gopher-lua', async () => {
    const text = readFileSync(join(repoRoot, 'docs/gitops.md'), 'utf8');
    const cm = [...text.matchAll(/```yaml\n([\s\S]*?)```/g)]
      .flatMap((m) => parseAllDocuments(m[1]!).map((d) => d.toJS()))
      .find((o) => o?.kind === 'ConfigMap' && o.metadata?.name === 'argocd-cm');
    assert.ok(cm, 'docs/gitops.md has the argocd-cm ConfigMap');
    const scripts = ['VaultSecret', 'VaultCertificate', 'SecretRotation'].map(
      (k) => cm.data[`resource.customizations.health.vaultsync.io_${k}`] as string,
    );
    for (const s of scripts) assert.ok(s && s.includes('return hs'), 'a health script for each kind');

    const cases: [string, object, string, RegExp?][] = [
      ['no status yet', object('VaultSecret'), 'Progressing'],
      ['Ready', object('VaultSecret', [ready('True')]), 'Healthy', /^Synced: /],
      ['not Ready', object('VaultSecret', [ready('False')]), 'Degraded', /^TenancyDenied: namespace/],
      [
        'Ready for an older generation',
        object('VaultSecret', [ready('True')], 3),
        'Progressing',
        /generation 3/,
      ],
      ['Ready Unknown', object('SecretRotation', [ready('Unknown')]), 'Progressing'],
      [
        'issuing a certificate',
        object('VaultCertificate', [
          ready('False'),
          { type: 'Issuing', status: 'True', message: 'Renewing' },
        ]),
        'Progressing',
        /Renewing/,
      ],
      [
        'a renewed certificate',
        object('VaultCertificate', [ready('True'), { type: 'Issuing', status: 'False' }]),
        'Healthy',
      ],
    ];
    const dir = mkdtempSync(join(tmpdir(), 'vaultsync-lua-'));
    try {
      writeFileSync(join(dir, 'go.mod'), `module luacheck\n\ngo 1.22\n\nrequire ${GOPHER_LUA}\n`);
      writeFileSync(join(dir, 'main.go'), MAIN_GO);
      for (const [i, script] of scripts.entries()) {
        const r = await run(
          'go',
          ['run', '.'],
          dir,
          JSON.stringify({ script, objects: cases.map((c) => c[1]) }),
        );
        assert.equal(r.code, 0, `go run (script ${i}): ${r.stderr}`);
        const health = JSON.parse(r.stdout) as { status: string; message: string }[];
        for (const [j, [what, , status, message]] of cases.entries()) {
          assert.equal(health[j]?.status, status, `${what}: ${JSON.stringify(health[j])}`);
          if (message) assert.match(health[j]!.message, message, what);
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
