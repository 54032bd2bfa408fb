#include "eval/records.h"

#include <sqlite3.h>

#include "util/error.h"

namespace tandem::eval {
namespace {

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS records (
  task TEXT NOT NULL, model TEXT NOT NULL, example_id TEXT NOT NULL, example_index INTEGER NOT NULL,
  prompt_hash TEXT NOT NULL, output TEXT NOT NULL, extracted TEXT, gold TEXT NOT NULL, correct INTEGER,
  metrics TEXT NOT NULL, tokens TEXT NOT NULL, latency_ms REAL NOT NULL, cost REAL NOT NULL,
  answered_by TEXT NOT NULL, trace TEXT NOT NULL, note TEXT NOT NULL, stages TEXT NOT NULL DEFAULT '[]',
  PRIMARY KEY (task, model, example_id));
)sql";

constexpr const char* kColumns =
    "task, model, example_id, example_index, prompt_hash, output, extracted, gold, correct, metrics, tokens, "
    "latency_ms, cost, answered_by, trace, note, stages";

// A prepared statement, finalized on scope exit.
class Statement {
 public:
  Statement(sqlite3* db, const std::string& sql, const std::string& path) {
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &s_, nullptr) != SQLITE_OK)
      throw Error(path + ": " + sqlite3_errmsg(db));
  }
  ~Statement() { sqlite3_finalize(s_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  sqlite3_stmt* get() const { return s_; }
  void text(int i, const std::string& v) { sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT); }

 private:
  sqlite3_stmt* s_ = nullptr;
};

std::string column_text(sqlite3_stmt* s, int i) {
  const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s, i));
  return p ? std::string(p, static_cast<size_t>(sqlite3_column_bytes(s, i))) : std::string();
}

nlohmann::json column_json(sqlite3_stmt* s, int i) {
  return nlohmann::json::parse(column_text(s, i), nullptr, /*allow_exceptions=*/false);
}

Record read_row(sqlite3_stmt* s) {
  Record r;
  r.task = column_text(s, 0);
  r.model = column_text(s, 1);
  r.example_id = column_text(s, 2);
  r.example_index = sqlite3_column_int64(s, 3);
  r.prompt_hash = column_text(s, 4);
  r.output = column_text(s, 5);
  if (sqlite3_column_type(s, 6) != SQLITE_NULL) r.extracted = column_text(s, 6);
  r.gold = column_text(s, 7);
  if (sqlite3_column_type(s, 8) != SQLITE_NULL) r.correct = sqlite3_column_int(s, 8);
  r.metrics = column_json(s, 9);
  r.tokens = column_json(s, 10);
  r.latency_ms = sqlite3_column_double(s, 11);
  r.cost = sqlite3_column_double(s, 12);
  r.answered_by = column_text(s, 13);
  r.trace = column_json(s, 14);
  r.note = column_text(s, 15);
  r.stages = column_json(s, 16);
  if (!r.stages.is_array()) r.stages = nlohmann::json::array();
  return r;
}

std::string dump(const nlohmann::json& j) { return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace); }

// Records written before the `stages` column existed: add it (empty arrays).
void add_stages_column(sqlite3* db) {
  bool has = false;
  sqlite3_stmt* s = nullptr;
  if (sqlite3_prepare_v2(db, "PRAGMA table_info(records)", -1, &s, nullptr) == SQLITE_OK)
    while (sqlite3_step(s) == SQLITE_ROW) has = has || column_text(s, 1) == "stages";
  sqlite3_finalize(s);
  if (!has) sqlite3_exec(db, "ALTER TABLE records ADD COLUMN stages TEXT NOT NULL DEFAULT '[]'", nullptr, nullptr, nullptr);
}

}  // namespace

RecordStore::RecordStore(const std::string& path) : path_(path) {
  if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr) !=
      SQLITE_OK) {
    const std::string why = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    throw Error(path + ": cannot open the records database: " + why);
  }
  sqlite3_busy_timeout(db_, 5000);
  char* err = nullptr;
  // WAL with synchronous=NORMAL: a commit is in the log before put() returns,
  // so a killed process loses nothing committed (an OS crash may lose the last
  // commits, never corrupt the file).
  const std::string setup = std::string("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;") + kSchema;
  if (sqlite3_exec(db_, setup.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    const std::string why = err ? err : "unknown error";
    sqlite3_free(err);
    sqlite3_close(db_);
    db_ = nullptr;
    throw Error(path + ": not a records database (" + why + ")");
  }
  add_stages_column(db_);
}

RecordStore::~RecordStore() { sqlite3_close(db_); }

std::optional<Record> RecordStore::find(const std::string& task, const std::string& model,
                                        const std::string& example_id) const {
  std::lock_guard lock(mu_);
  Statement s(db_, std::string("SELECT ") + kColumns + " FROM records WHERE task=?1 AND model=?2 AND example_id=?3",
              path_);
  s.text(1, task);
  s.text(2, model);
  s.text(3, example_id);
  if (sqlite3_step(s.get()) == SQLITE_ROW) return read_row(s.get());
  return std::nullopt;
}

void RecordStore::put(const Record& r) {
  std::lock_guard lock(mu_);
  Statement s(db_, std::string("INSERT INTO records (") + kColumns +
                       ") VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17)",
              path_);
  s.text(1, r.task);
  s.text(2, r.model);
  s.text(3, r.example_id);
  sqlite3_bind_int64(s.get(), 4, r.example_index);
  s.text(5, r.prompt_hash);
  s.text(6, r.output);
  if (r.extracted) s.text(7, *r.extracted);
  s.text(8, r.gold);
  if (r.correct) sqlite3_bind_int(s.get(), 9, *r.correct);
  s.text(10, dump(r.metrics));
  s.text(11, dump(r.tokens));
  sqlite3_bind_double(s.get(), 12, r.latency_ms);
  sqlite3_bind_double(s.get(), 13, r.cost);
  s.text(14, r.answered_by);
  s.text(15, dump(r.trace));
  s.text(16, r.note);
  s.text(17, dump(r.stages));
  if (sqlite3_step(s.get()) != SQLITE_DONE)
    throw Error(path_ + ": cannot write the record of " + r.task + "/" + r.model + "/" + r.example_id + ": " +
                sqlite3_errmsg(db_));
}

std::vector<Record> RecordStore::all(const std::string& task, const std::string& model) const {
  std::lock_guard lock(mu_);
  const bool every = task.empty() && model.empty();
  Statement s(db_, std::string("SELECT ") + kColumns + " FROM records" +
                       (every ? "" : " WHERE task=?1 AND model=?2") + " ORDER BY task, model, example_index",
              path_);
  if (!every) {
    s.text(1, task);
    s.text(2, model);
  }
  std::vector<Record> out;
  int rc;
  while ((rc = sqlite3_step(s.get())) == SQLITE_ROW) out.push_back(read_row(s.get()));
  if (rc != SQLITE_DONE) throw Error(path_ + ": cannot read the records: " + sqlite3_errmsg(db_));
  return out;
}

}  // namespace tandem::eval
