// The Model interface: everything in tandem that answers a prompt — a local
// GGUF model with a decoding strategy, a remote OpenAI-compatible endpoint, a
// cascade, a router, a stack — is a Model, so compositions nest and the front
// ends (tandem run, tandem serve, tandem eval) are written once against it.
//
// This header and api/types.h are the whole interface: plain value types and
// one abstract class, depending on util/ alone, so that compositions, remote
// models, the eval harness and the server compile without the engine.
//
// Contract shared by every implementation:
// - Thread-safety: every method is const and may be called concurrently from
//   any number of threads (the server calls one Model from many). Per-request
//   state (KV caches, sampler and grammar state, HTTP connections in use) is
//   created per call; weights and configuration are immutable after
//   construction. Nothing static or global: several Models live in one process.
// - Errors: a request the model cannot serve (a prompt longer than its context,
//   an option it does not support, an unreachable endpoint after its retries)
//   throws tandem::Error whose message names the model and the problem. An
//   option is applied or rejected, never silently ignored.
// - Streaming: `on_text` receives the answer's text as it becomes final, in
//   order, each byte once; the concatenation equals Response::text. Returning
//   false from it cancels the request: the model stops at its next step and
//   returns what it has with finish_reason "cancelled". Compositions pass on
//   only the text of the answer they return (a cascade streams a stage only
//   once it is accepted, or buffers).
// - Lifetime: a Model holding other Models (a strategy's draft, a cascade's
//   stages) holds them by shared_ptr; a model named twice in a config is one
//   object shared by both uses.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "api/types.h"

namespace tandem::api {

class Model {
 public:
  virtual ~Model() = default;
  Model() = default;
  Model(const Model&) = delete;
  Model& operator=(const Model&) = delete;

  // The name the model answers to (its config name, or the GGUF file's stem).
  virtual const std::string& name() const = 0;

  // What the model can do beyond complete(); callers check before calling
  // score() or embed(), and compositions use the vocabulary fingerprint to
  // detect same-vocabulary pairs.
  virtual Capabilities capabilities() const = 0;

  // Answers one request. Throws tandem::Error (see the contract above).
  virtual Response complete(const Request& request, const StreamCallback& on_text = {}) const = 0;

  // log p(continuation | prompt): the sum and the per-token values, tokens as
  // the model splits the continuation. The default throws an error naming the
  // model ("cannot score"); models whose capabilities() say scoring override it.
  virtual Score score(std::string_view prompt, std::string_view continuation) const;

  // One vector per text (for local GGUF models: the mean-pooled last hidden
  // state). The default throws an error naming the model ("no embeddings").
  virtual std::vector<std::vector<float>> embed(std::span<const std::string> texts) const;
};

}  // namespace tandem::api
