// Reading a task's dataset and rendering its prompts (eval/task.h).
#include <filesystem>
#include <fstream>

#include "eval/hash.h"
#include "eval/task.h"
#include "util/error.h"

namespace tandem::eval {
namespace {

std::string render(const chat::jinja::Template& t, const nlohmann::ordered_json& row, const std::string& where) {
  try {
    return t.render(row);
  } catch (const Error& e) {
    throw Error(where + ": " + e.what());
  }
}

std::vector<std::string> render_choices(const TaskSpec& task, const nlohmann::ordered_json& row,
                                        const std::string& where) {
  std::vector<std::string> out;
  if (task.doc_to_choice.size() > 1) {
    for (const auto& t : task.doc_to_choice) out.push_back(render(*t, row, where));
    return out;
  }
  // One template: its output is a list (the interpreter prints lists as JSON).
  const std::string text = render(*task.doc_to_choice[0], row, where);
  const nlohmann::json list = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!list.is_array() || list.size() < 2)
    throw Error(where + ": doc_to_choice must give a list of at least two choices, got '" + text.substr(0, 60) + "'");
  for (const nlohmann::json& c : list) {
    if (c.is_string()) out.push_back(c.get<std::string>());
    else if (c.is_number()) out.push_back(c.dump());
    else throw Error(where + ": doc_to_choice gave a choice that is not a string: " + c.dump());
  }
  return out;
}

// The gold choice named by a target: an index, a choice's text, or a letter.
int gold_index(const std::string& target, const std::vector<std::string>& choices, const std::string& where) {
  const int n = static_cast<int>(choices.size());
  if (!target.empty() && target.find_first_not_of("0123456789") == std::string::npos && target.size() < 6) {
    const int i = std::stoi(target);
    if (i < n) return i;
  }
  for (int i = 0; i < n; ++i)
    if (choices[static_cast<size_t>(i)] == target) return i;
  if (target.size() == 1 && target[0] >= 'A' && target[0] < 'A' + n) return target[0] - 'A';
  throw Error(where + ": doc_to_target gave '" + target.substr(0, 60) + "', which is no index, letter or text of the " +
              std::to_string(n) + " choices");
}

}  // namespace

std::vector<Example> load_examples(const TaskSpec& task, const TaskPath& path) {
  std::ifstream in(path.resolved, std::ios::binary);
  if (!in) {
    std::string msg = "task " + task.name + ": dataset file " + path.resolved + " not found (" + path.where + " names '" +
                      path.text + "'";
    if (path.text.starts_with("${TANDEM_SHARED_DIR}"))
      msg += "; the built-in tasks read the shared data folder: set TANDEM_SHARED_DIR or --shared-dir";
    else if (!std::filesystem::path(path.text).is_absolute())
      msg += ", looked for beside the task file and in the working directory";
    throw Error(msg + ")");
  }
  std::vector<Example> out;
  std::string line;
  for (int64_t n = 1; std::getline(in, line); ++n) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const std::string where = path.resolved + ":" + std::to_string(n);
    Example e;
    e.row = nlohmann::ordered_json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (e.row.is_discarded() || !e.row.is_object()) throw Error(where + ": not a JSON object");
    e.index = static_cast<int64_t>(out.size());
    const auto id = e.row.find("id");
    e.id = id == e.row.end() ? std::to_string(e.index) : id->is_string() ? id->get<std::string>() : id->dump();
    e.text = render(*task.doc_to_text, e.row, where);
    if (task.doc_to_target) e.target = render(*task.doc_to_target, e.row, where);
    if (task.output_type == OutputType::kMultipleChoice) {
      e.choices = render_choices(task, e.row, where);
      e.gold = gold_index(e.target, e.choices, where);
    }
    out.push_back(std::move(e));
  }
  if (out.empty()) throw Error("task " + task.name + ": " + path.resolved + " holds no rows");
  return out;
}

std::vector<Example> load_examples(const TaskSpec& task) { return load_examples(task, task.dataset); }

std::string shot_answer(const Example& e) {
  return e.gold >= 0 ? e.choices[static_cast<size_t>(e.gold)] : e.target;
}

std::string build_prompt(const TaskSpec& task, const Example& example, const std::vector<Example>& fewshot,
                         uint64_t seed) {
  std::string prompt = task.description;
  if (task.num_fewshot > 0) {
    std::vector<size_t> pool;
    for (size_t i = 0; i < fewshot.size(); ++i)
      if (fewshot[i].id != example.id) pool.push_back(i);
    if (pool.size() < static_cast<size_t>(task.num_fewshot))
      throw Error("task " + task.name + ": num_fewshot is " + std::to_string(task.num_fewshot) + " but " +
                  (task.fewshot ? task.fewshot->resolved : std::string("the few-shot split")) + " has only " +
                  std::to_string(pool.size()) + " other examples");
    // A partial Fisher-Yates shuffle by SplitMix64 (defined bit for bit, unlike
    // std::shuffle), seeded per example.
    uint64_t state = seed ^ fnv1a64(example.id);
    for (int k = 0; k < task.num_fewshot; ++k) {
      const size_t j = static_cast<size_t>(k) + static_cast<size_t>(splitmix64(state) % (pool.size() - static_cast<size_t>(k)));
      std::swap(pool[static_cast<size_t>(k)], pool[j]);
      const Example& shot = fewshot[pool[static_cast<size_t>(k)]];
      prompt += shot.text + task.target_delimiter + shot_answer(shot) + task.fewshot_delimiter;
    }
  }
  return prompt + example.text;
}

}  // namespace tandem::eval
