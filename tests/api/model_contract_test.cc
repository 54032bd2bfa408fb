// The Model interface's contract (api/model.h), one parametrized suite run
// over every Model type: local GGUF models with each kind of strategy, a
// remote model (a local model served on 127.0.0.1 and reached over the
// OpenAI API: by a minimal in-test endpoint, and by a real `tandem serve`
// child process), and cascades. Each case names the independent reference its
// greedy answer must equal: a plain greedy loop over Transformer::forward
// written here (argmax of the logits, or of the contrastive score for the
// contrastive case), not decode's code.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "api/model.h"
#include "api/openai_test_server.h"
#include "brute_force.h"
#include "api/serve_process.h"
#include "compose/cascade.h"
#include "compose/signals.h"
#include "local/local_model.h"
#include "remote/remote_model.h"
#include "test_util.h"
#include "util/error.h"

namespace tandem::api {
namespace {

using ModelPtr = std::shared_ptr<const Model>;

const Price kPrice{.input_per_mtok = 1.0, .output_per_mtok = 2.0, .per_second = 0.0};

std::shared_ptr<const Transformer> weights(const char* file) {
  return local::load_shared(testing::source_path(file), {.n_threads = 1});
}

// What a reference greedy decode gives.
struct Expected {
  std::string text;
  int64_t prompt_tokens = 0;
  int64_t completion_tokens = 0;
};

std::vector<float> log_softmax(std::span<const float> x) {
  const float mx = *std::max_element(x.begin(), x.end());
  double sum = 0.0;
  for (float v : x) sum += std::exp(static_cast<double>(v - mx));
  const double lse = mx + std::log(sum);
  std::vector<float> out(x.size());
  for (size_t i = 0; i < x.size(); ++i) out[i] = static_cast<float>(x[i] - lse);
  return out;
}

// Greedy decoding by hand: argmax of the model's logits, or with an amateur
// the contrastive score log p_e - log p_a over {p_e >= alpha max p_e}.
Expected reference_greedy(const Transformer& m, const Transformer* amateur, std::string_view prompt, int max_tokens) {
  const Tokenizer& tok = m.tokenizer();
  std::vector<TokenId> ids = tok.encode(prompt, true, true);
  Expected e{"", static_cast<int64_t>(ids.size()), 0};
  KvCache cache = m.new_cache(m.config().n_ctx_train);
  ForwardContext ctx = m.new_context();
  std::optional<KvCache> a_cache;
  std::optional<ForwardContext> a_ctx;
  if (amateur) a_cache.emplace(amateur->new_cache(m.config().n_ctx_train)), a_ctx.emplace(amateur->new_context());
  std::vector<float> logits, a_logits;
  std::vector<TokenId> feed = ids;
  for (int i = 0; i < max_tokens; ++i) {
    m.forward(ctx, cache, feed, Logits::kLast, logits);
    std::vector<float> score = logits;
    if (amateur) {
      amateur->forward(*a_ctx, *a_cache, feed, Logits::kLast, a_logits);
      const std::vector<float> le = log_softmax(logits), la = log_softmax(a_logits);
      const float cut = *std::max_element(le.begin(), le.end()) + std::log(0.1f);
      for (size_t v = 0; v < score.size(); ++v)
        score[v] = le[v] >= cut ? le[v] - la[v] : -std::numeric_limits<float>::infinity();
    }
    const TokenId t = static_cast<TokenId>(std::max_element(score.begin(), score.end()) - score.begin());
    if (tok.is_eog(t)) break;
    e.text += tok.token_to_piece(t, false);
    ++e.completion_tokens;
    feed = {t};
  }
  return e;
}

struct ContractCase {
  std::string label;
  std::function<ModelPtr()> make;
  const char* reference = "models/tandem-base.gguf";  // whose greedy answer it gives
  const char* amateur = nullptr;                      // contrastive reference
  std::vector<std::string> helpers = {};                 // usage entries that carry tokens only (cost 0)
  bool streams_live = true;                           // text streams as it is decoded (cancel stops it)
  std::string error_names = {};                         // what an over-long prompt's error names
};

std::ostream& operator<<(std::ostream& os, const ContractCase& c) { return os << c.label; }

ModelPtr local_model(const std::string& name, const char* file, decode::StrategyOptions o = {}) {
  return std::make_shared<local::LocalModel>(name, weights(file), std::move(o), kPrice);
}

decode::StrategyOptions strategy(const std::string& name) {
  decode::StrategyOptions o;
  o.strategy = name;
  return o;
}

ModelPtr speculative() {
  decode::StrategyOptions o = strategy("speculative");
  o.models.draft = weights("models/tandem-tiny.gguf");
  o.draft_model = "tiny";
  return local_model("base", "models/tandem-base.gguf", o);
}

ModelPtr contrastive() {
  decode::StrategyOptions o = strategy("contrastive");
  o.models.amateur = weights("models/tandem-tiny.gguf");
  o.amateur_model = "tiny";
  return local_model("base", "models/tandem-base.gguf", o);
}

ModelPtr best_of_one() {
  decode::StrategyOptions o = strategy("best-of-n");
  o.n_samples = 1;  // at temperature 0 one candidate is the greedy answer
  return local_model("base", "models/tandem-base.gguf", o);
}

// base served on 127.0.0.1 and reached through the OpenAI completions API.
ModelPtr remote_base() {
  static auto* server = [] {
    auto* s = new remote::testing::TestServer();  // lives for the whole test program
    testing::serve_completions(*s, local_model("base", "models/tandem-base.gguf"));
    s->start();
    return s;
  }();
  remote::RemoteOptions o;
  o.name = "remote-base";
  o.base_url = server->url() + "/v1";
  o.model = "base";
  o.api = "completions";
  o.context = 256;
  o.logprobs = false;  // the test endpoint returns none
  o.max_retries = 0;
  o.price = kPrice;
  return std::make_shared<remote::RemoteModel>(o);
}

// base served by a real `tandem serve -m models/tandem-base.gguf` child
// process (started once for the test program) and reached through the OpenAI
// completions API, logprobs and scoring (echo + logprobs) included. A static
// object: its destructor stops the server when the test program exits.
ModelPtr served_base() {
  static testing::ServeProcess serve(testing::tandem_binary(),
                                     {"-m", testing::source_path("models/tandem-base.gguf"), "-t", "1", "--parallel", "4"});
  const testing::ServeProcess* process = &serve;
  remote::RemoteOptions o;
  o.name = "served-base";
  o.base_url = process->url() + "/v1";
  o.model = "default";
  o.api = "completions";
  o.context = 256;
  o.max_retries = 0;
  o.price = kPrice;
  return std::make_shared<remote::RemoteModel>(o);
}

ModelPtr cascade(double threshold) {
  compose::CascadeOptions o;
  o.name = "tiny-then-base";
  o.stages = {local_model("tiny", "models/tandem-tiny.gguf"), local_model("base", "models/tandem-base.gguf")};
  o.rules = {std::make_shared<compose::MeanLogprobRule>(threshold)};
  return std::make_shared<compose::Cascade>(o);
}

constexpr double kInf = std::numeric_limits<double>::infinity();

const ContractCase kCases[] = {
    {.label = "LocalGreedy", .make = [] { return local_model("base", "models/tandem-base.gguf", strategy("greedy")); }},
    {.label = "LocalSampleAtTemperature0", .make = [] { return local_model("base", "models/tandem-base.gguf"); }},
    {.label = "LocalSpeculative", .make = speculative, .helpers = {"tiny"}},
    {.label = "LocalLookup", .make = [] { return local_model("base", "models/tandem-base.gguf", strategy("lookup")); }},
    {.label = "LocalContrastive", .make = contrastive, .amateur = "models/tandem-tiny.gguf", .helpers = {"tiny"}},
    {.label = "LocalBestOfN", .make = best_of_one, .streams_live = false},
    {.label = "Remote", .make = remote_base},
    {.label = "RemoteTandemServe", .make = served_base},
    {.label = "CascadeStaysOnStage1", .make = [] { return cascade(-kInf); }, .reference = "models/tandem-tiny.gguf",
     .streams_live = false, .error_names = "base"},
    // A stage that fails (here: the prompt overflows tiny's context) is skipped
    // (compose/cascade.h); the last stage's error propagates, naming it.
    {.label = "CascadeReachesLastStage", .make = [] { return cascade(kInf); }, .error_names = "base"},
};

class ModelContract : public ::testing::TestWithParam<ContractCase> {
 protected:
  static Request greedy(std::string prompt, int max_tokens = 24) {
    Request q;
    q.prompt = std::move(prompt);
    q.sampling.temperature = 0.0f;
    q.max_tokens = max_tokens;
    return q;
  }
  Expected expected(std::string_view prompt, int max_tokens = 24) const {
    const ContractCase& c = GetParam();
    auto amateur = c.amateur ? weights(c.amateur) : nullptr;
    return reference_greedy(*weights(c.reference), amateur.get(), prompt, max_tokens);
  }
};

constexpr const char* kPrompt = "Question: Ben has 4 flowers. Then Ben finds 7 more flowers. How many flowers does Ben have now?\nAnswer:";

TEST_P(ModelContract, GreedyAnswerEqualsTheReference) {
  const ModelPtr m = GetParam().make();
  const Response r = m->complete(greedy(kPrompt));
  const Expected e = expected(kPrompt);
  EXPECT_EQ(r.text, e.text);
  EXPECT_EQ(r.finish_reason, e.completion_tokens == 24 ? "length" : "stop");
}

TEST_P(ModelContract, UsageCountsTheAnsweringModelsTokensAndCostAddsUp) {
  const ContractCase& c = GetParam();
  const ModelPtr m = c.make();
  const Response r = m->complete(greedy(kPrompt));
  const Expected e = expected(kPrompt);
  ASSERT_TRUE(r.usage.contains(r.answered_by)) << r.answered_by;
  EXPECT_EQ(r.usage.at(r.answered_by).prompt_tokens, e.prompt_tokens);
  EXPECT_EQ(r.usage.at(r.answered_by).completion_tokens, e.completion_tokens);
  double cost = 0.0;
  for (const auto& [name, u] : r.usage) {
    const bool helper = std::find(c.helpers.begin(), c.helpers.end(), name) != c.helpers.end();
    EXPECT_DOUBLE_EQ(u.cost, helper ? 0.0 : kPrice.cost(u)) << name;
    EXPECT_GT(u.prompt_tokens, 0) << name;
    cost += u.cost;
  }
  for (const std::string& h : c.helpers) EXPECT_TRUE(r.usage.contains(h)) << h;
  EXPECT_DOUBLE_EQ(r.cost(), cost);
  EXPECT_GT(r.latency_ms, 0.0);
  EXPECT_FALSE(r.trace.empty());
}

TEST_P(ModelContract, StreamedTextConcatenatesToTheAnswer) {
  const ModelPtr m = GetParam().make();
  std::string streamed;
  int chunks = 0;
  const Response r = m->complete(greedy(kPrompt), [&](std::string_view t) {
    streamed += t;
    ++chunks;
    return true;
  });
  EXPECT_EQ(streamed, r.text);
  EXPECT_EQ(r.text, expected(kPrompt).text);
  if (GetParam().streams_live && r.text.size() > 8) {
    EXPECT_GT(chunks, 1);
  }
}

TEST_P(ModelContract, ReturningFalseFromTheCallbackCancels) {
  const ModelPtr m = GetParam().make();
  std::string streamed;
  const Response r = m->complete(greedy(kPrompt, 24), [&](std::string_view t) {
    streamed += t;
    return false;
  });
  ASSERT_GT(expected(kPrompt).completion_tokens, 2);
  if (GetParam().streams_live) {
    EXPECT_EQ(r.finish_reason, "cancelled");
    EXPECT_LT(r.usage.at(r.answered_by).completion_tokens, 24);
  }
  EXPECT_EQ(streamed, r.text);  // a cancelled answer is what was passed on
}

TEST_P(ModelContract, ConcurrentRequestsGiveTheSequentialAnswers) {
  const ModelPtr m = GetParam().make();
  const std::vector<std::string> prompts = {"Once upon a time", "Lily and Tom", kPrompt, "The little dog"};
  std::vector<std::string> sequential;
  for (const auto& p : prompts) sequential.push_back(m->complete(greedy(p, 12)).text);
  std::vector<std::string> parallel(prompts.size());
  std::vector<std::thread> threads;
  for (size_t i = 0; i < prompts.size(); ++i)
    threads.emplace_back([&, i] { parallel[i] = m->complete(greedy(prompts[i], 12)).text; });
  for (auto& t : threads) t.join();
  EXPECT_EQ(parallel, sequential);
}

TEST_P(ModelContract, AnOverlongPromptIsAnErrorNamingTheModel) {
  const ContractCase& c = GetParam();
  const ModelPtr m = c.make();
  std::string prompt;
  for (int i = 0; i < 400; ++i) prompt += " the little dog ran";
  const std::string names = c.error_names.empty() ? m->name() : c.error_names;
  try {
    m->complete(greedy(prompt));
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(names), std::string::npos) << e.what();
  }
}

// log p(continuation | prompt) by hand from the reference model's logits.
TEST_P(ModelContract, ScoreEqualsABruteForceSumOfLogSoftmax) {
  const ModelPtr m = GetParam().make();
  if (!m->capabilities().scoring) {
    EXPECT_THROW(m->score("Lily", " and Tom"), Error);
    return;
  }
  const auto held = weights(GetParam().reference);  // load_shared keeps no model alive by itself
  const std::string prompt = "Lily and Tom went to the park.", cont = " They played with a ball.";
  const testing::BruteForceScore want = testing::brute_force_score(*held, prompt, cont);
  const Score s = m->score(prompt, cont);
  EXPECT_EQ(s.token_logprobs.size(), want.n_tokens);
  EXPECT_NEAR(s.sum_logprob, want.sum_logprob, 1e-3);
}

TEST_P(ModelContract, EmbeddingIsTheMeanOfTheFinalHiddenStates) {
  const ModelPtr m = GetParam().make();
  const std::vector<std::string> texts = {"Lily and Tom", "The little dog ran to the park."};
  if (!m->capabilities().embeddings) {
    EXPECT_THROW(m->embed(texts), Error);
    return;
  }
  const auto held = weights(GetParam().reference);  // load_shared keeps no model alive by itself
  const Transformer& ref = *held;
  const auto got = m->embed(texts);
  ASSERT_EQ(got.size(), texts.size());
  const size_t n_embd = static_cast<size_t>(ref.config().n_embd);
  for (size_t j = 0; j < texts.size(); ++j) {
    const std::vector<TokenId> ids = ref.tokenizer().encode(texts[j], true, true);
    KvCache cache = ref.new_cache(256);
    ForwardContext ctx = ref.new_context();
    std::vector<float> hidden;
    ref.forward(ctx, cache, ids, Logits::kHidden, hidden);
    ASSERT_EQ(got[j].size(), n_embd);
    for (size_t i = 0; i < n_embd; ++i) {
      double mean = 0.0;
      for (size_t t = 0; t < ids.size(); ++t) mean += hidden[t * n_embd + i];
      EXPECT_NEAR(got[j][i], mean / static_cast<double>(ids.size()), 1e-4) << j << " " << i;
    }
  }
}

// max_tokens 0 asks for nothing (scoring clients send it with echo): no token.
TEST_P(ModelContract, MaxTokensZeroGivesAnEmptyAnswer) {
  const ModelPtr m = GetParam().make();
  const Response r = m->complete(greedy(kPrompt, 0));
  EXPECT_EQ(r.text, "");
  EXPECT_EQ(r.finish_reason, "length");
  EXPECT_EQ(r.usage.at(r.answered_by).completion_tokens, 0);
}

INSTANTIATE_TEST_SUITE_P(Models, ModelContract, ::testing::ValuesIn(kCases),
                         [](const ::testing::TestParamInfo<ContractCase>& i) { return i.param.label; });

}  // namespace
}  // namespace tandem::api
