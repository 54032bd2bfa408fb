// A local GGUF model with a decoding strategy behind the Model interface
// (api/model.h): the one way tandem decodes a request with a local model
// (tandem generate goes through it too).
//
// A LocalModel is a loaded Transformer (shared: several LocalModels and
// strategies may use one load) + a strategy with its options and helper
// models (decode::StrategyOptions, helpers in its .models). Requests map onto
// the options: the request's sampling, max_tokens, stop, ignore_eos,
// logprobs, grammar and json_schema replace the constructor's sampling/text/
// grammar fields; the strategy, its own options (draft lengths, n_samples,
// ...), n_ctx and helpers stay as constructed. decode::validate() checks the
// result: a combination the strategy would ignore throws tandem::Error naming
// the model.
//
// Chat: messages are rendered with the GGUF's chat template
// (tokenizer.chat_template), or ChatML when the file has none.
//
// Usage (Response::usage): the model's own entry counts the prompt tokens and
// every generated token (reranking strategies: all candidates); seconds and
// cost (the Price given at construction) are on that entry. Each helper that
// ran has an entry under its name (the StrategyOptions' draft_model, ... or
// "<name>/<role>") with its tokens only: its prompt, and what it generated —
// a draft model counts the tokens it drafted (accepted or not), contrastive
// and proxy helpers every generated token, a scorer the judge prompts.
//
// Thread-safety: no mutable members; every call builds its own sessions, so
// any number of threads may call one LocalModel.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "api/model.h"
#include "chat/chat_template.h"
#include "decode/strategy.h"
#include "model/transformer.h"

namespace tandem::local {

// A response with the strategy's statistics (tandem generate -v prints them).
struct LocalResult {
  api::Response response;
  decode::StrategyResult stats;
};

class LocalModel : public api::Model {
 public:
  // Throws tandem::Error naming the model when `strategy` fails validate()
  // or `model` is null.
  LocalModel(std::string name, std::shared_ptr<const Transformer> model, decode::StrategyOptions strategy = {},
             api::Price price = {});

  const std::string& name() const override { return name_; }
  api::Capabilities capabilities() const override;
  api::Response complete(const api::Request& request, const api::StreamCallback& on_text = {}) const override;
  // complete() with the strategy's statistics.
  LocalResult run(const api::Request& request, const api::StreamCallback& on_text = {}) const;

  // The continuation's tokens are those of tokenize(prompt + continuation)
  // after its longest common prefix with tokenize(prompt) (BOS as the model
  // wants, special tokens parsed): a token spanning the boundary counts to
  // the continuation. Throws when that leaves no token before the
  // continuation (an empty prompt without BOS) or the text exceeds the context.
  api::Score score(std::string_view prompt, std::string_view continuation) const override;
  // Per text: the mean over all its tokens (BOS included) of the final
  // normalized hidden state (Logits::kHidden). Throws for a text with no
  // tokens or longer than the context.
  std::vector<std::vector<float>> embed(std::span<const std::string> texts) const override;

  const Transformer& transformer() const { return *model_; }
  const std::shared_ptr<const Transformer>& shared_transformer() const { return model_; }
  const decode::StrategyOptions& strategy() const { return strategy_; }

 private:
  decode::StrategyOptions options_for(const api::Request& request) const;
  decode::Prompt prompt_for(const api::Request& request) const;

  std::string name_;
  std::shared_ptr<const Transformer> model_;
  decode::StrategyOptions strategy_;
  api::Price price_;
  chat::ChatTemplate template_;
  std::string vocabulary_;
};

// The sampling part of a Request from the engine's SamplingParams (front ends
// that parse llama.cpp-style options into SamplingParams): every field, and
// the seed only when `seed_set` (else each request draws its own).
api::SamplingOptions request_sampling(const sample::SamplingParams& p, bool seed_set);
// The reverse, for a config's sampling defaults (seed: 0 when unset).
sample::SamplingParams engine_sampling(const api::SamplingOptions& s);

// A hash of the vocabulary: every piece with its id and kind, and the special
// token ids. Equal for models that share one tokenizer.
std::string vocabulary_fingerprint(const Tokenizer& tok);

// Loads a model once per (canonical path, options): later calls with the same
// file and options return the same object (a mutex-protected cache of weak
// references, so a model no one holds is freed). Throws as Transformer::load.
std::shared_ptr<const Transformer> load_shared(const std::string& path, const LoadOptions& options = {});

}  // namespace tandem::local
