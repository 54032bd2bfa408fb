#include "local/local_model.h"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <mutex>
#include <random>

#include "decode/context.h"
#include "gguf/gguf.h"
#include "sample/logprobs.h"
#include "util/error.h"

namespace tandem::local {

namespace {

chat::ChatTemplate template_of(const Transformer& m) {
  if (m.file().find("tokenizer.chat_template")) return chat::ChatTemplate::from_model(m.file(), m.tokenizer());
  return chat::ChatTemplate::from_spec("chatml", m.tokenizer());
}

std::string finish_reason(const std::string& r) {
  if (r == "eos" || r == "stop") return "stop";
  return r;  // "length", "cancelled"
}

// Helpers' usage entries: named by the options' names, else "<model>/<role>".
std::string helper_name(const decode::StrategyOptions& o, const std::string& model, const std::string& role) {
  const std::string* named = role == "draft"         ? &o.draft_model
                             : role == "amateur"     ? &o.amateur_model
                             : role == "expert"      ? &o.tuned_model
                             : role == "anti-expert" ? &o.untuned_model
                                                     : &o.scorer_model;
  return named->empty() ? model + "/" + role : *named;
}

void fnv(uint64_t& h, const void* data, size_t n) {
  const auto* p = static_cast<const unsigned char*>(data);
  for (size_t i = 0; i < n; ++i) h = (h ^ p[i]) * 1099511628211ull;
}

}  // namespace

std::string vocabulary_fingerprint(const Tokenizer& tok) {
  const Vocab& v = tok.vocab();
  uint64_t h = 14695981039346656037ull;
  for (int32_t id = 0; id < v.size(); ++id) {
    const std::string& piece = v.tokens[static_cast<size_t>(id)];
    const uint64_t len = piece.size();
    fnv(h, &id, sizeof id);
    fnv(h, &len, sizeof len);
    fnv(h, piece.data(), piece.size());
    const int kind = v.kinds.empty() ? 0 : static_cast<int>(v.kinds[static_cast<size_t>(id)]);
    fnv(h, &kind, sizeof kind);
  }
  for (TokenId s : {v.bos, v.eos, v.unk, v.pad, v.sep, v.eot, v.eom}) fnv(h, &s, sizeof s);
  for (TokenId s : v.eog) fnv(h, &s, sizeof s);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%d-%016llx", v.size(), static_cast<unsigned long long>(h));
  return buf;
}

api::SamplingOptions request_sampling(const sample::SamplingParams& p, bool seed_set) {
  api::SamplingOptions s;
  s.temperature = p.temperature;
  s.top_k = p.top_k;
  s.top_p = p.top_p;
  s.min_p = p.min_p;
  s.typical_p = p.typical_p;
  s.repeat_penalty = p.repeat_penalty;
  s.penalty_last_n = p.penalty_last_n;
  s.frequency_penalty = p.frequency_penalty;
  s.presence_penalty = p.presence_penalty;
  s.logit_bias = p.logit_bias;
  if (seed_set) s.seed = p.seed;
  return s;
}

sample::SamplingParams engine_sampling(const api::SamplingOptions& s) {
  sample::SamplingParams p;
  p.temperature = s.temperature;
  p.top_k = s.top_k;
  p.top_p = s.top_p;
  p.min_p = s.min_p;
  p.typical_p = s.typical_p;
  p.repeat_penalty = s.repeat_penalty;
  p.penalty_last_n = s.penalty_last_n;
  p.frequency_penalty = s.frequency_penalty;
  p.presence_penalty = s.presence_penalty;
  p.logit_bias = s.logit_bias;
  p.seed = s.seed.value_or(0);
  return p;
}

LocalModel::LocalModel(std::string name, std::shared_ptr<const Transformer> model, decode::StrategyOptions strategy,
                       api::Price price)
    : name_(std::move(name)),
      model_(model ? std::move(model) : throw Error(name_ + ": no model given")),
      strategy_(std::move(strategy)),
      price_(price),
      template_(template_of(*model_)),
      vocabulary_(vocabulary_fingerprint(model_->tokenizer())) {
  try {
    decode::validate(strategy_);
  } catch (const Error& e) {
    throw Error(name_ + ": " + e.what());
  }
}

api::Capabilities LocalModel::capabilities() const {
  return {.logprobs = true, .scoring = true, .embeddings = true, .chat = true,
          .context = model_->config().n_ctx_train, .vocabulary = vocabulary_};
}

decode::StrategyOptions LocalModel::options_for(const api::Request& q) const {
  decode::StrategyOptions o = strategy_;
  o.sampling = engine_sampling(q.sampling);
  o.sampling.min_keep = strategy_.sampling.min_keep;
  if (!q.sampling.seed) o.sampling.seed = std::random_device{}();
  o.text.n_predict = q.max_tokens < 0 ? -1 : q.max_tokens;
  o.text.stop = q.stop;
  o.text.ignore_eos = q.ignore_eos;
  o.text.logprobs = q.logprobs;
  o.grammar = q.grammar;
  o.json_schema = q.json_schema;
  return o;
}

decode::Prompt LocalModel::prompt_for(const api::Request& q) const {
  if (!q.is_chat()) return decode::tokenize_prompt(*model_, q.prompt);
  if (!q.prompt.empty()) throw Error("give either a prompt or messages, not both");
  std::vector<chat::Message> messages;
  for (const api::Message& m : q.messages) messages.push_back({m.role, m.content});
  decode::Prompt p;
  p.text = template_.apply(messages, /*add_generation_prompt=*/true);
  // Templates that write bos_token themselves must not get a second BOS.
  const std::string& bos = template_.bos_token();
  const bool add_special = bos.empty() || p.text.compare(0, bos.size(), bos) != 0;
  p.tokens = model_->tokenizer().encode(p.text, add_special, true);
  if (p.tokens.empty()) throw Error("the rendered conversation is empty");
  return p;
}

LocalResult LocalModel::run(const api::Request& q, const api::StreamCallback& on_text) const {
  const auto t0 = std::chrono::steady_clock::now();
  LocalResult out;
  try {
    const decode::StrategyOptions o = options_for(q);
    out.stats = decode::run_strategy(*model_, prompt_for(q), o, on_text ? decode::TextCallback(on_text) : decode::TextCallback());
  } catch (const ContextError& e) {  // keeps its type: callers may record it as the outcome
    throw ContextError(name_ + ": " + e.what());
  } catch (const Error& e) {
    throw Error(name_ + ": " + e.what());
  }
  const decode::StrategyResult& r = out.stats;
  api::Response& a = out.response;
  a.text = r.output.text;
  a.finish_reason = finish_reason(r.output.finish_reason);
  a.answered_by = name_;
  const Tokenizer& tok = model_->tokenizer();
  for (const sample::TokenLogprob& lp : r.output.logprobs) {
    api::TokenLogprob t{tok.token_to_piece(lp.token, false), lp.logprob, {}};
    for (const auto& [id, v] : lp.top) t.top.emplace_back(tok.token_to_piece(id, false), v);
    a.logprobs.push_back(std::move(t));
  }
  api::Usage& own = a.usage[name_];
  own.prompt_tokens = r.prompt_tokens;
  own.completion_tokens = r.generated_tokens;
  own.seconds = r.seconds;
  own.cost = price_.cost(own);
  for (const decode::HelperUsage& h : r.helpers) {
    api::Usage& u = a.usage[helper_name(strategy_, name_, h.role)];
    u.prompt_tokens += h.prompt_tokens;
    u.completion_tokens += h.completion_tokens;
  }
  a.trace.push_back({.model = name_, .signal = {}, .value = 0.0, .threshold = 0.0, .decision = "answer", .text = {}});
  a.latency_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  return out;
}

api::Response LocalModel::complete(const api::Request& q, const api::StreamCallback& on_text) const {
  return run(q, on_text).response;
}

api::Score LocalModel::score(std::string_view prompt, std::string_view continuation) const {
  const Tokenizer& tok = model_->tokenizer();
  const std::vector<TokenId> head = tok.encode(prompt, true, true);
  const std::vector<TokenId> full = tok.encode(std::string(prompt) + std::string(continuation), true, true);
  size_t k = 0;
  while (k < head.size() && k < full.size() && head[k] == full[k]) ++k;
  api::Score s;
  if (k == full.size()) return s;  // nothing to score
  if (k == 0) throw Error(name_ + ": cannot score: no token precedes the continuation (empty prompt, no BOS)");
  const int64_t n_eval = static_cast<int64_t>(full.size()) - 1;
  const int64_t n_ctx = decode::context_size(model_->config(), n_eval, 0, 0, 0);
  decode::check_prompt_fits(model_->config(), n_eval, n_ctx, name_);
  KvCache cache = model_->new_cache(n_ctx);
  ForwardContext ctx = model_->new_context();
  std::vector<float> logits;
  model_->forward(ctx, cache, std::span<const TokenId>(full).first(full.size() - 1), Logits::kAll, logits);
  const size_t n_vocab = static_cast<size_t>(model_->config().n_vocab);
  for (size_t i = k; i < full.size(); ++i) {
    const std::span<const float> row(logits.data() + (i - 1) * n_vocab, n_vocab);
    const double lp = sample::token_logprob(row, full[i], 0).logprob;
    s.sum_logprob += lp;
    s.token_logprobs.push_back(lp);
    s.tokens.push_back(tok.token_to_piece(full[i], false));
  }
  return s;
}

std::vector<std::vector<float>> LocalModel::embed(std::span<const std::string> texts) const {
  std::vector<std::vector<float>> out;
  const int64_t n_embd = model_->config().n_embd;
  ForwardContext ctx = model_->new_context();
  for (const std::string& text : texts) {
    const std::vector<TokenId> ids = model_->tokenizer().encode(text, true, true);
    if (ids.empty()) throw Error(name_ + ": cannot embed an empty text (the model adds no BOS)");
    const int64_t n = static_cast<int64_t>(ids.size());
    // Every token is evaluated: the context must hold all n.
    const int64_t n_ctx = decode::context_size(model_->config(), n, 0, 0, 0);
    decode::check_prompt_fits(model_->config(), n - 1, n_ctx, name_);
    KvCache cache = model_->new_cache(n_ctx);
    std::vector<float> hidden;
    model_->forward(ctx, cache, ids, Logits::kHidden, hidden);
    std::vector<double> sum(static_cast<size_t>(n_embd), 0.0);
    for (int64_t t = 0; t < n; ++t)
      for (int64_t i = 0; i < n_embd; ++i) sum[static_cast<size_t>(i)] += hidden[static_cast<size_t>(t * n_embd + i)];
    std::vector<float>& v = out.emplace_back(static_cast<size_t>(n_embd));
    for (int64_t i = 0; i < n_embd; ++i) v[static_cast<size_t>(i)] = static_cast<float>(sum[static_cast<size_t>(i)] / n);
  }
  return out;
}

std::shared_ptr<const Transformer> load_shared(const std::string& path, const LoadOptions& options) {
  static std::mutex mutex;  // the cache is process-wide by design: one load per file and options
  static std::map<std::string, std::weak_ptr<const Transformer>> cache;
  std::error_code ec;
  const std::filesystem::path canon = std::filesystem::canonical(path, ec);
  if (ec) throw Error(path + ": cannot open the model file (" + ec.message() + ")");
  std::string key = canon.string() + "|threads=" + std::to_string(options.n_threads) +
                    "|repack=" + std::to_string(options.repack) + "|mapped=" + std::to_string(options.mapped_weights);
  for (const LoraAdapter& a : options.lora) {
    std::error_code e2;
    const auto ap = std::filesystem::canonical(a.path, e2);
    key += "|lora=" + (e2 ? a.path : ap.string()) + "@" + std::to_string(a.scale);
  }
  std::lock_guard<std::mutex> lock(mutex);
  if (auto hit = cache[key].lock()) return hit;
  std::shared_ptr<const Transformer> m = Transformer::load(path, options);
  cache[key] = m;
  return m;
}

}  // namespace tandem::local
