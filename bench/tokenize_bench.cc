// Tokenizer throughput: MB/s of encode (and decode) on ~1 MB of TinyStories
// text, for one vocabulary of each family.
//
//   bench_tokenize_bench [SHARED_DIR]   (default: $TANDEM_SHARED_DIR, else ../shared beside the repo)
//
// Two figures per vocabulary: the whole text as one string (one long
// fragment, the worst case for SPM's merge queue) and story by story (how a
// prompt or a document is usually tokenized). Best of 3 runs, thread CPU time.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "gguf/gguf.h"
#include "tokenizer/tokenizer.h"

namespace {

// Thread CPU time, so that other processes on a busy machine distort less.
double cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

double best_seconds(const std::function<void()>& fn) {
  double best = 1e30;
  for (int r = 0; r < 3; ++r) {
    const double t0 = cpu_seconds();
    fn();
    best = std::min(best, cpu_seconds() - t0);
  }
  return best;
}

std::vector<std::string> read_stories(const std::string& path, size_t target_bytes) {
  std::ifstream in(path);
  if (!in) {
    std::fprintf(stderr, "cannot read %s\n", path.c_str());
    std::exit(1);
  }
  std::vector<std::string> stories;
  size_t total = 0;
  for (std::string line; total < target_bytes && std::getline(in, line);) {
    stories.push_back(nlohmann::json::parse(line)["text"].get<std::string>());
    total += stories.back().size() + 1;
  }
  return stories;
}

}  // namespace

int main(int argc, char** argv) {
  const char* shared_env = std::getenv("TANDEM_SHARED_DIR");
  const std::string shared = argc > 1 ? argv[1] : shared_env && *shared_env ? shared_env : TANDEM_SOURCE_DIR "/../shared";
  const auto stories = read_stories(shared + "/data/tinystories-train/train-00.jsonl", 1 << 20);
  std::string all;
  for (const auto& s : stories) all += s + "\n";
  const double mb = static_cast<double>(all.size()) / 1e6;
  std::printf("text: %zu stories, %.2f MB\n", stories.size(), mb);
  std::printf("%-16s %-5s %10s %12s %12s %12s\n", "vocab", "type", "tokens", "whole MB/s", "story MB/s",
              "decode MB/s");
  const std::pair<const char*, const char*> vocabs[] = {
      {"stories260K", "models/stories260K.gguf"},
      {"llama-spm", "fixtures/tokenizer/ggml-vocab-llama-spm.gguf"},
      {"gpt-2", "fixtures/tokenizer/ggml-vocab-gpt-2.gguf"},
      {"deepseek-llm", "fixtures/tokenizer/ggml-vocab-deepseek-llm.gguf"},
      {"bert-bge", "fixtures/tokenizer/ggml-vocab-bert-bge.gguf"},
  };
  for (const auto& [name, rel] : vocabs) {
    auto file = tandem::gguf::File::open(shared + "/" + rel);
    auto tok = tandem::Tokenizer::from_gguf(*file);
    std::vector<tandem::TokenId> ids;
    const double whole = best_seconds([&] { ids = tok->encode(all, false, false); });
    size_t n_story_tokens = 0;
    const double per_story = best_seconds([&] {
      n_story_tokens = 0;
      for (const auto& s : stories) n_story_tokens += tok->encode(s, true, false).size();
    });
    std::string back;
    const double dec = best_seconds([&] { back = tok->decode(ids); });
    std::printf("%-16s %-5s %10zu %12.2f %12.2f %12.2f\n", name, tok->vocab().model.c_str(), ids.size(),
                mb / whole, mb / per_story, mb / dec);
  }
  return 0;
}
