// The plain types of the Model interface: usage sums, prices, and the default
// score()/embed() errors that name the model.
#include <gtest/gtest.h>

#include "api/model.h"
#include "util/error.h"

namespace tandem::api {
namespace {

TEST(ApiPrice, CostIsTokensTimesPricePerMillionPlusSeconds) {
  const Price p{.input_per_mtok = 0.5, .output_per_mtok = 1.5, .per_second = 0.001};
  const Usage u{.prompt_tokens = 2000, .completion_tokens = 400, .seconds = 3.0};
  // 2000 * 0.5 / 1e6 + 400 * 1.5 / 1e6 + 3 * 0.001, computed by hand.
  EXPECT_DOUBLE_EQ(p.cost(u), 0.001 + 0.0006 + 0.003);
  EXPECT_DOUBLE_EQ(Price{}.cost(u), 0.0);
}

TEST(ApiResponse, TotalAddsEveryModelsUsage) {
  Response r;
  r.usage["tiny"] = {.prompt_tokens = 10, .completion_tokens = 5, .seconds = 0.5, .cost = 0.25};
  r.usage["big"] = {.prompt_tokens = 10, .completion_tokens = 7, .seconds = 1.5, .cost = 1.0};
  const Usage t = r.total();
  EXPECT_EQ(t.prompt_tokens, 20);
  EXPECT_EQ(t.completion_tokens, 12);
  EXPECT_DOUBLE_EQ(t.seconds, 2.0);
  EXPECT_DOUBLE_EQ(r.cost(), 1.25);
}

class EchoModel : public Model {
 public:
  const std::string& name() const override { return name_; }
  Capabilities capabilities() const override { return {}; }
  Response complete(const Request& q, const StreamCallback&) const override {
    Response r;
    r.text = q.prompt;
    return r;
  }

 private:
  std::string name_ = "echo-7";
};

TEST(ApiModel, DefaultScoreAndEmbedThrowNamingTheModel) {
  EchoModel m;
  try {
    m.score("a", "b");
    FAIL() << "score() should throw";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("'echo-7' cannot score"), std::string::npos) << e.what();
  }
  const std::vector<std::string> texts = {"x"};
  try {
    m.embed(texts);
    FAIL() << "embed() should throw";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("'echo-7' gives no embeddings"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace tandem::api
