// tandem serve driven by the official `openai` npm client: every endpoint,
// streaming with usage, n, logprobs, json_schema, tool calls, and the error
// cases the client sees as typed errors. References: the OpenAI API's
// documented shapes, and for greedy answers the same request answered without
// streaming.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import OpenAI from 'openai';
import { startServer, randomModel } from './serve.mjs';

const KEY = 'test-key';
let server, client;
// Tool calls run on a second server with a 4096-token context (serve.mjs).
const haveRandomModel = fs.existsSync(randomModel);
let toolServer, toolClient;

before(async () => {
  server = await startServer(['--api-key', KEY, '--parallel', '2']);
  client = new OpenAI({ apiKey: KEY, baseURL: `${server.url}/v1`, maxRetries: 0 });
  if (haveRandomModel) {
    toolServer = await startServer([], randomModel);
    toolClient = new OpenAI({ apiKey: 'unused', baseURL: `${toolServer.url}/v1`, maxRetries: 0 });
  }
});
after(async () => {
  assert.equal(await server.stop(), 0, 'SIGTERM ends tandem serve with status 0');
  if (toolServer) assert.equal(await toolServer.stop(), 0, 'SIGTERM ends the tools server with status 0');
});

const messages = [{ role: 'user', content: 'Tell me a story about a cat.' }];

test('models: list and retrieve', async () => {
  const ids = [];
  for await (const m of client.models.list()) ids.push(m.id);
  assert.deepEqual(ids, ['tandem-base', 'default']);
  const m = await client.models.retrieve('default');
  assert.equal(m.id, 'default');
  assert.equal(m.object, 'model');
});

test('chat: a greedy answer with usage and the tandem extension', async () => {
  const r = await client.chat.completions.create({ model: 'default', messages, temperature: 0, top_p: 1, max_tokens: 16 });
  assert.equal(r.object, 'chat.completion');
  assert.equal(r.choices.length, 1);
  assert.equal(r.choices[0].message.role, 'assistant');
  assert.ok(r.choices[0].message.content.length > 0);
  assert.ok(['stop', 'length'].includes(r.choices[0].finish_reason));
  assert.equal(r.usage.total_tokens, r.usage.prompt_tokens + r.usage.completion_tokens);
  assert.equal(r.tandem.answered_by, 'default');
});

test('chat: streaming with include_usage gives the same text and exactly one final usage chunk', async () => {
  const whole = await client.chat.completions.create({ model: 'default', messages, temperature: 0, max_tokens: 16 });
  const stream = await client.chat.completions.create({
    model: 'default', messages, temperature: 0, max_tokens: 16, stream: true, stream_options: { include_usage: true },
  });
  let text = '';
  const usage = [];
  let finish = null;
  let last;
  for await (const chunk of stream) {
    last = chunk;
    if (chunk.usage) usage.push(chunk);
    for (const c of chunk.choices) {
      text += c.delta.content ?? '';
      if (c.finish_reason) finish = c.finish_reason;
    }
  }
  assert.equal(text, whole.choices[0].message.content);
  assert.equal(finish, whole.choices[0].finish_reason);
  assert.equal(usage.length, 1);
  assert.equal(last, usage[0], 'the usage chunk is the last one');
  assert.deepEqual(last.choices, []);
  assert.equal(last.usage.completion_tokens, whole.usage.completion_tokens);
});

test('chat: streaming without include_usage sends no usage chunk', async () => {
  const stream = await client.chat.completions.create({ model: 'default', messages, temperature: 0, max_tokens: 8, stream: true });
  for await (const chunk of stream) {
    assert.ok(!chunk.usage, 'no usage without stream_options.include_usage');
    assert.equal(chunk.choices.length, 1);
  }
});

test('chat: n = 3 with a seed gives three choices, each its own seed (seed + i)', async () => {
  const r = await client.chat.completions.create({ model: 'default', messages, temperature: 1, max_tokens: 12, n: 3, seed: 7 });
  assert.deepEqual(r.choices.map((c) => c.index), [0, 1, 2]);
  // Choice i equals a single request with seed 7 + i.
  for (const i of [0, 2]) {
    const one = await client.chat.completions.create({ model: 'default', messages, temperature: 1, max_tokens: 12, seed: 7 + i });
    assert.equal(r.choices[i].message.content, one.choices[0].message.content);
  }
});

test('chat: logprobs in OpenAI\'s shape', async () => {
  const r = await client.chat.completions.create({
    model: 'default', messages, temperature: 0, max_tokens: 6, logprobs: true, top_logprobs: 3,
  });
  const content = r.choices[0].logprobs.content;
  assert.equal(content.length, r.usage.completion_tokens);
  let joined = [];
  for (const t of content) {
    assert.equal(typeof t.token, 'string');
    assert.ok(t.logprob <= 0);
    assert.ok(Array.isArray(t.bytes));
    assert.equal(t.top_logprobs.length, 3);
    // Greedy: the chosen token is the most likely alternative.
    assert.equal(t.top_logprobs[0].logprob, t.logprob);
    assert.ok(t.top_logprobs[0].logprob >= t.top_logprobs[1].logprob);
    joined = joined.concat(t.bytes);
  }
  assert.equal(Buffer.from(joined).toString('utf8'), r.choices[0].message.content);
});

test('chat: response_format json_schema is enforced', async () => {
  const schema = {
    type: 'object',
    properties: { mood: { type: 'string', enum: ['happy', 'sad'] }, indoor: { type: 'boolean' } },
    required: ['mood', 'indoor'],
    additionalProperties: false,
  };
  const r = await client.chat.completions.create({
    model: 'default', messages, temperature: 0, max_tokens: 64,
    response_format: { type: 'json_schema', json_schema: { name: 'cat', schema, strict: true } },
  });
  const v = JSON.parse(r.choices[0].message.content);
  assert.deepEqual(Object.keys(v).sort(), ['indoor', 'mood']);
  assert.ok(['happy', 'sad'].includes(v.mood));
  assert.equal(typeof v.indoor, 'boolean');
});

test('chat: a schema keyword the decoder cannot enforce is a 400 naming response_format', async () => {
  const schema = { type: 'object', properties: { legs: { type: 'integer', maximum: 9 } } };
  await assert.rejects(client.chat.completions.create({
    model: 'default', messages, max_tokens: 8, response_format: { type: 'json_schema', json_schema: { name: 'x', schema } },
  }), (e) => e instanceof OpenAI.BadRequestError && e.param === 'response_format' && /maximum/.test(e.message));
});

test('completions: text, and echo with prompt logprobs', async () => {
  const r = await client.completions.create({ model: 'default', prompt: 'Once upon a time', max_tokens: 8, temperature: 0 });
  assert.equal(r.object, 'text_completion');
  assert.ok(r.choices[0].text.length > 0);
  const e = await client.completions.create({ model: 'default', prompt: ['Once upon a time', 'Lily and Tom'], max_tokens: 0, echo: true, logprobs: 1 });
  assert.equal(e.choices.length, 2);
  assert.equal(e.choices[1].text, 'Lily and Tom');
  const lp = e.choices[0].logprobs;
  assert.ok(lp.tokens.length > 2);
  assert.equal(lp.token_logprobs.length, lp.tokens.length);
  assert.ok(lp.token_logprobs.every((x) => x < 0));
});

test('embeddings: floats, and base64 decoded by the client to the same floats', async () => {
  const f = await client.embeddings.create({ model: 'default', input: ['Lily and Tom', 'a dog'], encoding_format: 'float' });
  assert.equal(f.data.length, 2);
  const b = await client.embeddings.create({ model: 'default', input: ['Lily and Tom', 'a dog'] });  // the client asks for base64
  assert.equal(b.data[0].embedding.length, f.data[0].embedding.length);
  for (let i = 0; i < f.data[0].embedding.length; ++i) {
    assert.equal(Math.fround(b.data[0].embedding[i]), Math.fround(f.data[0].embedding[i]));
  }
});

test('errors: wrong API key is an AuthenticationError', async () => {
  const bad = new OpenAI({ apiKey: 'nope', baseURL: `${server.url}/v1`, maxRetries: 0 });
  await assert.rejects(bad.models.list(), (e) => e instanceof OpenAI.AuthenticationError && e.status === 401);
});

test('errors: unknown model is a NotFoundError', async () => {
  await assert.rejects(client.chat.completions.create({ model: 'gpt-9', messages }),
    (e) => e instanceof OpenAI.NotFoundError && e.code === 'model_not_found');
});

test('errors: each bad request is a BadRequestError naming its field', async () => {
  const cases = [
    [{ temperature: 'hot' }, 'temperature'],
    [{ frobnicate: true }, 'frobnicate'],
    [{ tools: [{ type: 'function', function: { name: 'f f' } }] }, 'tools[0].function.name'],
    [{ n: 0 }, 'n'],
    [{ max_tokens: 100000000 }, 'max_tokens'],
    [{ top_logprobs: 2 }, 'top_logprobs'],
    [{ messages: [{ role: 'user', content: 'the dog ran '.repeat(800) }] }, 'messages'],
  ];
  for (const [extra, param] of cases) {
    await assert.rejects(client.chat.completions.create({ model: 'default', messages, max_tokens: 4, ...extra }),
      (e) => e instanceof OpenAI.BadRequestError && e.param === param, JSON.stringify(extra).slice(0, 80));
  }
});

// Tool calls. The string property has a maxLength: a random-weight model
// would not otherwise close the string before max_tokens.
const weather = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'The forecast for a city',
    parameters: {
      type: 'object',
      properties: {
        city: { type: 'string', maxLength: 12 },
        days: { type: 'integer' },
        unit: { type: 'string', enum: ['celsius', 'fahrenheit'] },
      },
      required: ['city', 'days', 'unit'],
      additionalProperties: false,
    },
  },
};
const toolRequest = {
  model: 'default', messages: [{ role: 'user', content: 'Weather in Oslo?' }], tools: [weather],
  tool_choice: 'required', parallel_tool_calls: false, temperature: 0, max_tokens: 200,
};
const toolTest = (name, fn) => test(name, { skip: !haveRandomModel && `no ${randomModel}` }, fn);

// The arguments checked against the schema above by hand (not by tandem's code).
function checkWeatherArguments(text) {
  const args = JSON.parse(text);
  assert.deepEqual(Object.keys(args).sort(), ['city', 'days', 'unit']);
  assert.equal(typeof args.city, 'string');
  assert.ok(args.city.length <= 12);
  assert.ok(Number.isInteger(args.days));
  assert.ok(['celsius', 'fahrenheit'].includes(args.unit));
}

toolTest('tools: tool_choice required returns a call whose arguments match the schema', async () => {
  const r = await toolClient.chat.completions.create(toolRequest);
  const c = r.choices[0];
  assert.equal(c.finish_reason, 'tool_calls');
  assert.equal(c.message.content, null);
  assert.equal(c.message.tool_calls.length, 1);
  const call = c.message.tool_calls[0];
  assert.match(call.id, /^call_[A-Za-z0-9]{24}$/);
  assert.equal(call.type, 'function');
  assert.equal(call.function.name, 'get_weather');
  checkWeatherArguments(call.function.arguments);
  assert.equal(r.usage.total_tokens, r.usage.prompt_tokens + r.usage.completion_tokens);
});

toolTest('tools: a streamed call accumulates from index-keyed deltas to the non-streamed greedy call', async () => {
  const whole = await toolClient.chat.completions.create(toolRequest);
  const stream = await toolClient.chat.completions.create({ ...toolRequest, stream: true });
  const calls = [];
  let finish = null, argumentDeltas = 0;
  for await (const chunk of stream) {
    for (const c of chunk.choices) {
      for (const d of c.delta.tool_calls ?? []) {
        if (!calls[d.index]) {
          assert.ok(d.id && d.type === 'function' && d.function.name, 'the first delta of a call names it');
          calls[d.index] = { id: d.id, name: d.function.name, arguments: '' };
        }
        if (d.function?.arguments) { calls[d.index].arguments += d.function.arguments; argumentDeltas += 1; }
      }
      if (c.finish_reason) finish = c.finish_reason;
    }
  }
  assert.equal(finish, 'tool_calls');
  assert.ok(argumentDeltas > 1, 'the arguments arrive in several fragments');
  const expected = whole.choices[0].message.tool_calls.map((t) => ({ name: t.function.name, arguments: t.function.arguments }));
  assert.deepEqual(calls.map((t) => ({ name: t.name, arguments: t.arguments })), expected);
  checkWeatherArguments(calls[0].arguments);
  // The client's own accumulator (ChatCompletionStream) agrees.
  const final = await toolClient.chat.completions.stream(toolRequest).finalChatCompletion();
  assert.equal(final.choices[0].finish_reason, 'tool_calls');
  assert.deepEqual(final.choices[0].message.tool_calls.map((t) => ({ name: t.function.name, arguments: t.function.arguments })), expected);
});

test('tools: a tool_choice naming an unknown function is a 400 naming tool_choice', async () => {
  await assert.rejects(client.chat.completions.create({
    model: 'default', messages, max_tokens: 4, tools: [weather], tool_choice: { type: 'function', function: { name: 'get_mood' } },
  }), (e) => e instanceof OpenAI.BadRequestError && e.param === 'tool_choice');
});

toolTest('tools: a history with an assistant tool call and its tool result is answered', async () => {
  const history = [
    { role: 'user', content: 'Weather in Oslo?' },
    { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function',
      function: { name: 'get_weather', arguments: '{"city":"Oslo","days":1,"unit":"celsius"}' } }] },
    { role: 'tool', tool_call_id: 'call_1', content: 'Sunny, 21 degrees.' },
  ];
  const r = await toolClient.chat.completions.create({ ...toolRequest, messages: history, tool_choice: 'auto', max_tokens: 40 });
  assert.equal(r.object, 'chat.completion');
  assert.ok(['stop', 'length', 'tool_calls'].includes(r.choices[0].finish_reason));
});
