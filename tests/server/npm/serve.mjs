// Starts `tandem serve` for a test and stops it: spawn with --port 0, wait for
// the "listening on http://..." line, SIGTERM at the end (exit status 0 expected).
// TANDEM_BINARY and TANDEM_SOURCE_DIR come from the ctest script (run_npm_test.sh),
// TANDEM_SHARED_DIR (the shared fixtures folder) from ctest's environment.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';

export const binary = process.env.TANDEM_BINARY;
export const sourceDir = process.env.TANDEM_SOURCE_DIR;
export const model = path.join(sourceDir ?? '.', 'models/tandem-base.gguf');
// A random-weight Llama-2 with a 4096-token context (tandem-base holds 256,
// too few for a tools prompt): its output is gibberish, shaped by the grammar.
export const randomModel = path.join(process.env.TANDEM_SHARED_DIR ?? path.join(sourceDir ?? '.', '../shared'),
  'models/llama-2-tiny-random.gguf');

export async function startServer(args, modelPath = model) {
  const child = spawn(binary, ['serve', '-m', modelPath, '--port', '0', '-t', '1', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  const url = await new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`no listening line in 30 s; stderr: ${stderr}`)), 30000);
    child.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/listening on (http:\/\/\S+)/);
      if (m) { clearTimeout(timer); resolve(m[1]); }
    });
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`tandem serve exited with ${code}: ${stderr}`)); });
  });
  return {
    url,
    async stop() {
      child.kill('SIGTERM');
      const [code] = await once(child, 'exit');
      return code;
    },
  };
}
