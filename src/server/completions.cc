// POST /v1/chat/completions and /v1/completions (server/server.h): whole
// answers on the connection's thread, streams through a worker thread.
#include <httplib.h>

#include <condition_variable>
#include <ctime>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>

#include "server/api_error.h"
#include "server/openai_response.h"
#include "server/server.h"
#include "util/error.h"

namespace tandem::server {
namespace {

using nlohmann::json;

ApiError model_error(const Error& e, bool chat) {
  const std::string what = e.what();
  if (dynamic_cast<const UnavailableError*>(&e) != nullptr) return ApiError(429, what, "", "budget_exceeded");
  if (what.find("context") != std::string::npos) return ApiError(400, what, chat ? "messages" : "prompt", "context_length_exceeded");
  if (what.find("json schema") != std::string::npos) return ApiError(400, what, "response_format", "unsupported_schema");
  if (what.find("grammar") != std::string::npos) return ApiError(400, what, "grammar", "invalid_grammar");
  return ApiError(400, what, "", "invalid_request");
}

ApiError timeout_error(bool stopping, double timeout_s) {
  if (stopping) return ApiError(503, "The server is shutting down; the request was cancelled", "", "shutting_down");
  char buf[64];
  std::snprintf(buf, sizeof buf, "%g", timeout_s);
  return ApiError(408, std::string("The request took longer than the server's --timeout of ") + buf +
                           " s and was cancelled", "", "timeout");
}

void check_capabilities(const ServedModel& m, const CompletionCall& call) {
  const api::Capabilities caps = m.model->capabilities();
  if (call.chat && !caps.chat) throw ApiError(400, "The model '" + m.name + "' cannot render chat messages: use /v1/completions", "messages", "unsupported_model");
  if (call.logprobs && !caps.logprobs) throw ApiError(400, "The model '" + m.name + "' gives no logprobs", "logprobs", "unsupported_model");
  if (call.echo && call.logprobs && !caps.scoring)
    throw ApiError(400, "The model '" + m.name + "' cannot score a prompt, which echo with logprobs needs", "echo", "unsupported_model");
}

std::string sse(const json& j) { return "data: " + body_text(j) + "\n\n"; }

// One choice: choice `i` of `base` (seed + i), echo and its scores when asked.
Choice run_choice(const ServedModel& m, const CompletionCall& call, const api::Request& base, int index, int i,
                  const api::StreamCallback& on_text) {
  api::Request q = base;
  if (q.sampling.seed) q.sampling.seed = *q.sampling.seed + static_cast<uint64_t>(i);
  Choice c;
  c.index = index;
  try {
    if (call.echo) {
      c.echo = q.prompt;
      if (call.logprobs) c.echo_score = m.model->score("", q.prompt);
    }
    if (q.max_tokens == 0) {  // echo only: the prompt, scored
      c.response.answered_by = m.name;
      c.response.finish_reason = "length";
      c.response.usage[m.name].prompt_tokens = static_cast<int64_t>(c.echo_score.tokens.size());
      return c;
    }
    c.response = m.model->complete(q, on_text);
  } catch (const Error& e) {
    throw model_error(e, call.chat);
  }
  return c;
}

// Chat with tools: the text read as calls or a response (server/tool_calls.h).
void read_tools(const CompletionCall& call, Choice& c) {
  if (!call.tools.active()) return;
  ToolAnswer a = interpret_output(c.response.text, c.response.finish_reason);
  c.tool_calls = std::move(a.tool_calls);
  c.response.text = std::move(a.content);
  c.response.finish_reason = std::move(a.finish_reason);
}

// The deltas of a choice whose text was held back (tools): its calls, or its content.
std::vector<json> held_deltas(const Choice& c) {
  if (!c.tool_calls.is_null()) return tool_call_deltas(c.tool_calls);
  if (c.response.text.empty()) return {};
  return {json{{"content", c.response.text}}};
}

// What a streamed request shares between its decoding worker and the
// connection's thread that writes the events.
struct Stream {
  std::mutex mutex;
  std::condition_variable cv;
  std::deque<std::string> events;
  bool started = false;  // text was produced: the response is a 200 stream
  bool done = false;
  std::optional<ApiError> early_error;  // before any text: answered as an error status
  std::atomic<bool> cancelled{false};   // the client went away
  std::unique_ptr<Admission::Slot> slot;
  std::thread worker;

  void push(std::string event, bool text) {
    {
      std::lock_guard<std::mutex> lock(mutex);
      events.push_back(std::move(event));
      started = started || text;
    }
    cv.notify_all();
  }
  ~Stream() {
    cancelled = true;
    if (worker.joinable()) worker.join();
  }
};

}  // namespace

void Server::completions(const httplib::Request& req, httplib::Response& res, bool chat) {
  const auto t0 = Clock::now();
  const std::string endpoint = chat ? "chat" : "completions";
  try {
    const json body = json::parse(req.body, nullptr, /*allow_exceptions=*/false);
    if (body.is_discarded()) throw ApiError(400, "The request body is not valid JSON", "", "invalid_json");
    const ServedModel& m = find(model_of(body));
    CompletionCall call = chat ? parse_chat(body, m.defaults, limits_for(m)) : parse_completions(body, m.defaults, limits_for(m));
    check_capabilities(m, call);
    const Envelope env{(chat ? "chatcmpl-" : "cmpl-") + std::to_string(created_) + "-" + std::to_string(next_id_++),
                       static_cast<int64_t>(std::time(nullptr)), m.name};
    auto slot = admission_.enter();
    if (!slot) throw ApiError(stopping_ ? 503 : 429, stopping_ ? "The server is shutting down" : "Too many requests: the queue is full, try again later", "", stopping_ ? "shutting_down" : "rate_limit_exceeded");
    const std::function<bool()> expired = expiry(t0);

    auto record = [this, &m, endpoint, t0](const std::vector<Choice>& choices, int status) {
      const json u = usage_json(choices);
      metrics_.tokens(u["prompt_tokens"].get<int64_t>(), u["completion_tokens"].get<int64_t>());
      for (const Choice& c : choices) metrics_.answer(m.name, c.response.answered_by);
      finish_metrics(endpoint, status, t0);
    };

    if (!call.stream) {
      std::vector<Choice> choices;
      const auto on_text = [&](std::string_view) { return !expired(); };
      for (size_t p = 0; p < call.requests.size(); ++p) {
        for (int i = 0; i < call.n; ++i) {
          choices.push_back(run_choice(m, call, call.requests[p], static_cast<int>(p) * call.n + i, i, on_text));
          read_tools(call, choices.back());
          if (choices.back().response.finish_reason == "cancelled") throw timeout_error(stopping_, options_.timeout_s);
        }
      }
      slot.reset();
      res.status = 200;
      res.set_content(body_text(chat ? chat_body(env, choices, call.logprobs) : completion_body(env, choices, call.logprobs)),
                      "application/json");
      record(choices, 200);
      return;
    }

    auto st = std::make_shared<Stream>();
    st->slot = std::move(slot);
    Stream* s = st.get();
    st->worker = std::thread([this, s, &m, call, env, expired, record, chat, t0] {
      std::vector<Choice> choices;
      bool first = true;
      try {
        for (size_t p = 0; p < call.requests.size(); ++p) {
          for (int i = 0; i < call.n; ++i) {
            const int index = static_cast<int>(p) * call.n + i;
            if (chat) s->push(sse(chat_chunk(env, index, {{"role", "assistant"}, {"content", ""}}, nullptr)), false);
            if (call.echo) s->push(sse(completion_chunk(env, index, call.requests[p].prompt, nullptr)), true);
            const auto on_text = [&](std::string_view t) {
              if (s->cancelled || expired()) return false;
              if (first) metrics_.first_token(std::chrono::duration<double>(Clock::now() - t0).count());
              first = false;
              if (call.tools.active()) return true;  // held back: the text is read as a whole (tools)
              const std::string text(t);
              s->push(sse(chat ? chat_chunk(env, index, {{"content", text}}, nullptr) : completion_chunk(env, index, text, nullptr)), true);
              return true;
            };
            Choice c = run_choice(m, call, call.requests[p], index, i, on_text);
            read_tools(call, c);
            if (call.tools.active() && c.response.finish_reason != "cancelled") {
              for (const json& d : held_deltas(c)) s->push(sse(chat_chunk(env, index, d, nullptr)), true);
            }
            const std::string fr = finish_reason(c.response.finish_reason);
            {
              std::lock_guard<std::mutex> lock(s->mutex);
              if (fr == "cancelled" && !s->started && !s->cancelled) s->early_error = timeout_error(stopping_, options_.timeout_s);
            }
            if (s->early_error) break;
            json lp = nullptr;
            if (call.logprobs) lp = chat ? chat_logprobs(c.response.logprobs) : completion_logprobs(c, true);
            s->push(sse(chat ? chat_chunk(env, index, json::object(), fr, lp) : completion_chunk(env, index, "", fr, lp)), true);
            choices.push_back(std::move(c));
          }
          if (s->early_error) break;
        }
        if (!s->early_error && call.include_usage) s->push(sse(usage_chunk(env, chat, choices)), true);
      } catch (const ApiError& e) {
        std::lock_guard<std::mutex> lock(s->mutex);
        if (!s->started) s->early_error = e;
        else s->events.push_back(sse(e.body()));
      } catch (const std::exception& e) {
        std::lock_guard<std::mutex> lock(s->mutex);
        const ApiError err(500, e.what());
        if (!s->started) s->early_error = err;
        else s->events.push_back(sse(err.body()));
      }
      {
        std::lock_guard<std::mutex> lock(s->mutex);
        if (!s->early_error) s->events.push_back("data: [DONE]\n\n");
        s->done = true;
        s->slot.reset();
      }
      s->cv.notify_all();
      if (!s->early_error) record(choices, 200);
    });

    {
      std::unique_lock<std::mutex> lock(st->mutex);
      st->cv.wait(lock, [&] { return st->started || st->done; });
      if (st->early_error) throw ApiError(*st->early_error);
    }
    res.status = 200;
    res.set_header("Cache-Control", "no-cache");
    res.set_chunked_content_provider(
        "text/event-stream",
        [st](size_t, httplib::DataSink& sink) {
          std::unique_lock<std::mutex> lock(st->mutex);
          for (;;) {
            st->cv.wait(lock, [&] { return !st->events.empty() || st->done; });
            while (!st->events.empty()) {
              const std::string e = std::move(st->events.front());
              st->events.pop_front();
              lock.unlock();
              const bool ok = sink.write(e.data(), e.size());
              lock.lock();
              if (!ok) {
                st->cancelled = true;
                return false;
              }
            }
            if (st->done) {
              lock.unlock();
              sink.done();
              return true;
            }
          }
        },
        [st](bool) { st->cancelled = true; });
  } catch (const ApiError& e) {
    if (e.status() == 429) res.set_header("Retry-After", "1");
    respond_error(res, endpoint, t0, e.status(), body_text(e.body()));
  }
}

}  // namespace tandem::server
