// decode::ChatSession on stories260K with the ChatML template: the streamed
// text is the reply, the second turn reuses exactly the cached prefix its
// re-rendered prompt shares, and the answer is the one a fresh session gives
// on the whole conversation (reuse changes nothing, greedy).
#include <gtest/gtest.h>

#include "chat/chat_template.h"
#include "chat/conversation.h"
#include "decode/chat_session.h"
#include "model/transformer.h"
#include "test_util.h"
#include "util/error.h"

namespace tandem::decode {
namespace {

ChatSessionOptions greedy(int n_predict) {
  ChatSessionOptions o;
  o.n_predict = n_predict;
  o.n_ctx = 256;
  o.sampling.temperature = 0.0f;
  return o;
}

TEST(ChatSession, SecondTurnReusesTheSharedPrefixAndAnswersLikeAFreshSession) {
  auto model = Transformer::load(testing::source_path("models/stories260K.gguf"), {.n_threads = 1});
  const chat::ChatTemplate tmpl = chat::ChatTemplate::from_spec("chatml", model->tokenizer());
  ChatSession session(*model, tmpl, greedy(12));

  chat::Conversation conv;
  conv.add_user("Once upon a time");
  std::string streamed;
  size_t seen_prompt = 0, seen_reused = 99;
  const ChatReply first = session.reply(
      conv, [&](std::string_view piece) { streamed += piece; return true; },
      [&](size_t n, size_t reused) { seen_prompt = n; seen_reused = reused; });
  EXPECT_EQ(streamed, first.text);
  EXPECT_EQ(first.prompt_tokens, session.prompt_tokens(conv).size());
  EXPECT_EQ(seen_prompt, first.prompt_tokens);
  EXPECT_EQ(seen_reused, 0u);
  EXPECT_EQ(first.reused, 0u);
  EXPECT_FALSE(first.context_full);

  conv.add_assistant(first.text);
  conv.add_user("the end");
  const std::vector<TokenId> cached = session.session().tokens();
  const std::vector<TokenId> next = session.prompt_tokens(conv);
  size_t shared = 0;  // the reference: longest common prefix, one token left to evaluate
  while (shared < cached.size() && shared + 1 < next.size() && cached[shared] == next[shared]) ++shared;
  ASSERT_GT(shared, first.prompt_tokens / 2);  // the first turn's prompt is re-rendered unchanged
  const ChatReply second = session.reply(conv);
  EXPECT_EQ(second.reused, shared);
  EXPECT_EQ(second.prompt_tokens, next.size());

  ChatSession fresh(*model, tmpl, greedy(12));
  const ChatReply again = fresh.reply(conv);
  EXPECT_EQ(again.reused, 0u);
  EXPECT_EQ(again.text, second.text);
}

TEST(ChatSession, PromptThatDoesNotFitIsAnError) {
  auto model = Transformer::load(testing::source_path("models/stories260K.gguf"), {.n_threads = 1});
  const chat::ChatTemplate tmpl = chat::ChatTemplate::from_spec("chatml", model->tokenizer());
  ChatSessionOptions o = greedy(4);
  o.n_ctx = 16;
  ChatSession session(*model, tmpl, o);
  chat::Conversation conv;
  conv.add_user(std::string(400, 'a'));
  EXPECT_THROW(session.reply(conv), Error);
  EXPECT_TRUE(session.session().tokens().empty());  // nothing was evaluated
}

}  // namespace
}  // namespace tandem::decode
