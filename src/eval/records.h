// The eval records: one row per (task, model, example) in SQLite
// (RUN_DIR/records.sqlite, WAL mode). Each row is committed on its own as the
// example finishes, so a killed run (even kill -9) keeps every row written;
// a rerun over the same file skips the examples it holds.
//
// Thread-safety: a RecordStore serializes its calls with a mutex; one store
// may be shared by the threads of a run. Rows are what the cascade
// calibration, the router and the reports read.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

struct sqlite3;

namespace tandem::eval {

struct Record {
  std::string task;
  std::string model;
  std::string example_id;
  int64_t example_index = 0;
  std::string prompt_hash;             // hex FNV-1a-64 of the prompt(s) sent
  std::string output;                  // the generation (multiple choice: the picked choice or letter answer)
  std::optional<std::string> extracted;  // the answer read from the output
  std::string gold;
  std::optional<int> correct;          // the task's first metric, 0/1 (perplexity tasks: none)
  nlohmann::json metrics = nlohmann::json::object();  // every per-example value ("acc", "acc_norm", "loglikelihood", ...)
  nlohmann::json tokens = nlohmann::json::object();   // usage per underlying model: {prompt_tokens, completion_tokens, seconds, cost}
  double latency_ms = 0.0;
  double cost = 0.0;
  std::string answered_by;
  nlohmann::json trace = nlohmann::json::array();
  std::string note;                    // e.g. "letter fallback: the model cannot score"
  // A cascade evaluated with RunOptions::probe (eval/harness.h): every stage's
  // answer, one object per stage in order: {stage, signal, value, threshold,
  // output, extracted, correct, tokens, cost, latency_ms} (the last stage
  // without signal, value and threshold). Empty otherwise.
  nlohmann::json stages = nlohmann::json::array();
};

class RecordStore {
 public:
  // Opens or creates the file (and its table). Throws tandem::Error naming it.
  explicit RecordStore(const std::string& path);
  ~RecordStore();
  RecordStore(const RecordStore&) = delete;
  RecordStore& operator=(const RecordStore&) = delete;

  // The stored row of (task, model, example_id), if any.
  std::optional<Record> find(const std::string& task, const std::string& model, const std::string& example_id) const;
  // Inserts one row in its own transaction (replacing none: a row already
  // there is an error). Throws tandem::Error.
  void put(const Record& r);
  // Every row of (task, model) by example_index; of everything when both empty.
  std::vector<Record> all(const std::string& task = {}, const std::string& model = {}) const;

 private:
  mutable std::mutex mu_;
  sqlite3* db_ = nullptr;
  std::string path_;
};

}  // namespace tandem::eval
