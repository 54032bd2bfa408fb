// A conversation with one model through its chat template, turn after turn
// (`tandem chat`). The KV cache is kept between turns: each turn re-renders
// the whole conversation and evaluates only the tokens after the longest
// prefix already in the cache.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "chat/chat_template.h"
#include "chat/conversation.h"
#include "decode/generate.h"
#include "decode/session.h"
#include "sample/chain.h"

namespace tandem::decode {

struct ChatSessionOptions {
  int n_predict = -1;               // most tokens per reply; < 0: until end of turn or a full context
  int64_t n_ctx = 0;                // context size; 0: open-ended (decode::context_size(): the model's, capped)
  sample::SamplingParams sampling;  // its seed is used as given
  std::vector<std::string> stop;    // end a reply at these texts
};

struct ChatReply {
  std::string text;
  std::string finish_reason;   // as decode::Generation
  size_t prompt_tokens = 0;    // tokens of the rendered conversation
  size_t reused = 0;           // of those, found in the cache (not evaluated again)
  bool context_full = false;   // the reply was cut short by the end of the context
};

// Called once per reply after the prompt is tokenized, before generation.
using PromptCallback = std::function<void(size_t prompt_tokens, size_t reused)>;

// Not thread-safe (one KV cache); `model` and `tmpl` must outlive it.
class ChatSession {
 public:
  ChatSession(const Transformer& model, const chat::ChatTemplate& tmpl, ChatSessionOptions options);

  // Renders `conversation` with a generation prompt (no second BOS when the
  // template writes it), evaluates the tokens the cache lacks and generates
  // the reply, streaming its text to `on_text` (which may cancel by returning
  // false). Does not add the reply to the conversation. Throws tandem::Error
  // when the template fails, the rendered conversation is empty, or it does
  // not fit the context.
  ChatReply reply(const chat::Conversation& conversation, const TextCallback& on_text = {},
                  const PromptCallback& on_prompt = {});

  // The prompt tokens for `conversation`, as reply() evaluates them.
  std::vector<TokenId> prompt_tokens(const chat::Conversation& conversation) const;

  const ModelSession& session() const { return session_; }

 private:
  const chat::ChatTemplate& tmpl_;
  ChatSessionOptions options_;
  ModelSession session_;
  sample::SamplerChain chain_;
};

}  // namespace tandem::decode
