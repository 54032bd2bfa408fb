// tandem serve over a config with a stack: the answer is the last step's,
// the message the first step passed on is in the `tandem` extension's trace
// (and equals that model's own answer to the same request), and a streamed
// request streams only the last step's text.
#include <gtest/gtest.h>

#include <httplib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "api/serve_process.h"
#include "test_util.h"

namespace tandem::server {
namespace {

namespace fs = std::filesystem;
using tandem::testing::source_path;

std::string trimmed(std::string s) {
  s.erase(0, s.find_first_not_of(" \t\r\n"));
  s.erase(s.find_last_not_of(" \t\r\n") + 1);
  return s;
}

TEST(ServeStack, TheTraceCarriesThePassedMessageAndOnlyTheLastStepStreams) {
  const fs::path dir = fs::temp_directory_path() / ("tandem-serve-stack-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::ofstream(dir / "s.yaml") << "models:\n"
                                   "  tiny: {type: local, path: " << source_path("models/tandem-tiny.gguf") << "}\n"
                                   "  small: {type: local, path: " << source_path("models/tandem-small.gguf") << "}\n"
                                   "  s:\n    type: stack\n    steps:\n"
                                   "      - {model: tiny, template: \"{input}\", max_tokens: 6}\n"
                                   "      - {model: small, template: \"{input} and {previous}\"}\n"
                                   "prices: {default_local: {per_second: 0}}\n";
  tandem::testing::ServeProcess serve(tandem::testing::tandem_binary(), {"--config", (dir / "s.yaml").string(), "-t", "1"});
  httplib::Client client(serve.url());
  auto post = [&](const nlohmann::json& body) {
    auto r = client.Post("/v1/completions", body.dump(), "application/json");
    EXPECT_TRUE(r);
    EXPECT_EQ(r->status, 200) << r->body;
    return r->body;
  };
  const nlohmann::json ask = {{"model", "s"}, {"prompt", "Once upon a time"}, {"max_tokens", 5}, {"temperature", 0}};
  const nlohmann::json answer = nlohmann::json::parse(post(ask));
  const nlohmann::json& trace = answer["tandem"]["trace"];
  const std::string passed = trimmed(nlohmann::json::parse(post({{"model", "tiny"}, {"prompt", "Once upon a time"},
                                                                  {"max_tokens", 6}, {"temperature", 0}}))["choices"][0]["text"]);
  ASSERT_FALSE(passed.empty());
  int passes = 0;
  for (const auto& step : trace) {
    if (step["decision"] != "pass") continue;
    ++passes;
    EXPECT_EQ(step["model"], "tiny");
    EXPECT_EQ(step["text"], passed);
  }
  EXPECT_EQ(passes, 1) << trace.dump();
  EXPECT_EQ(answer["tandem"]["answered_by"], "small");
  const std::string last = nlohmann::json::parse(post({{"model", "small"}, {"prompt", "Once upon a time and " + passed},
                                                        {"max_tokens", 5}, {"temperature", 0}}))["choices"][0]["text"];
  EXPECT_EQ(answer["choices"][0]["text"], last);

  nlohmann::json streamed = ask;
  streamed["stream"] = true;
  std::string text;
  const std::string events = post(streamed);
  for (size_t at = events.find("data: "); at != std::string::npos; at = events.find("data: ", at + 1)) {
    const size_t end = events.find("\n", at);
    const std::string data = events.substr(at + 6, end - at - 6);
    if (data == "[DONE]") break;
    const nlohmann::json chunk = nlohmann::json::parse(data);
    if (!chunk["choices"].empty()) text += chunk["choices"][0]["text"].get<std::string>();
  }
  EXPECT_EQ(text, last);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace tandem::server
