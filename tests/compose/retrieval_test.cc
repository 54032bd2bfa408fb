// The Retrieval wrapper (compose/retrieval.h): with an embedder double whose
// vectors are written here, the exact prompt and chat messages the inner
// ScriptedModel receives, the trace, streaming and construction errors; with
// the bundled tandem-tiny GGUF as a real embedder, a query that shares words
// with one passage retrieves it.
#include "compose/retrieval.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <thread>

#include "compose/scripted_model.h"
#include "local/local_model.h"
#include "test_util.h"
#include "util/error.h"

namespace tandem::compose {
namespace {

using testing::ScriptedAnswer;
using testing::ScriptedModel;

// Embeds the texts of its table; any other text is an error.
class TableEmbedder : public api::Model {
 public:
  TableEmbedder(std::string name, std::map<std::string, std::vector<float>> table)
      : name_(std::move(name)), table_(std::move(table)) {}
  const std::string& name() const override { return name_; }
  api::Capabilities capabilities() const override {
    api::Capabilities c;
    c.embeddings = true;
    return c;
  }
  api::Response complete(const api::Request&, const api::StreamCallback&) const override {
    throw Error(name_ + ": cannot complete");
  }
  std::vector<std::vector<float>> embed(std::span<const std::string> texts) const override {
    std::vector<std::vector<float>> out;
    for (const std::string& t : texts) {
      const auto it = table_.find(t);
      if (it == table_.end()) throw Error(name_ + ": no embedding for '" + t + "'");
      out.push_back(it->second);
    }
    return out;
  }

 private:
  std::string name_;
  std::map<std::string, std::vector<float>> table_;
};

constexpr const char* kQuestion = "Why do dogs bark?";
// The default template with passages b ("Dogs bark.") then c ("Cows moo.").
constexpr const char* kAugmented = "Use these passages to answer.\n\n[1] Dogs bark.\n\n[2] Cows moo.\n\nWhy do dogs bark?";

class RetrievalWrapper : public ::testing::Test {
 protected:
  static std::shared_ptr<const RetrievalIndex> index() {
    auto index = std::make_shared<RetrievalIndex>("emb", 3);
    index->add({"a", "Cats purr."}, std::vector<float>{1.0f, 0.0f, 0.0f});
    index->add({"b", "Dogs bark."}, std::vector<float>{0.0f, 1.0f, 0.0f});
    index->add({"c", "Cows moo."}, std::vector<float>{0.0f, 0.6f, 0.8f});
    return index;
  }
  // cos(query, b) = 1/sqrt(1.01); cos(query, c) = 0.6/sqrt(1.01); cos(query, a) = 0.1/sqrt(1.01).
  static std::shared_ptr<const api::Model> embedder() {
    return std::make_shared<TableEmbedder>(
        "emb", std::map<std::string, std::vector<float>>{{kQuestion, {0.1f, 1.0f, 0.0f}}});
  }
  RetrievalOptions options(std::map<std::string, std::vector<ScriptedAnswer>> script) {
    inner_ = std::make_shared<ScriptedModel>("inner", std::move(script), 0.25);
    RetrievalOptions o;
    o.name = "rag";
    o.model = inner_;
    o.embedder = embedder();
    o.index = index();
    o.k = 2;
    return o;
  }
  static api::Request ask(const std::string& prompt) {
    api::Request q;
    q.prompt = prompt;
    q.max_tokens = 7;
    q.stop = {"\n"};
    q.sampling.seed = 42;
    return q;
  }
  std::shared_ptr<ScriptedModel> inner_;
};

TEST_F(RetrievalWrapper, PutsTheTopKPassagesIntoThePromptAndTraces) {
  const Retrieval r(options({{kAugmented, {{{" Because", -0.1}, {" dogs.", -0.2}}}}}));
  const api::Response out = r.complete(ask(kQuestion));
  EXPECT_EQ(out.text, " Because dogs.");
  EXPECT_EQ(out.answered_by, "inner");
  ASSERT_EQ(out.usage.count("inner"), 1u);
  EXPECT_EQ(out.usage.at("inner").cost, 0.5);
  const std::vector<ScriptedModel::Call> calls = inner_->calls();  // a copy: calls() returns by value
  ASSERT_EQ(calls.size(), 1u);
  const api::Request& sent = calls[0].request;
  EXPECT_EQ(sent.prompt, kAugmented);
  EXPECT_EQ(sent.max_tokens, 7);  // the rest of the request unchanged
  EXPECT_EQ(sent.stop, std::vector<std::string>{"\n"});
  EXPECT_EQ(sent.sampling.seed.value_or(0), 42u);
  ASSERT_EQ(out.trace.size(), 1u);
  EXPECT_EQ(out.trace[0].model, "rag");
  EXPECT_EQ(out.trace[0].signal, "retrieval_cosine");
  EXPECT_NEAR(out.trace[0].value, 1.0 / std::sqrt(1.01), 1e-6);
  EXPECT_EQ(out.trace[0].decision, "retrieve: b,c");
}

TEST_F(RetrievalWrapper, AnInnerModelOverBudgetIsUnavailable) {
  auto budgets = std::make_shared<Budgets>();
  budgets->set("inner", {.max_cost = 0.75});
  const Retrieval r(options({{kAugmented, {{{" Because", -0.1}, {" dogs.", -0.2}}}}}), budgets);
  EXPECT_EQ(r.complete(ask(kQuestion)).text, " Because dogs.");
  EXPECT_DOUBLE_EQ(budgets->spent("inner").cost, 0.5);  // charged from the usage it reports
  r.complete(ask(kQuestion));                           // 0.5 < 0.75 before the call
  EXPECT_THROW(r.complete(ask(kQuestion)), UnavailableError);
  EXPECT_EQ(inner_->calls().size(), 2u);  // not asked the third time
}

TEST_F(RetrievalWrapper, ReplacesOnlyTheLastUserMessageOfAChat) {
  const Retrieval r(options({{"", {{{" Woof.", -0.1}}}}}));  // a chat request has no prompt
  api::Request q;
  q.messages = {{"system", "Be brief."}, {"user", "Tell me about cats."}, {"assistant", "Cats purr."},
                {"user", kQuestion}, {"assistant", ""}};
  const api::Response out = r.complete(q);
  EXPECT_EQ(out.text, " Woof.");
  const std::vector<api::Message> sent = inner_->calls().at(0).request.messages;
  ASSERT_EQ(sent.size(), 5u);
  EXPECT_EQ(sent[0].content, "Be brief.");
  EXPECT_EQ(sent[1].content, "Tell me about cats.");
  EXPECT_EQ(sent[2].content, "Cats purr.");
  EXPECT_EQ(sent[3].role, "user");
  EXPECT_EQ(sent[3].content, kAugmented);
  EXPECT_EQ(sent[4].content, "");
  api::Request no_user;
  no_user.messages = {{"system", "Be brief."}};
  EXPECT_THROW(r.complete(no_user), Error);
}

TEST_F(RetrievalWrapper, FillsACustomTemplateInOnePass) {
  RetrievalOptions o = options({{"Q: Why do dogs bark?\nContext: [1] {input} here\nQ again: Why do dogs bark?", {{{"ok", 0.0}}}}});
  auto index = std::make_shared<RetrievalIndex>("emb", 3);
  index->add({"x", "{input} here"}, std::vector<float>{0.0f, 1.0f, 0.0f});
  o.index = index;
  o.k = 5;  // more than the index holds: all of it
  o.prompt_template = "Q: {input}\nContext: {passages}\nQ again: {input}";
  const api::Response out = Retrieval(o).complete(ask(kQuestion));
  EXPECT_EQ(out.text, "ok");
  EXPECT_EQ(out.trace.back().decision, "retrieve: x");
}

TEST_F(RetrievalWrapper, StreamsTheInnerModelLive) {
  const Retrieval r(options({{kAugmented, {{{" Because", -0.1}, {" dogs.", -0.2}}}}}));
  std::string streamed;
  int pieces = 0;
  const api::Response out = r.complete(ask(kQuestion), [&](std::string_view s) {
    streamed += s;
    ++pieces;
    return true;
  });
  EXPECT_EQ(streamed, out.text);
  EXPECT_EQ(pieces, 2);
  EXPECT_TRUE(inner_->calls()[0].streamed);
}

TEST_F(RetrievalWrapper, AnswersConcurrentRequestsAlike) {
  const Retrieval r(options({{kAugmented, {{{" Because", -0.1}}}}}));
  std::vector<std::string> texts(8);
  std::vector<std::thread> pool;
  for (size_t i = 0; i < texts.size(); ++i) pool.emplace_back([&, i] { texts[i] = r.complete(ask(kQuestion)).text; });
  for (std::thread& t : pool) t.join();
  for (const std::string& t : texts) EXPECT_EQ(t, " Because");
}

TEST_F(RetrievalWrapper, CapabilitiesAreTheInnerModels) {
  const Retrieval r(options({}));
  const api::Capabilities c = r.capabilities();
  EXPECT_EQ(c.context, 2048);
  EXPECT_TRUE(c.logprobs);
  EXPECT_EQ(c.vocabulary, "scripted");
  EXPECT_FALSE(c.embeddings);
  EXPECT_FALSE(c.scoring);
}

TEST_F(RetrievalWrapper, ConstructionErrorsNameTheWrapper) {
  std::vector<RetrievalOptions> bad;
  for (int i = 0; i < 9; ++i) bad.push_back(options({}));
  bad[0].model = nullptr;
  bad[1].embedder = nullptr;
  bad[2].index = nullptr;
  bad[3].embedder = std::make_shared<TableEmbedder>("other", std::map<std::string, std::vector<float>>{});
  bad[4].embedder = std::make_shared<ScriptedModel>("emb", std::map<std::string, std::vector<ScriptedAnswer>>{}, 0.0);
  bad[5].k = 0;
  bad[6].prompt_template = "{passages} only";
  bad[7].prompt_template = "{input} only";
  bad[8].index = std::make_shared<RetrievalIndex>("emb", 3);
  const std::vector<std::string> want = {"no model", "no embedder", "no retrieval index", "built with 'emb'",
                                         "gives no embeddings", "k must be", "no {input}", "no {passages}",
                                         "has no passages"};
  for (size_t i = 0; i < bad.size(); ++i) {
    try {
      Retrieval r(bad[i]);
      ADD_FAILURE() << "case " << i << " constructed";
    } catch (const Error& e) {
      const std::string m = e.what();
      EXPECT_EQ(m.rfind("retrieval 'rag': ", 0), 0u) << m;
      EXPECT_NE(m.find(want[i]), std::string::npos) << m;
    }
  }
  // An embedder of another dimension than the index's fails per request, naming the wrapper.
  RetrievalOptions o = options({});
  o.embedder = std::make_shared<TableEmbedder>("emb", std::map<std::string, std::vector<float>>{{kQuestion, {1.0f}}});
  try {
    Retrieval(o).complete(ask(kQuestion));
    ADD_FAILURE() << "a query of dimension 1 was answered";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()).rfind("retrieval 'rag': ", 0), 0u) << e.what();
  }
}

// The bundled tiny model as the embedder of a small collection.
TEST(RetrievalTiny, AQuerySharingWordsWithAPassageRetrievesIt) {
  const auto tiny = std::make_shared<local::LocalModel>(
      "tiny", local::load_shared(tandem::testing::source_path("models/tandem-tiny.gguf"), {.n_threads = 1}));
  const std::vector<std::string> texts = {
      "The little cat sat on the warm mat and purred all day long.",
      "Seven plus five is twelve, and twelve minus three is nine.",
      "The big red rocket flew up to the moon and the stars at night.",
      "Tom planted seeds in the garden and watered the flowers every morning.",
  };
  auto index = std::make_shared<RetrievalIndex>("tiny", tiny->embed(std::span(texts.data(), 1))[0].size());
  const std::vector<std::vector<float>> e = tiny->embed(texts);
  for (size_t i = 0; i < texts.size(); ++i) index->add({std::to_string(i), texts[i]}, e[i]);
  const std::vector<std::pair<std::string, size_t>> queries = {
      {"The cat purred on the mat.", 0}, {"What is seven plus five?", 1},
      {"A rocket flew to the moon.", 2}, {"Tom watered the flowers in the garden.", 3}};
  for (const auto& [query, want] : queries) {
    const std::vector<float> q = tiny->embed(std::span(&query, 1))[0];
    EXPECT_EQ(index->search(q, 1).at(0).index, want) << query;
  }
  RetrievalOptions o;
  o.name = "rag";
  o.model = std::make_shared<ScriptedModel>("inner", std::map<std::string, std::vector<ScriptedAnswer>>{}, 0.0);
  o.embedder = tiny;
  o.index = index;
  o.k = 1;
  const Retrieval r(o);
  EXPECT_EQ(r.retrieve("A rocket flew to the moon.").at(0).index, 2u);
}

}  // namespace
}  // namespace tandem::compose
