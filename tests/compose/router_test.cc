// The router table (parsing, the kNN estimate against hand-computed values,
// leave-one-out) and the Router model: a real embedder (the bundled
// tandem-tiny GGUF) over scripted candidates whose right answers are known.
#include "compose/router.h"

#include <gtest/gtest.h>

#include <cmath>

#include "compose/router_table.h"
#include "compose/scripted_model.h"
#include "local/local_model.h"
#include "test_util.h"
#include "util/error.h"

namespace tandem::compose {
namespace {

using testing::ScriptedModel;

// e0 = (1, 0), e1 = (0, 1), e2 = (1, 1) (normalised on load); model a is right
// on e0 and e2, model b on e1 and e2.
const char* kTable = R"({"format": "tandem-router", "version": 1, "embedder": "emb", "task": "t",
  "models": ["a", "b"], "cost": [1, 4],
  "examples": [{"embedding": [1, 0], "correct": [1, 0]},
               {"embedding": [0, 1], "correct": [0, 1]},
               {"embedding": [1, 1], "correct": [1, 1]}]})";

std::string table_error(const std::string& text) {
  try {
    parse_router_table(text, "r.json");
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(RouterTable, ParsesNormalisesAndRoundTrips) {
  const RouterTable t = parse_router_table(kTable, "r.json");
  ASSERT_EQ(t.dim, 2u);
  EXPECT_NEAR(t.embeddings[2][0], 1.0 / std::sqrt(2.0), 1e-7);
  EXPECT_EQ(t.accuracy(), (std::vector<double>{2.0 / 3.0, 2.0 / 3.0}));
  const RouterTable back = parse_router_table(router_table_json(t), "again.json");
  EXPECT_EQ(back.models, t.models);
  EXPECT_EQ(back.cost, t.cost);
  EXPECT_EQ(back.correct, t.correct);
  EXPECT_EQ(back.embedder, "emb");
}

TEST(RouterTable, RejectsMalformedTablesWithOneLineNamingTheFile) {
  const std::string ok = kTable;
  auto with = [&](const std::string& from, const std::string& to) {
    std::string s = ok;
    s.replace(s.find(from), from.size(), to);
    return s;
  };
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"{", "not JSON"},
      {"[]", "JSON object"},
      {with("\"version\": 1", "\"version\": 2"), "'version' must be 1"},
      {with("\"task\": \"t\"", "\"tsak\": \"t\""), "unknown key \"tsak\""},
      // Names from the file are quoted with JSON escapes: the message stays one line.
      {with("\"task\": \"t\"", "\"t\\nask\": \"t\""), "unknown key \"t\\nask\""},
      {with("\"correct\": [1, 0]}", "\"correct\": [1, 0], \"len\\ngth\": 1}"), "examples[0]: unknown key \"len\\ngth\""},
      {with("[\"a\", \"b\"]", "[\"a\\n\", \"a\\n\"]"), "model \"a\\n\" is listed twice"},
      {with("[1, 4]", "[1]"), "one number per model"},
      {with("[1, 4]", "[1, -4]"), ">= 0"},
      {with("[1, 4]", "[1, 1e39]"), "finite"},
      {with("\"embedding\": [0, 1]", "\"embedding\": [0, 1, 5]"), "examples[1].embedding has 3 values"},
      {with("\"correct\": [1, 0]", "\"correct\": [1, 2]"), "0 or 1"},
      {with("\"correct\": [1, 0]", "\"correct\": [1]"), "one 0 or 1 per model"},
      {with("[\"a\", \"b\"]", "[\"a\", \"a\"]"), "listed twice"},
      {with("\"embedding\": [1, 0]", "\"embedding\": [1, \"x\"]"), "must be a number"},
  };
  for (const auto& [text, want] : cases) {
    const std::string e = table_error(text);
    EXPECT_NE(e.find("r.json: router table: "), std::string::npos) << text << " -> " << e;
    EXPECT_NE(e.find(want), std::string::npos) << text << " -> " << e;
    EXPECT_EQ(e.find('\n'), std::string::npos) << e;
  }
}

TEST(RouterTable, PredictionIsTheSimilarityWeightedVoteWithTheGlobalPrior) {
  const RouterTable t = parse_router_table(kTable, "r.json");
  const double s = 1.0 / std::sqrt(2.0);  // cos((1, 0), (1, 1))
  // k = 2 from (2, 0): neighbours e0 (similarity 1) and e2 (s); prior 2/3 each.
  const std::vector<double> p = predict_accuracy(t, {2.0f, 0.0f}, 2);
  EXPECT_NEAR(p[0], (2.0 / 3.0 + 1.0 + s) / (1.0 + 1.0 + s), 1e-6);
  EXPECT_NEAR(p[1], (2.0 / 3.0 + 0.0 + s) / (1.0 + 1.0 + s), 1e-6);
  // Leaving e0 out, k = 1: neighbour e2; prior over e1, e2 = (1/2, 1).
  const std::vector<double> q = predict_accuracy(t, {1.0f, 0.0f}, 1, 0);
  EXPECT_NEAR(q[0], (0.5 + s) / (1.0 + s), 1e-6);
  EXPECT_NEAR(q[1], (1.0 + s) / (1.0 + s), 1e-6);
  // A prompt opposite to every example: no positive weight, the prior alone.
  const std::vector<double> far = predict_accuracy(t, {-1.0f, -1.0f}, 3);
  EXPECT_NEAR(far[0], 2.0 / 3.0, 1e-9);
  EXPECT_THROW(predict_accuracy(t, {1.0f, 0.0f, 0.0f}, 1), Error);
}

TEST(RouterTable, RouteOrderTradesPredictedAccuracyForCost) {
  const RouterTable t = parse_router_table(kTable, "r.json");  // costs 1 and 4: relative 0.25 and 1
  EXPECT_EQ(route_order(t, {0.5, 0.7}, 0.0), (std::vector<size_t>{1, 0}));
  EXPECT_EQ(route_order(t, {0.5, 0.7}, 0.2), (std::vector<size_t>{1, 0}));  // 0.45 < 0.5
  EXPECT_EQ(route_order(t, {0.5, 0.7}, 0.5), (std::vector<size_t>{0, 1}));  // 0.375 > 0.2
  EXPECT_EQ(route_order(t, {0.6, 0.6}, 0.0), (std::vector<size_t>{0, 1}));  // a tie goes to the cheaper
}

TEST(RouterTable, LeaveOneOutCountsTheChosenModelsAnswers) {
  // Two clusters: near (1, 0) only the cheap model is right, near (0, 1) only
  // the dear one. Each example's neighbours are its cluster mates.
  RouterTable t;
  t.embedder = "emb";
  t.models = {"cheap", "dear"};
  t.cost = {1.0, 10.0};
  t.dim = 2;
  for (int i = 0; i < 10; ++i) {
    const float d = 0.01f * static_cast<float>(i);
    const bool first = i % 2 == 0;
    std::vector<float> e = first ? std::vector<float>{1.0f, d} : std::vector<float>{d, 1.0f};
    const float n = std::sqrt(e[0] * e[0] + e[1] * e[1]);
    t.embeddings.push_back({e[0] / n, e[1] / n});
    t.correct.push_back(first ? std::vector<int>{1, 0} : std::vector<int>{0, 1});
  }
  const RouteEstimate best = leave_one_out(t, 3, 0.0);
  EXPECT_DOUBLE_EQ(best.accuracy, 1.0);
  EXPECT_NEAR(best.mean_cost, 5.5, 1e-12);
  EXPECT_NEAR(best.share[0], 0.5, 1e-12);
  const RouteEstimate thrifty = leave_one_out(t, 3, 10.0);  // cost dominates: always the cheap model
  EXPECT_NEAR(thrifty.accuracy, 0.5, 1e-12);
  EXPECT_NEAR(thrifty.share[0], 1.0, 1e-12);
}

// The router over the bundled tiny model's embeddings.
class RouterModel : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    embedder_ = std::make_shared<local::LocalModel>(
        "tiny", local::load_shared(tandem::testing::source_path("models/tandem-tiny.gguf"), {.n_threads = 1}));
  }
  static void TearDownTestSuite() { embedder_.reset(); }

  // Model "cheap" answers the story prompt right, "dear" both.
  std::shared_ptr<const RouterTable> table() const {
    RouterTable t;
    t.embedder = "tiny";
    t.models = {"cheap", "dear"};
    t.cost = {1.0, 8.0};
    const std::vector<std::string> prompts = {kStory, kSum};
    t.embeddings = embedder_->embed(prompts);
    t.dim = t.embeddings[0].size();
    t.correct = {{1, 1}, {0, 1}};
    return std::make_shared<const RouterTable>(parse_router_table(router_table_json(t), "t.json"));
  }
  RouterOptions options(double cost_weight = 0.0) const {
    const std::map<std::string, std::vector<testing::ScriptedAnswer>> script = {
        {kStory, {{{" a", -0.1}, {" dog", -0.1}}}}, {kSum, {{{" 5", -0.1}}}}};
    RouterOptions o;
    o.name = "r";
    o.candidates = {std::make_shared<ScriptedModel>("cheap", script, 1.0),
                    std::make_shared<ScriptedModel>("dear", script, 8.0)};
    o.embedder = embedder_;
    o.table = table();
    o.k = 1;
    o.cost_weight = cost_weight;
    return o;
  }
  static api::Request ask(const std::string& prompt) {
    api::Request q;
    q.prompt = prompt;
    q.max_tokens = 4;
    return q;
  }

  static constexpr const char* kStory = "Once upon a time there was a little dog named Max.";
  static constexpr const char* kSum = "12 + 30 = ? 7 * 8 = ? 99 - 4 = ?";
  static inline std::shared_ptr<const api::Model> embedder_;
};

TEST_F(RouterModel, SendsEachPromptToTheCheapestModelPredictedRight) {
  const Router r(options(0.3));
  // k = 1 on a training prompt: its own row. Story: p = (1.5/2, 2/2) -> scores
  // 0.75 - 0.0375 > 1 - 0.3: cheap. Sum: p = (0.5/2, 1): dear.
  const api::Response story = r.complete(ask(kStory));
  EXPECT_EQ(story.answered_by, "cheap");
  EXPECT_EQ(story.text, " a dog");
  ASSERT_FALSE(story.trace.empty());
  EXPECT_EQ(story.trace.back().decision, "route");
  EXPECT_EQ(story.trace.back().signal, "predicted_accuracy");
  EXPECT_NEAR(story.trace.back().value, 0.75, 1e-6);
  EXPECT_EQ(r.complete(ask(kSum)).answered_by, "dear");
  EXPECT_EQ(Router(options(0.0)).complete(ask(kStory)).answered_by, "dear");  // accuracy alone
  EXPECT_EQ(Router(options(5.0)).complete(ask(kSum)).answered_by, "cheap");   // cost alone
}

TEST_F(RouterModel, StreamsTheChosenModelLive) {
  const Router r(options(0.3));
  std::string streamed;
  int pieces = 0;
  const api::Response out = r.complete(ask(kStory), [&](std::string_view s) {
    streamed += s;
    ++pieces;
    return true;
  });
  EXPECT_EQ(streamed, out.text);
  EXPECT_EQ(pieces, 2);  // one per scripted token: not buffered
}

TEST_F(RouterModel, SkipsCandidatesOverBudgetOrFailingAndSays429WhenNoneIsLeft) {
  auto budgets = std::make_shared<Budgets>();
  budgets->set("dear", {.max_tokens = 0});
  const Router r(options(0.0), budgets);
  const api::Response out = r.complete(ask(kSum));
  EXPECT_EQ(out.answered_by, "cheap");
  EXPECT_EQ(out.trace.front().model, "dear");
  EXPECT_EQ(out.trace.front().decision.rfind("skip: over budget", 0), 0u) << out.trace.front().decision;
  budgets->set("cheap", {.max_tokens = 0});
  EXPECT_THROW(r.complete(ask(kSum)), UnavailableError);
  // A candidate that fails (no script for the prompt) gives way to the next.
  RouterOptions o = options(0.0);
  o.candidates[1] = std::make_shared<ScriptedModel>(
      "dear", std::map<std::string, std::vector<testing::ScriptedAnswer>>{}, 8.0);
  const api::Response fallback = Router(o).complete(ask(kSum));
  EXPECT_EQ(fallback.answered_by, "cheap");
  EXPECT_EQ(fallback.trace.front().decision.rfind("skip: failed: ", 0), 0u);
}

TEST_F(RouterModel, ConstructionRejectsAMismatchedTableOrKnob) {
  RouterOptions swapped = options();
  std::swap(swapped.candidates[0], swapped.candidates[1]);
  EXPECT_THROW(Router{swapped}, Error);
  RouterOptions no_k = options();
  no_k.k = 0;
  EXPECT_THROW(Router{no_k}, Error);
  RouterOptions negative = options(-0.1);
  EXPECT_THROW(Router{negative}, Error);
  RouterOptions other_embedder = options();
  other_embedder.embedder = other_embedder.candidates[0];  // named "cheap", and no embeddings
  EXPECT_THROW(Router{other_embedder}, Error);
}

}  // namespace
}  // namespace tandem::compose
