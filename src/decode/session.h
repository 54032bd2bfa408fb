// A Session is one sequence being decoded by one model: the model plus its KV
// cache plus the tokens in it. Decoding strategies (speculative, contrastive,
// best-of-N...) are written against this small interface, so they run the
// same on a Transformer (ModelSession) and on synthetic models in tests.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "model/transformer.h"

namespace tandem::decode {

class Session {
 public:
  virtual ~Session() = default;
  virtual int32_t n_vocab() const = 0;
  virtual int64_t n_ctx() const = 0;
  // The tokens evaluated so far (the cache holds exactly these).
  virtual const std::vector<TokenId>& tokens() const = 0;
  int64_t n_past() const { return static_cast<int64_t>(tokens().size()); }

  // Appends `tokens` and writes logits: of the last token (all = false,
  // n_vocab floats) or of every token (all = true, n_tokens x n_vocab,
  // row i predicting the token after tokens[i]). Throws tandem::Error when
  // the context is full.
  virtual void eval(std::span<const TokenId> tokens, bool all, std::vector<float>& out) = 0;
  // Forgets every token from position n on (n <= n_past()).
  virtual void truncate(int64_t n) = 0;
  // A new session holding the same tokens (a copy of the cache: O(n_past)).
  virtual std::unique_ptr<Session> fork() const = 0;
  // The model's tokenizer, when it has one.
  virtual const Tokenizer* tokenizer() const { return nullptr; }
};

// A Session over a Transformer: the session owns its KV cache and its
// ForwardContext (the model's new_context(): its thread count, buffers grown
// once and reused), and only reads the model, which must outlive it. Sessions
// of one Transformer may eval() concurrently from different threads; one
// session is not thread-safe.
class ModelSession : public Session {
 public:
  ModelSession(const Transformer& model, int64_t n_ctx);
  int32_t n_vocab() const override { return static_cast<int32_t>(model_.config().n_vocab); }
  int64_t n_ctx() const override { return cache_.n_ctx(); }
  const std::vector<TokenId>& tokens() const override { return tokens_; }
  void eval(std::span<const TokenId> tokens, bool all, std::vector<float>& out) override;
  void truncate(int64_t n) override;
  std::unique_ptr<Session> fork() const override;
  const Tokenizer* tokenizer() const override { return &model_.tokenizer(); }
  const Transformer& model() const { return model_; }

 private:
  friend void eval_lockstep(std::span<Session* const>, std::span<const TokenId>, std::vector<std::vector<float>>&);
  const Transformer& model_;
  KvCache cache_;
  ForwardContext ctx_;
  std::vector<TokenId> tokens_;
};

// Appends tokens[i] to sessions[i] for every i and writes that session's
// next-token logits to out[i] (resized to sessions.size()). When every
// session is a ModelSession of one Transformer, all go through ONE
// forward_batch pass (the weights are read once for the N tokens: N samples
// decoded in lockstep), in the first session's ForwardContext; otherwise each
// is evaluated in turn. Throws like
// eval() when a context is full (then no session has changed).
void eval_lockstep(std::span<Session* const> sessions, std::span<const TokenId> tokens,
                   std::vector<std::vector<float>>& out);

// Brings `s` to hold exactly `context`: keeps the common prefix, drops the
// rest, evaluates the missing tokens except the last `keep_pending` ones.
// Returns the number of tokens evaluated.
int64_t sync_session(Session& s, std::span<const TokenId> context, size_t keep_pending, std::vector<float>& logits);

// Whether two tokenizers have the same vocabulary (same pieces, same ids):
// required for speculative decoding, contrastive decoding and proxy-tuning.
bool same_vocabulary(const Tokenizer& a, const Tokenizer& b);
// Throws tandem::Error "<what>: the vocabularies differ (...)" unless the two
// sessions have the same vocabulary size and, when both have tokenizers, the
// same vocabulary.
void require_same_vocabulary(const Session& a, const Session& b, const std::string& what);

}  // namespace tandem::decode
