#include "decode/chat_session.h"

#include "decode/context.h"
#include "model/transformer.h"
#include "util/error.h"

namespace tandem::decode {

ChatSession::ChatSession(const Transformer& model, const chat::ChatTemplate& tmpl, ChatSessionOptions options)
    : tmpl_(tmpl),
      options_(std::move(options)),
      session_(model, context_size(model.config(), 0, -1, 0, options_.n_ctx)),
      chain_(sample::make_chain(options_.sampling)) {}

std::vector<TokenId> ChatSession::prompt_tokens(const chat::Conversation& conversation) const {
  const std::string prompt = tmpl_.apply_json(conversation.messages, /*add_generation_prompt=*/true, conversation.tools);
  // Templates that write bos_token themselves must not get a second BOS.
  const std::string& bos = tmpl_.bos_token();
  const bool add_special = bos.empty() || prompt.compare(0, bos.size(), bos) != 0;
  return session_.tokenizer()->encode(prompt, add_special, /*parse_special=*/true);
}

ChatReply ChatSession::reply(const chat::Conversation& conversation, const TextCallback& on_text,
                             const PromptCallback& on_prompt) {
  const std::vector<TokenId> tokens = prompt_tokens(conversation);
  if (tokens.empty()) throw Error("the rendered conversation is empty");
  check_prompt_fits(session_.model().config(), static_cast<int64_t>(tokens.size()), session_.n_ctx());
  size_t reused = 0;
  while (reused < session_.tokens().size() && reused + 1 < tokens.size() && session_.tokens()[reused] == tokens[reused]) {
    ++reused;
  }
  if (on_prompt) on_prompt(tokens.size(), reused);

  chain_.reset();
  TextOptions text{.n_predict = options_.n_predict, .stop = options_.stop};
  OutputStream out(*session_.tokenizer(), text, on_text);
  // generate() keeps the cached prefix the new prompt shares (sync_session).
  generate(session_, tokens, chain_, out);
  Generation g = out.finish();
  ChatReply r;
  r.text = std::move(g.text);
  r.finish_reason = g.finish_reason;
  r.prompt_tokens = tokens.size();
  r.reused = reused;
  r.context_full = g.finish_reason == "length" && session_.n_past() >= session_.n_ctx();
  return r;
}

}  // namespace tandem::decode
