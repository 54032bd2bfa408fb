// tandem index build | query end to end with the bundled tandem-tiny as the
// embedder: the index it writes reads back with the library, a query sharing
// words with one passage ranks it first (text and --json), and bad input
// (documents, a corrupt index, another embedder) is one error line.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "compose/retrieval_index.h"
#include "test_util.h"

namespace tandem {
namespace {

namespace fs = std::filesystem;
using testing::run_command;
using testing::shell_quote;
using testing::source_path;
using testing::tandem_binary;

class IndexCommand : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("tandem-index-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    std::ofstream(dir_ / "docs.jsonl") << R"({"id": "cat", "text": "The little cat sat on the warm mat and purred all day long."}
{"id": "sums", "text": "Seven plus five is twelve, and twelve minus three is nine."}
{"id": "rocket", "text": "The big red rocket flew up to the moon and the stars at night."}
{"id": "garden", "text": "Tom planted seeds in the garden and watered the flowers every morning."}
)";
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string path(const std::string& name) const { return shell_quote((dir_ / name).string()); }
  static std::string tiny() { return shell_quote(source_path("models/tandem-tiny.gguf")); }
  testing::CommandResult build(const std::string& docs, const std::string& out) const {
    return run_command(tandem_binary() + " index build --embedder " + tiny() + " --docs " + path(docs) + " --out " +
                       path(out) + " -t 1");
  }
  testing::CommandResult query(const std::string& index, const std::string& text, const std::string& extra = "") const {
    return run_command(tandem_binary() + " index query --index " + path(index) + " --embedder " + tiny() + " -t 1 " +
                       extra + " " + shell_quote(text));
  }

  fs::path dir_;
};

void expect_one_line_error(const testing::CommandResult& r, const std::string& needle) {
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(r.err.rfind("error: ", 0), 0u) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_NE(r.err.find(needle), std::string::npos) << r.err;
}

TEST_F(IndexCommand, BuildsAnIndexThatAQueryFindsItsPassageIn) {
  const auto b = build("docs.jsonl", "sub/docs.idx");
  ASSERT_EQ(b.exit_code, 0) << b.err;
  EXPECT_NE(b.out.find("4 passages"), std::string::npos) << b.out;
  EXPECT_NE(b.err.find("ETA"), std::string::npos) << b.err;
  const compose::RetrievalIndex index = compose::RetrievalIndex::load((dir_ / "sub/docs.idx").string());
  ASSERT_EQ(index.size(), 4u);
  EXPECT_EQ(index.embedder(), "tandem-tiny");
  EXPECT_EQ(index.passage(2).id, "rocket");

  const auto q = query("sub/docs.idx", "A rocket flew to the moon.", "-k 2");
  ASSERT_EQ(q.exit_code, 0) << q.err;
  EXPECT_EQ(q.out.rfind("1\t", 0), 0u) << q.out;
  EXPECT_NE(q.out.find("\trocket\tThe big red rocket"), std::string::npos) << q.out;
  EXPECT_LT(q.out.find("\trocket\t"), q.out.find("\n")) << q.out;  // on the first line
  EXPECT_EQ(std::count(q.out.begin(), q.out.end(), '\n'), 2) << q.out;

  const auto j = query("sub/docs.idx", "Tom watered the flowers in the garden.", "-k 9 --json");
  ASSERT_EQ(j.exit_code, 0) << j.err;
  const nlohmann::json out = nlohmann::json::parse(j.out);
  EXPECT_EQ(out["embedder"], "tandem-tiny");
  const nlohmann::json& results = out["results"];
  ASSERT_EQ(results.size(), 4u);  // k above the count: all of them
  EXPECT_EQ(results[0]["id"], "garden");
  EXPECT_EQ(results[0]["rank"], 1);
  for (size_t r = 1; r < results.size(); ++r)
    EXPECT_GE(results[r - 1]["cosine"].get<double>(), results[r]["cosine"].get<double>());
}

TEST_F(IndexCommand, SplitsTextFilesAtBlankLines) {
  std::ofstream(dir_ / "notes.txt") << "Cats purr on the mat.\n\nRockets fly to the moon.\nThey are fast.\n";
  const auto b = build("notes.txt", "notes.idx");
  ASSERT_EQ(b.exit_code, 0) << b.err;
  const compose::RetrievalIndex index = compose::RetrievalIndex::load((dir_ / "notes.idx").string());
  ASSERT_EQ(index.size(), 2u);
  EXPECT_EQ(index.passage(1).id, "3");
  EXPECT_EQ(index.passage(1).text, "Rockets fly to the moon.\nThey are fast.");
}

TEST_F(IndexCommand, BadInputIsOneErrorLine) {
  std::ofstream(dir_ / "bad.jsonl") << "{\"text\": \"fine\"}\n{\"id\": \"x\"}\n";
  expect_one_line_error(build("bad.jsonl", "bad.idx"), "bad.jsonl:2: no \"text\"");
  EXPECT_FALSE(fs::exists(dir_ / "bad.idx"));
  std::ofstream(dir_ / "empty.txt") << "\n\n";
  expect_one_line_error(build("empty.txt", "e.idx"), "no passages");

  ASSERT_EQ(build("docs.jsonl", "docs.idx").exit_code, 0);
  const std::string other = shell_quote(source_path("models/stories260K.gguf"));
  expect_one_line_error(run_command(tandem_binary() + " index query --index " + path("docs.idx") + " --embedder " +
                                    other + " cats"),
                        "built with embedder 'tandem-tiny', not 'stories260K'");
  fs::resize_file(dir_ / "docs.idx", fs::file_size(dir_ / "docs.idx") - 3);
  expect_one_line_error(query("docs.idx", "cats"), "retrieval index: truncated");
  std::ofstream(dir_ / "junk.idx") << "not an index at all";
  expect_one_line_error(query("junk.idx", "cats"), "wrong magic");
  expect_one_line_error(run_command(tandem_binary() + " index"), "index");
  expect_one_line_error(query("docs.idx", "cats", "-k 0"), "index query: -k: ");
}

}  // namespace
}  // namespace tandem
