#!/usr/bin/env bash
# tandem serve driven by curl (a client that is not the official one): starts
# `tandem serve -m models/tandem-base.gguf --port 0 -t 1`, checks every
# endpoint's answer, the error cases, and that SIGTERM ends it with status 0.
# The greedy chat answer must equal `tandem run --chat --temp 0`'s (the same
# Model, reached without HTTP). Exits 77 (ctest: skipped) without curl or jq.
# Usage: serve_curl_test.sh TANDEM_BINARY SOURCE_DIR
set -uo pipefail
TANDEM=$1
cd "$2"
for tool in curl jq; do
  command -v "$tool" > /dev/null || { echo "SKIP: $tool is not installed (scripts/setup.sh installs it)"; exit 77; }
done
MODEL=models/tandem-base.gguf
[ -f "$MODEL" ] || { echo "SKIP: $MODEL is missing"; exit 77; }

WORK=$(mktemp -d)
SERVER_PID=
cleanup() { [ -n "$SERVER_PID" ] && kill -9 "$SERVER_PID" 2> /dev/null; rm -rf "$WORK"; }
trap cleanup EXIT
failures=0
check() {  # check NAME CONDITION-COMMAND...
  local name=$1; shift
  if "$@"; then echo "ok: $name"; else echo "FAIL: $name"; failures=$((failures + 1)); fi
}

"$TANDEM" serve -m "$MODEL" --port 0 -t 1 --api-key sekrit > "$WORK/out" 2> "$WORK/err" &
SERVER_PID=$!
for _ in $(seq 1 300); do
  grep -q '^listening on http://' "$WORK/out" && break
  kill -0 "$SERVER_PID" 2> /dev/null || { echo "FAIL: the server exited"; cat "$WORK/err"; exit 1; }
  sleep 0.1
done
URL=$(sed -n 's/^listening on //p' "$WORK/out")
[ -n "$URL" ] || { echo "FAIL: no listening line"; cat "$WORK/err"; exit 1; }
echo "server at $URL"
AUTH=(-H "Authorization: Bearer sekrit")
post() {  # post PATH BODY -> body in $WORK/body, status in $WORK/status
  curl -s -o "$WORK/body" -w '%{http_code}' "${AUTH[@]}" -H 'Content-Type: application/json' "$URL$1" -d "$2" > "$WORK/status"
}
status_is() { [ "$(cat "$WORK/status")" = "$1" ]; }
body_has() { jq -e "$1" "$WORK/body" > /dev/null; }

check "/health is ok" bash -c "curl -s '$URL/health' | jq -e '.status == \"ok\"' > /dev/null"
curl -s "${AUTH[@]}" "$URL/v1/models" > "$WORK/body"
check "/v1/models lists tandem-base and default" body_has '[.data[].id] == ["tandem-base", "default"]'
curl -s "${AUTH[@]}" "$URL/v1/models/default" > "$WORK/body"
check "/v1/models/default" body_has '.id == "default" and .object == "model"'

PROMPT="Tell me a story about a dog."
post /v1/chat/completions "{\"model\": \"tandem-base\", \"messages\": [{\"role\": \"user\", \"content\": \"$PROMPT\"}], \"temperature\": 0, \"top_p\": 1, \"max_tokens\": 24}"
check "chat: 200" status_is 200
check "chat: shape and usage" body_has '.object == "chat.completion" and .choices[0].message.role == "assistant" and .usage.completion_tokens > 0 and .usage.total_tokens == .usage.prompt_tokens + .usage.completion_tokens'
EXPECTED=$("$TANDEM" run -m "$MODEL" -t 1 --chat -p "$PROMPT" --temp 0 -n 24 --json | jq -r .text)
GOT=$(jq -r '.choices[0].message.content' "$WORK/body")
check "chat: tandem run gave a non-empty answer" [ -n "$EXPECTED" ]
check "chat: the greedy answer equals tandem run's" [ "$GOT" = "$EXPECTED" ]

curl -sN "${AUTH[@]}" "$URL/v1/chat/completions" -d "{\"model\": \"tandem-base\", \"messages\": [{\"role\": \"user\", \"content\": \"$PROMPT\"}], \"temperature\": 0, \"max_tokens\": 24, \"stream\": true, \"stream_options\": {\"include_usage\": true}}" > "$WORK/stream"
check "stream: ends with [DONE]" bash -c "[ \"\$(grep '^data: ' '$WORK/stream' | tail -1)\" = 'data: [DONE]' ]"
grep '^data: {' "$WORK/stream" | sed 's/^data: //' > "$WORK/chunks"
STREAMED=$(jq -rj 'select(.choices | length > 0) | .choices[0].delta.content // ""' "$WORK/chunks")
check "stream: the text equals the whole answer" [ "$STREAMED" = "$EXPECTED" ]
check "stream: exactly one usage chunk, last, with empty choices" bash -c \
  "jq -s -e '[.[] | select(.usage != null)] | length == 1' '$WORK/chunks' > /dev/null && tail -1 '$WORK/chunks' | jq -e '.choices == [] and .usage.completion_tokens > 0' > /dev/null"

post /v1/completions '{"model": "default", "prompt": "Once upon a time", "max_tokens": 0, "echo": true, "logprobs": 1}'
check "completions echo+logprobs: 200" status_is 200
check "completions echo+logprobs: the prompt with a logprob per token" body_has \
  '.choices[0].text == "Once upon a time" and (.choices[0].logprobs.tokens | length) > 2 and (.choices[0].logprobs.tokens | length) == (.choices[0].logprobs.token_logprobs | length) and all(.choices[0].logprobs.token_logprobs[]; . < 0)'

post /v1/embeddings '{"model": "default", "input": ["Lily and Tom", "The dog"]}'
check "embeddings: two vectors of equal size" body_has '(.data | length) == 2 and (.data[0].embedding | length) > 0 and (.data[0].embedding | length) == (.data[1].embedding | length)'

curl -s -o "$WORK/body" -w '%{http_code}' "$URL/v1/models" > "$WORK/status"
check "no API key: 401" status_is 401
check "no API key: error shape" body_has '.error.type == "authentication_error" and (.error.message | length) > 0'
curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer wrong" "$URL/v1/models" > "$WORK/status"
check "wrong API key: 401" status_is 401

post /v1/chat/completions '{"model": "default", "messages": ['
check "malformed JSON: 400" status_is 400
check "malformed JSON: error shape" body_has '.error.type == "invalid_request_error" and .error.code == "invalid_json"'
post /v1/chat/completions '{"model": "default", "messages": [{"role": "user", "content": "hi"}], "frobnicate": 1}'
check "unknown field: 400 naming it" bash -c "[ \"\$(cat '$WORK/status')\" = 400 ] && jq -e '.error.param == \"frobnicate\"' '$WORK/body' > /dev/null"
post /v1/chat/completions '{"model": "gpt-9", "messages": [{"role": "user", "content": "hi"}]}'
check "unknown model: 404" status_is 404
check "unknown model: code" body_has '.error.code == "model_not_found"'
LONG=$(printf 'the little dog ran %.0s' $(seq 1 400))
post /v1/completions "{\"model\": \"default\", \"prompt\": \"$LONG\", \"max_tokens\": 4}"
check "prompt longer than the context: 400" status_is 400
post /v1/chat/completions '{"model": "default", "messages": [{"role": "user", "content": "hi"}], "tools": [{"type": "function", "function": {"name": "f"}}], "tool_choice": {"type": "function", "function": {"name": "g"}}}'
check "tool_choice naming no tool: 400 naming the field" bash -c "[ \"\$(cat '$WORK/status')\" = 400 ] && jq -e '.error.param == \"tool_choice\"' '$WORK/body' > /dev/null"

head -c 9000000 /dev/zero | tr '\0' a > "$WORK/big"
curl -s -o "$WORK/body" -w '%{http_code}' "${AUTH[@]}" "$URL/v1/completions" --data-binary @"$WORK/big" > "$WORK/status"
check "body over the 8 MiB limit: 413" status_is 413
curl -s "$URL/metrics" > "$WORK/metrics"
check "/metrics counts the chat requests" grep -q 'tandem_requests_total{endpoint="chat",status="200"} 2' "$WORK/metrics"
check "/metrics has the answers by answered_by" grep -q 'tandem_answers_total{model="tandem-base",answered_by="tandem-base"} 2' "$WORK/metrics"

kill -TERM "$SERVER_PID"
wait "$SERVER_PID"
rc=$?
SERVER_PID=
check "SIGTERM: exit status 0 (got $rc)" [ "$rc" = 0 ]

# A second server with a 0.15 s timeout; a request of 240 tokens (ignore_eos)
# decodes for about 0.25 s in a Release build, 16 choices of it (n) for
# seconds: long past the timeout on fast machines too, while its first token
# comes well before it even under ASan (so the stream has started).
"$TANDEM" serve -m "$MODEL" --port 0 -t 1 --parallel 1 --max-queue 0 --timeout 0.15 > "$WORK/out2" 2> "$WORK/err2" &
SERVER_PID=$!
for _ in $(seq 1 300); do grep -q '^listening on' "$WORK/out2" && break; sleep 0.1; done
URL=$(sed -n 's/^listening on //p' "$WORK/out2")
AUTH=()
LONG_REQ='{"model": "default", "prompt": "Once upon a time", "max_tokens": 240, "ignore_eos": true, "temperature": 0}'
LONGER_REQ='{"model": "default", "prompt": "Once upon a time", "max_tokens": 240, "ignore_eos": true, "temperature": 0, "n": 16}'
post /v1/completions "$LONGER_REQ"
check "timeout: 408" status_is 408
check "timeout: code" body_has '.error.code == "timeout"'
curl -sN "$URL/v1/completions" -d "${LONGER_REQ%\}}, \"stream\": true}" > "$WORK/tstream"
check "timeout mid-stream: finish_reason cancelled, then [DONE]" bash -c \
  "grep -q '\"finish_reason\":\"cancelled\"' '$WORK/tstream' && [ \"\$(tail -n 2 '$WORK/tstream' | head -1)\" = 'data: [DONE]' ]"
kill -TERM "$SERVER_PID"; wait "$SERVER_PID"; SERVER_PID=

"$TANDEM" serve -m "$MODEL" --port 0 -t 1 --parallel 1 --max-queue 0 > "$WORK/out3" 2> "$WORK/err3" &
SERVER_PID=$!
for _ in $(seq 1 300); do grep -q '^listening on' "$WORK/out3" && break; sleep 0.1; done
URL=$(sed -n 's/^listening on //p' "$WORK/out3")
# A client that goes away mid-stream (curl gives up after 0.3 s) is cancelled
# at its next tokens: the slot is free long before 16 x 240 tokens are decoded.
curl -sN --max-time 0.3 "$URL/v1/completions" -d "${LONGER_REQ%\}}, \"stream\": true}" > /dev/null
freed=no
for _ in $(seq 1 20); do
  [ "$(curl -s "$URL/health" | jq .active)" = 0 ] && { freed=yes; break; }
  sleep 0.05
done
check "disconnect mid-stream: the request is cancelled within 1 s" [ "$freed" = yes ]
# The queue is full while a request decodes: 429 with Retry-After.
curl -s -o /dev/null "$URL/v1/completions" -d "$LONGER_REQ" &
HOLDER=$!
for _ in $(seq 1 50); do [ "$(curl -s "$URL/health" | jq .active)" = 1 ] && break; sleep 0.02; done
curl -s -D "$WORK/headers" -o "$WORK/body" -w '%{http_code}' "$URL/v1/completions" -d "$LONG_REQ" > "$WORK/status"
check "full queue: 429" status_is 429
check "full queue: Retry-After" grep -qi '^retry-after: 1' "$WORK/headers"
kill "$HOLDER" 2> /dev/null; wait "$HOLDER"
# Keep-alive: a second request on the connection of a finished stream.
curl -sv -N "$URL/v1/completions" -d '{"model": "default", "prompt": "Hi", "max_tokens": 4, "stream": true}' \
  --next "$URL/health" > "$WORK/ka" 2> "$WORK/ka.err"
check "keep-alive: the connection is reused after a stream" grep -q 'Re-using existing connection' "$WORK/ka.err"
check "keep-alive: the second answer arrives" grep -q '"status":"ok"' "$WORK/ka"
kill -TERM "$SERVER_PID"; wait "$SERVER_PID"; rc=$?; SERVER_PID=
check "second server: SIGTERM exit 0" [ "$rc" = 0 ]

# Tool calls need a longer context than tandem-base's 256 tokens: the shared
# folder's random-weight llama-2-tiny-random (4096), whose output the grammar shapes.
RANDOM_MODEL=${TANDEM_SHARED_DIR:-../shared}/models/llama-2-tiny-random.gguf
if [ -f "$RANDOM_MODEL" ]; then
  "$TANDEM" serve -m "$RANDOM_MODEL" --port 0 -t 1 > "$WORK/out4" 2> "$WORK/err4" &
  SERVER_PID=$!
  for _ in $(seq 1 300); do grep -q '^listening on' "$WORK/out4" && break; sleep 0.1; done
  URL=$(sed -n 's/^listening on //p' "$WORK/out4")
  post /v1/chat/completions '{"model": "default", "messages": [{"role": "user", "content": "Weather in Oslo?"}],
    "tools": [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object",
      "properties": {"city": {"type": "string", "maxLength": 12}, "days": {"type": "integer"}}, "required": ["city", "days"]}}}],
    "tool_choice": "required", "parallel_tool_calls": false, "temperature": 0, "max_tokens": 120}'
  check "tools: 200" status_is 200
  check "tools: finish_reason tool_calls, null content, one call" body_has \
    '.choices[0].finish_reason == "tool_calls" and .choices[0].message.content == null and (.choices[0].message.tool_calls | length) == 1'
  check "tools: the arguments are JSON with the required keys" body_has \
    '.choices[0].message.tool_calls[0].function.arguments | fromjson | (keys == ["city", "days"]) and (.city | type) == "string" and (.days | type) == "number"'
  kill -TERM "$SERVER_PID"; wait "$SERVER_PID"; SERVER_PID=
else
  echo "skipped: tools ($RANDOM_MODEL is missing)"
fi

[ "$failures" = 0 ] || { echo "$failures check(s) failed"; cat "$WORK/err"; exit 1; }
echo "all checks passed"
