#include "decode/session.h"

#include "util/error.h"

namespace tandem::decode {

ModelSession::ModelSession(const Transformer& model, int64_t n_ctx)
    : model_(model), cache_(model.new_cache(n_ctx)), ctx_(model.new_context()) {}

void ModelSession::eval(std::span<const TokenId> tokens, bool all, std::vector<float>& out) {
  if (tokens.empty()) return;
  if (cache_.n_past() + static_cast<int64_t>(tokens.size()) > cache_.n_ctx())
    throw Error("context full: " + std::to_string(cache_.n_past()) + " + " + std::to_string(tokens.size()) +
                " tokens do not fit into " + std::to_string(cache_.n_ctx()) + " positions (enlarge the context)");
  model_.forward(ctx_, cache_, tokens, all ? Logits::kAll : Logits::kLast, out);
  tokens_.insert(tokens_.end(), tokens.begin(), tokens.end());
}

void ModelSession::truncate(int64_t n) {
  if (n < 0 || n > n_past()) throw Error("session: cannot truncate to " + std::to_string(n) + " tokens");
  cache_.truncate(n);
  tokens_.resize(static_cast<size_t>(n));
}

std::unique_ptr<Session> ModelSession::fork() const {
  auto s = std::make_unique<ModelSession>(model_, cache_.n_ctx());
  s->cache_.copy_prefix_from(cache_, cache_.n_past());
  s->tokens_ = tokens_;
  return s;
}

void eval_lockstep(std::span<Session* const> sessions, std::span<const TokenId> tokens,
                   std::vector<std::vector<float>>& out) {
  if (sessions.size() != tokens.size()) throw Error("eval_lockstep: one token per session is needed");
  out.resize(sessions.size());
  for (const Session* s : sessions)
    if (s->n_past() + 1 > s->n_ctx())
      throw Error("context full: " + std::to_string(s->n_past()) + " + 1 tokens do not fit into " +
                  std::to_string(s->n_ctx()) + " positions (enlarge the context)");
  std::vector<ModelSession*> ms;
  for (Session* s : sessions) {
    auto* m = dynamic_cast<ModelSession*>(s);
    if (!m || (!ms.empty() && &m->model_ != &ms.front()->model_)) {
      ms.clear();
      break;
    }
    ms.push_back(m);
  }
  if (ms.empty() || ms.size() == 1) {
    for (size_t i = 0; i < sessions.size(); ++i) sessions[i]->eval(tokens.subspan(i, 1), false, out[i]);
    return;
  }
  std::vector<SequenceInput> batch(ms.size());
  for (size_t i = 0; i < ms.size(); ++i) {
    batch[i].cache = &ms[i]->cache_;
    batch[i].tokens = tokens.subspan(i, 1);
    batch[i].logits = Logits::kLast;
    batch[i].out = &out[i];
  }
  ms.front()->model_.forward_batch(ms.front()->ctx_, batch);
  for (size_t i = 0; i < ms.size(); ++i) ms[i]->tokens_.push_back(tokens[i]);
}

int64_t sync_session(Session& s, std::span<const TokenId> context, size_t keep_pending, std::vector<float>& logits) {
  const auto& have = s.tokens();
  const size_t target = context.size() >= keep_pending ? context.size() - keep_pending : 0;
  size_t common = 0;
  while (common < have.size() && common < target && have[common] == context[common]) ++common;
  if (common < have.size()) s.truncate(static_cast<int64_t>(common));
  if (common < target) s.eval(context.subspan(common, target - common), false, logits);
  return static_cast<int64_t>(target - common);
}

bool same_vocabulary(const Tokenizer& a, const Tokenizer& b) {
  return a.vocab().tokens == b.vocab().tokens && a.vocab().model == b.vocab().model;
}

void require_same_vocabulary(const Session& a, const Session& b, const std::string& what) {
  if (a.n_vocab() != b.n_vocab())
    throw Error(what + ": the vocabularies differ (" + std::to_string(a.n_vocab()) + " vs " +
                std::to_string(b.n_vocab()) + " tokens); both models must share one tokenizer");
  if (a.tokenizer() && b.tokenizer() && !same_vocabulary(*a.tokenizer(), *b.tokenizer()))
    throw Error(what + ": the vocabularies differ (same size, different tokens); both models must share one tokenizer");
}

}  // namespace tandem::decode
