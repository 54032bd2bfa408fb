// A bounded load test on loopback: 32 concurrent streaming greedy clients
// against --parallel 4 (fixed count, 120 s limit). Every stream must be well
// formed (the client parses it), end with a finish_reason, and its text must
// equal the same request served alone. Prints throughput and p50/p99 time to
// first token.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { startServer } from './serve.mjs';

const CLIENTS = 32;
const prompts = ['Once upon a time', 'Lily and Tom', 'The little dog', 'One day a bird', 'Ben has a red ball',
  'The sun was hot', 'Mia wanted a cake', 'In the park'];
let server, client;

before(async () => {
  server = await startServer(['--parallel', '4', '--max-queue', '64']);
  client = new OpenAI({ apiKey: 'none', baseURL: `${server.url}/v1`, maxRetries: 0 });
});
after(async () => {
  assert.equal(await server.stop(), 0);
});

async function streamOne(prompt) {
  const t0 = performance.now();
  let ttft = null, text = '', finish = null, tokens = 0;
  const stream = await client.completions.create({
    model: 'default', prompt, max_tokens: 24, temperature: 0, stream: true, stream_options: { include_usage: true },
  });
  for await (const chunk of stream) {
    for (const c of chunk.choices) {
      if (c.text && ttft === null) ttft = performance.now() - t0;
      text += c.text ?? '';
      if (c.finish_reason) finish = c.finish_reason;
    }
    if (chunk.usage) tokens = chunk.usage.completion_tokens;
  }
  return { text, finish, tokens, ttft };
}

test(`${CLIENTS} concurrent streams equal the same requests served alone`, { timeout: 120000 }, async () => {
  const alone = [];
  for (const p of prompts) alone.push(await streamOne(p));
  for (const a of alone) assert.ok(a.text.length > 0 && a.finish);
  const t0 = performance.now();
  const results = await Promise.all(Array.from({ length: CLIENTS }, (_, i) => streamOne(prompts[i % prompts.length])));
  const seconds = (performance.now() - t0) / 1000;
  results.forEach((r, i) => {
    assert.equal(r.text, alone[i % prompts.length].text, `client ${i}`);
    assert.equal(r.finish, alone[i % prompts.length].finish, `client ${i}`);
  });
  const ttfts = results.map((r) => r.ttft ?? Infinity).sort((a, b) => a - b);
  const q = (f) => ttfts[Math.min(ttfts.length - 1, Math.floor(f * ttfts.length))];
  const tokens = results.reduce((s, r) => s + r.tokens, 0);
  console.log(`load: ${CLIENTS} streams, ${tokens} tokens in ${seconds.toFixed(2)} s = ${(tokens / seconds).toFixed(1)} tokens/s; ` +
    `time to first token p50 ${q(0.5).toFixed(1)} ms, p99 ${q(0.99).toFixed(1)} ms`);
});
